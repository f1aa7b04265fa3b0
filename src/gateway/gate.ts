/**
 * Step 3 (docs/architecture.md): one round trip to the grant's Durable Object, which
 * authenticates, evaluates, reserves and makes the decision records durable. Outcomes waiting in
 * this isolate's outbox ride along (src/grant/outbox.ts). Bounded in time: if the object does not
 * answer, the caller fails closed.
 */
import type { GrantObject } from "../grant/object";
import { enqueueSettlement, OUTBOX_FLUSH_MS, returnSettlements, takeSettlements } from "../grant/outbox";
import type { GateRequest, GateResult, MessageSummary, Settlement } from "../grant/protocol";
import { isJsonObject } from "../mcp/json";
import { messagesOf, type JsonRpcMessage } from "../mcp/jsonrpc";
import { TASK_METHODS } from "../grant/decide";
import type { McpRequest } from "./read";
import { describeRejection, type GatewayRejection } from "./rejection";

export type GrantStub = DurableObjectStub<GrantObject>;

export function grantStub(env: Env, grantId: string): GrantStub {
  return env.GRANTS.get(env.GRANTS.idFromName(grantId));
}

/** What the grant's Durable Object is told about one parsed message. */
export function summarize(message: JsonRpcMessage): MessageSummary {
  if (message.kind === "notification") return { kind: "notification", method: message.method };
  if (message.kind === "response") return { kind: "response", id: message.id };
  if (message.call !== undefined) return { kind: "request", method: message.method, id: message.id, tool: message.call.tool, args: message.call.args };
  const taskId = TASK_METHODS.has(message.method) && isJsonObject(message.params) ? message.params.taskId : undefined;
  if (typeof taskId === "string") return { kind: "request", method: message.method, id: message.id, taskId };
  return { kind: "request", method: message.method, id: message.id };
}

/** The messages to decide: the parsed ones, or one "invalid" standing for a request refused while reading. */
export function summaries(read: { ok: true; value: McpRequest } | { ok: false; error: GatewayRejection }): MessageSummary[] {
  if (!read.ok) {
    const wire = describeRejection(read.error);
    return [{ kind: "invalid", code: wire.code, reason: wire.message }];
  }
  return read.value.body === null ? [] : messagesOf(read.value.body).map(summarize);
}

/** The Durable Object's answer, or null when it threw or did not answer within `timeoutMs`. */
export async function gate(stub: GrantStub, grantId: string, request: GateRequest, timeoutMs: number): Promise<GateResult | null> {
  const settlements = takeSettlements(grantId);
  // The caller's request is left as it is, so asking again (a held call) carries no outcome twice.
  const sent = settlements.length > 0 ? { ...request, settlements } : request;
  const result = await withinMs(stub.gate(sent) as Promise<GateResult>, timeoutMs);
  if (result === null) returnSettlements(grantId, settlements);
  return result;
}

/** A Durable Object call's answer, or null when it throws or does not answer within `ms`. */
export async function withinMs<T>(call: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      call,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), ms);
      }),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Records an outcome after the response: through the outbox, so that it usually rides on the
 * grant's next gate() instead of costing a round trip of its own. A closed session is settled at
 * once, so the session id stops working on the very next request.
 */
export function deliverOutcome(waitUntil: (p: Promise<unknown>) => void, stub: GrantStub, grantId: string, settlement: Settlement): void {
  if (settlement.sessionClosed !== null) {
    waitUntil(stub.settle(settlement).catch(() => {}));
    return;
  }
  if (!enqueueSettlement(grantId, settlement)) return;
  waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, OUTBOX_FLUSH_MS));
      const batch = takeSettlements(grantId);
      // A failure here leaves the requests pending in the Durable Object; its alarm records them.
      if (batch.length > 0) await stub.settle(batch).catch(() => {});
    })(),
  );
}

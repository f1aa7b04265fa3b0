/**
 * Holding a call that waits for a person's approval (docs/approvals.md, "The agent's experience").
 *
 * When the grant's object answers a single tools/call with `approval_pending`, the call is held
 * open for up to APPROVAL_HOLD_MS while the gateway waits on the object (`awaitApproval`, which
 * resolves the moment someone decides). Approved: the gateway asks the object again, which
 * consumes the approval in that gate() step, and the call is forwarded and answered as usual.
 * Rejected: asked again too, so the log records the rejection the agent is given. Expired while
 * held, or still undecided at the end: the agent gets that answer and calls again later.
 *
 * A client that sent a progressToken and accepts SSE is answered with an event stream at once: a
 * progress notification now and every APPROVAL_PROGRESS_MS, then the final answer as an event (a
 * forwarded call's answer is re-framed: its SSE events follow, or its JSON becomes one event).
 * Other clients get the final answer as JSON. Batches are never held (the batch rule answers them).
 */
import { isoTime } from "../clock";
import { expiredDenial } from "../grant/approvals";
import type { GateResult, MessageDecision } from "../grant/protocol";
import { isJsonObject, parseStrictJson } from "../mcp/json";
import { classifyMessage, jsonRpcError, RpcErrorCode, type JsonRpcId, type JsonRpcMessage } from "../mcp/jsonrpc";
import { isStateless, revisionOf } from "../mcp/revision";
import { isNullIdError } from "../mcp/shape";
import { serializeSseEvent } from "../mcp/sse";
import { toolCallDenial } from "./answer";
import { gate, withinMs } from "./gate";
import { gateRefusal } from "./rejection";
import { relayForwarded } from "./relay";
import type { Exchange } from "./route";
import type { GatewaySettings } from "./settings";

type Denied = Extract<MessageDecision, { outcome: "deny" }>;
type Gated = Extract<GateResult, { ok: true }>;

/** The call being held: its message, what it waits for, and how to tell its client. */
export interface HeldCall {
  message: Extract<JsonRpcMessage, { kind: "request" }> & { call: { tool: string } };
  waiting: Denied & { approval: { id: string; expiresAt: string } };
  progressToken: string | number | null;
  stateless: boolean;
}

/** How a hold ends. */
type HoldEnd =
  | { kind: "forward"; gated: Gated }
  | { kind: "answer"; gated: Gated; decision: Denied }
  | { kind: "refused"; result: Extract<GateResult, { ok: false }> | null };

/** The call to hold, or null: holding is off, or this is not a single tools/call waiting for approval. */
export function heldCall(x: Exchange, settings: GatewaySettings): HeldCall | null {
  const body = x.request.body;
  const decision = x.gated.decisions[0];
  if (settings.approvalHoldMs <= 0 || body?.kind !== "single" || decision?.outcome !== "deny") return null;
  const message = body.message;
  if (message.kind !== "request" || message.call === undefined || decision.code !== "approval_pending" || decision.approval === undefined) return null;
  const meta = isJsonObject(message.params) && isJsonObject(message.params._meta) ? message.params._meta : null;
  const token = meta?.progressToken;
  return {
    message: message as HeldCall["message"],
    waiting: decision as HeldCall["waiting"],
    progressToken: typeof token === "string" || typeof token === "number" ? token : null,
    stateless: isStateless(revisionOf(message, x.request.headers.protocolVersion)),
  };
}

export async function holdForApproval(x: Exchange, held: HeldCall, settings: GatewaySettings): Promise<Response> {
  const streams = held.progressToken !== null && (x.request.headers.accept ?? "").toLowerCase().includes("text/event-stream");
  if (!streams) return answerAfterHold(x, held, await waitForDecision(x, held, settings, async () => {}), settings);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  x.c.executionCtx.waitUntil(streamHold(x, held, settings, writable.getWriter()));
  return new Response(readable, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

/**
 * Waits, in slices of the progress interval, until the request is decided or the hold ends;
 * `progress` is called after every slice that ended undecided.
 */
async function waitForDecision(
  x: Exchange,
  held: HeldCall,
  settings: GatewaySettings,
  progress: (waiting: HeldCall["waiting"]) => Promise<void>,
): Promise<HoldEnd> {
  const deadline = x.clock() + settings.approvalHoldMs;
  const signal = x.c.req.raw.signal;
  let gated = x.gated;
  let waiting = held.waiting;
  for (;;) {
    const remaining = deadline - x.clock();
    if (remaining <= 0 || signal.aborted) return { kind: "answer", gated, decision: waiting };
    const status = await awaitDecision(x, waiting.approval.id, Math.min(remaining, settings.approvalProgressMs));
    if (signal.aborted) return { kind: "answer", gated, decision: waiting };
    if (status === "pending" || status === null) {
      // null: the object did not answer (evicted, restarting); ask again after a pause.
      if (status === null) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - x.clock()))));
      if (x.clock() < deadline) await progress(waiting);
      continue;
    }
    if (status === "expired") {
      return { kind: "answer", gated, decision: { outcome: "deny", ...expiredDenial(waiting.approval.id, waiting.rule, waiting.approval.expiresAt) } };
    }
    // Decided: the object's next gate() step consumes an approval (or states the rejection).
    const result = await gate(x.stub, x.context.grantId, x.gateRequest, settings.gateTimeoutMs);
    if (result === null || !result.ok) return { kind: "refused", result };
    const decision = result.decisions[0];
    if (decision?.outcome === "forward") return { kind: "forward", gated: result };
    if (decision?.outcome !== "deny") return { kind: "refused", result: null };
    if (decision.code !== "approval_pending" || decision.approval === undefined) return { kind: "answer", gated: result, decision };
    // Someone else's identical call took the approval: this call now waits on a new request.
    gated = result;
    waiting = decision as HeldCall["waiting"];
  }
}

/** The object's `awaitApproval`, bounded: null when it throws or does not answer in time. */
const awaitDecision = (x: Exchange, id: string, ms: number) => withinMs(x.stub.awaitApproval(id, ms), ms + 5_000);

/** The response once the hold ended: the forwarded call's, the denial, or a refusal. */
async function answerAfterHold(x: Exchange, held: HeldCall, end: HoldEnd, settings: GatewaySettings): Promise<Response> {
  switch (end.kind) {
    case "forward":
      return relayForwarded({ ...x, gated: end.gated, started: x.clock() }, settings);
    case "answer": {
      const policyDefault = end.gated.visibility?.default ?? null;
      return Response.json(toolCallDenial(held.message.id, held.message.call.tool, end.decision, policyDefault, held.stateless));
    }
    case "refused":
      return gateRefusal(end.result, x.request.body, x.request.headers.protocolVersion, x.context);
  }
}

/** The SSE answer: progress now and after every undecided slice, then the final answer as events. */
async function streamHold(x: Exchange, held: HeldCall, settings: GatewaySettings, writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
  const encoder = new TextEncoder();
  let step = 0;
  const progress = async (waiting: HeldCall["waiting"]): Promise<void> => {
    step += 1;
    const params = {
      progressToken: held.progressToken,
      progress: step,
      message: `waiting for approval ${waiting.approval.id} (expires ${expiryLabel(waiting.approval.expiresAt, x.clock())})`,
    };
    await writer.write(encoder.encode(serializeSseEvent({ data: JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params }) })));
  };
  try {
    await progress(held.waiting);
    const response = await answerAfterHold(x, held, await waitForDecision(x, held, settings, progress), settings);
    await reframe(response, held.message.id, writer);
  } catch {
    // The client went away; the relay has cancelled the upstream call and recorded the outcome.
  } finally {
    await writer.close().catch(() => {});
  }
}

/** Writes an answer into the held call's event stream: SSE passes on as it is, JSON becomes one event. */
async function reframe(response: Response, id: JsonRpcId, writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
  const type = (response.headers.get("content-type") ?? "").toLowerCase();
  if (type.startsWith("text/event-stream") && response.body !== null) {
    // Already parsed and re-emitted event by event by the gateway (src/gateway/respond.ts).
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) await writer.write(chunk.value);
    return;
  }
  const text = await response.text();
  const data = response.ok ? (parsesAsJson(text) ? text : null) : answersCall(text, id) ? text : null;
  const failed = JSON.stringify(jsonRpcError(id, RpcErrorCode.UpstreamInvalid, `The upstream server answered HTTP ${response.status}`));
  await writer.write(new TextEncoder().encode(serializeSseEvent({ data: data ?? failed })));
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an error status's body is one JSON-RPC answer to the held call (or an error without an
 * id): the gateway's own refusals, and an upstream's error answer it checked. Any other body
 * passed the relay only because an HTTP error is no message to a client (src/gateway/respond.ts);
 * written into this stream it would become one, unchecked.
 */
function answersCall(text: string, id: JsonRpcId): boolean {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return false;
  const message = classifyMessage(parsed.value);
  return message.ok ? message.value.kind === "response" && message.value.id === id : isNullIdError(parsed.value);
}

/** "14:32 UTC" today, "2026-07-30 14:32 UTC" on a later day. */
export function expiryLabel(expiresAt: string, now: number): string {
  const sameDay = expiresAt.slice(0, 10) === isoTime(now).slice(0, 10);
  return `${sameDay ? expiresAt.slice(11, 16) : `${expiresAt.slice(0, 10)} ${expiresAt.slice(11, 16)}`} UTC`;
}

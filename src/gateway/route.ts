/**
 * The gateway: `/mcp/<grant-id>` (and, for PolicyLayer compatibility, `/mcp/<server-id>`). This
 * file only composes the steps, in the order a request meets them (docs/architecture.md):
 *   authenticate → read → gate (the grant's Durable Object) → answer locally, or hold a call that
 *   waits for a person's approval, or forward → map the upstream's outcome → bind the session →
 *   relay the answer → record the outcome.
 * If the grant's Durable Object cannot answer, nothing is forwarded (fail closed).
 */
import { Hono, type Context } from "hono";
import { systemClock, type Clock } from "../clock";
import type { GateRequest, GateResult, Settlement } from "../grant/protocol";
import { newRequestId } from "../grant/token";
import { messagesOf } from "../mcp/jsonrpc";
import { deniedResponse } from "./answer";
import { authenticate, type Caller } from "./authenticate";
import { deliverOutcome, gate, grantStub, summaries, type GrantStub } from "./gate";
import { heldCall, holdForApproval } from "./hold";
import { readRequest, type McpRequest } from "./read";
import { relayForwarded } from "./relay";
import { gateRefusal, renderRejection, type RejectionContext } from "./rejection";
import { gatewaySettings } from "./settings";

export type GatewayContext = Context<{ Bindings: Env }>;

/** One request's identity and the grant's answer, as the later steps need them. */
export interface Exchange {
  c: GatewayContext;
  clock: Clock;
  caller: Caller;
  request: McpRequest;
  stub: GrantStub;
  /** What was asked of the grant's object; asked again for a call held for approval. */
  gateRequest: GateRequest;
  gated: Extract<GateResult, { ok: true }>;
  context: RejectionContext;
  started: number;
  /** Records the outcome; a step may wrap it (server-wide limits release their quota with it). */
  deliver: (settlement: Settlement) => void;
}

export function createGateway(clock: Clock = systemClock): Hono<{ Bindings: Env }> {
  const gateway = new Hono<{ Bindings: Env }>();
  gateway.all("/:id", async function mcp(c) {
    const settings = gatewaySettings(c.env);
    const caller = authenticate(c.req.raw, c.req.param("id") ?? "", settings);
    if (!caller.ok) return renderRejection(caller.error);
    const read = await readRequest(c.req.raw, settings.maxBodyBytes);
    const context = { grantId: caller.value.grantId, requestId: newRequestId() };
    const stub = grantStub(c.env, caller.value.grantId);
    const started = clock();
    const gateRequest: GateRequest = {
      requestId: context.requestId,
      tokenHash: caller.value.tokenHash,
      route: caller.value.route,
      httpMethod: c.req.method,
      sessionId: c.req.header("mcp-session-id") ?? null,
      messages: summaries(read),
      origin: new URL(c.req.url).origin,
    };
    const gated = await gate(stub, context.grantId, gateRequest, settings.gateTimeoutMs);
    if (gated === null || !gated.ok) return gateRefusal(gated, read.ok ? read.value.body : null, c.req.header("mcp-protocol-version") ?? null, context);
    if (!read.ok) return renderRejection(read.error, context);
    const deliver = (s: Settlement) => deliverOutcome((p) => c.executionCtx.waitUntil(p), stub, context.grantId, s);
    const exchange: Exchange = { c, clock, caller: caller.value, request: read.value, stub, gateRequest, gated, context, started, deliver };
    if (gated.decisions.some((d) => d.outcome === "deny")) {
      const held = heldCall(exchange, settings);
      return held === null ? answerDenied(exchange) : holdForApproval(exchange, held, settings);
    }
    return relayForwarded(exchange, settings);
  });
  return gateway;
}

/** Answer locally: some message was denied, so nothing of the request reaches the upstream. */
function answerDenied({ request, gated, deliver, context }: Exchange): Response {
  const messages = request.body === null ? [] : messagesOf(request.body);
  if (gated.decisions.some((d) => d.outcome === "forward")) {
    // The batch's allowed messages reserved quota; the upstream never received them.
    deliver({
      requestId: context.requestId,
      seq: gated.seq,
      status: null,
      latencyMs: 0,
      upstreamReceived: false,
      error: "batch_denied",
      sessionOpened: null,
      sessionClosed: null,
    });
  }
  return deniedResponse(request, messages, gated.decisions, gated.visibility?.default ?? null);
}

/**
 * The gateway: `/mcp/<grant-id>` (and, for PolicyLayer compatibility, `/mcp/<server-id>`).
 *
 * A request meets, in order:
 *   1. origin check (DNS rebinding), bearer token shape            -> 403 / 401
 *   2. body size limit, strict JSON and JSON-RPC parsing            -> 413 / 400 (recorded)
 *   3. the grant's Durable Object: authenticate, evaluate, reserve,
 *      durable decision record — one round trip                     -> 401 / 404 / denial
 *   4. forward the canonical re-serialization to the upstream
 *   5. shape the response (SSE re-framed, tools/list filtered), settle the outcome after it
 * If the Durable Object cannot answer, nothing is forwarded (fail closed).
 */
import { Hono, type Context } from "hono";
import type { GateRequest, GateResult, MessageDecision, MessageSummary, Settlement, Upstream } from "./grant/protocol";
import type { GrantObject } from "./grant/object";
import { enqueueSettlement, OUTBOX_FLUSH_MS, returnSettlements, takeSettlements } from "./grant/outbox";
import { hashToken, newRequestId, parseGrantToken } from "./grant/token";
import { denialResponse } from "./mcp/denial";
import { checkRoutingHeaders } from "./mcp/routing-headers";
import { callUpstream, shapeResponse, upstreamRequestHeaders, type UpstreamAbort } from "./mcp/forward";
import { jsonRpcError, messagesOf, parseBody, RpcErrorCode, serializeBody, toolCallTarget, type JsonRpcId, type JsonRpcMessage, type ParsedBody } from "./mcp/jsonrpc";
import { isToolVisible } from "./policy/visibility";
import { err, type Result } from "./result";

type GatewayContext = Context<{ Bindings: Env }>;

/** Batches were part of MCP only in this revision (MCP-NOTES "Two eras"). */
const BATCH_PROTOCOL_VERSION = "2025-03-26";
/** From this revision on, MCP is stateless and closing the stream cancels a request. */
const STATELESS_PROTOCOL_VERSION = "2026-07-28";

export const gateway = new Hono<{ Bindings: Env }>();

gateway.on(["POST", "GET", "DELETE"], "/:id", handleMcp);
gateway.all("/:id", (c) => c.json(jsonRpcError(null, RpcErrorCode.InvalidRequest, "Method not allowed"), 405, { allow: "GET, POST, DELETE" }));

function jsonRpcErrorResponse(status: number, id: JsonRpcId | null, code: number, message: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(jsonRpcError(id, code, message)), { status, headers: h });
}

function unauthorized(): Response {
  // No detail that helps guessing: unknown grant, wrong token and revoked all look alike.
  return jsonRpcErrorResponse(401, null, -32000, "Unauthorized", { "www-authenticate": 'Bearer realm="mcp-policy-gateway"' });
}

function originAllowed(origin: string | null, allowed: string): boolean {
  if (origin === null) return true; // non-browser clients send no Origin
  return allowed
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "")
    .includes(origin);
}

/** Reads the body up to `limit` bytes; null when it is larger. */
async function readBodyWithLimit(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return null;
  if (request.body === null) return new Uint8Array();
  // The runtime enforces a declared length (a shorter or longer body is an error), so a body that
  // declared one within the limit can be read in one native call.
  if (declared !== null) return new Uint8Array(await request.arrayBuffer());
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Why the 2026-07-28 routing headers disagree with the body, or null when they agree (or are absent). */
function routingHeadersMismatch(headers: Headers, body: ParsedBody): string | null {
  const routing = { method: headers.get("mcp-method"), name: headers.get("mcp-name") };
  if (routing.method === null && routing.name === null) return null;
  if (body.kind === "batch") return "Mcp-Method and Mcp-Name cannot describe a batch";
  const checked = checkRoutingHeaders(routing, body.message);
  return checked.ok ? null : checked.error;
}

/** Why a request body is refused before any policy sees it: the HTTP status and the JSON-RPC error. */
interface Rejection {
  status: number;
  id: JsonRpcId | null;
  code: number;
  message: string;
}

/**
 * Reads and parses a POST body: size limit (413), strict UTF-8, strict JSON and JSON-RPC, batches
 * only in 2025-03-26, and 2026-07-28 routing headers that agree with the body.
 */
async function readMessages(request: Request, limit: number): Promise<Result<ParsedBody, Rejection>> {
  const bytes = await readBodyWithLimit(request, limit);
  if (bytes === null) return err({ status: 413, id: null, code: RpcErrorCode.BodyTooLarge, message: `Request body exceeds ${limit} bytes` });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return err({ status: 400, id: null, code: RpcErrorCode.ParseError, message: "Request body is not valid UTF-8" });
  }
  const parsed = parseBody(text);
  if (!parsed.ok) return err({ status: 400, id: parsed.error.id, code: parsed.error.code, message: parsed.error.message });
  if (parsed.value.kind === "batch" && request.headers.get("mcp-protocol-version") !== BATCH_PROTOCOL_VERSION) {
    return err({ status: 400, id: null, code: RpcErrorCode.InvalidRequest, message: "JSON-RPC batches are only accepted in protocol version 2025-03-26" });
  }
  const mismatch = routingHeadersMismatch(request.headers, parsed.value);
  if (mismatch !== null) return err({ status: 400, id: null, code: RpcErrorCode.HeaderMismatch, message: mismatch });
  return parsed;
}

/** What the grant's Durable Object is told about one parsed message. */
function summarize(message: JsonRpcMessage): MessageSummary {
  if (message.kind === "notification") return { kind: "notification", method: message.method };
  if (message.kind === "response") return { kind: "response", id: message.id };
  if (message.method !== "tools/call") return { kind: "request", method: message.method, id: message.id };
  const target = toolCallTarget(message);
  if (!target.ok) return { kind: "invalid", code: target.error.code, reason: target.error.message };
  return { kind: "request", method: message.method, id: message.id, tool: target.value.tool, args: target.value.args };
}

type GrantStub = DurableObjectStub<GrantObject>;

/**
 * The grant's Durable Object, with a bound on how long the gateway waits for it. Outcomes waiting
 * in this isolate's outbox ride along; they go back to the outbox if the call fails.
 */
async function gate(stub: GrantStub, grantId: string, request: GateRequest, timeoutMs: number): Promise<GateResult | null> {
  const settlements = takeSettlements(grantId);
  if (settlements.length > 0) request.settlements = settlements;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      stub.gate(request) as Promise<GateResult>,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      }),
    ]);
    if (result === null) returnSettlements(grantId, settlements);
    return result;
  } catch {
    returnSettlements(grantId, settlements);
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Records an outcome after the response: through the outbox (src/grant/outbox.ts), so that it
 * usually rides on the grant's next gate() instead of costing a round trip of its own. A closed
 * session is settled at once, so the session id stops working on the very next request.
 */
function deliverOutcome(c: GatewayContext, stub: GrantStub, grantId: string, settlement: Settlement): void {
  if (settlement.sessionClosed !== null) {
    c.executionCtx.waitUntil(stub.settle(settlement).catch(() => {}));
    return;
  }
  if (!enqueueSettlement(grantId, settlement)) return;
  c.executionCtx.waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, OUTBOX_FLUSH_MS));
      const batch = takeSettlements(grantId);
      // A failure here leaves the requests pending in the Durable Object; its alarm records them.
      if (batch.length > 0) await stub.settle(batch).catch(() => {});
    })(),
  );
}

/** Fail closed: the policy could not be consulted, so nothing is forwarded. */
function policyUnavailable(body: ParsedBody | null): Response {
  const message = "The policy service is unavailable; the request was not forwarded. Try again shortly.";
  if (body?.kind === "single" && body.message.kind === "request" && body.message.method === "tools/call") {
    const target = toolCallTarget(body.message);
    const tool = target.ok ? target.value.tool : "";
    return Response.json(denialResponse(body.message.id, tool, { outcome: "deny", code: "unavailable", rule: null, message }, null), { status: 200 });
  }
  const id = body?.kind === "single" && body.message.kind === "request" ? body.message.id : null;
  return jsonRpcErrorResponse(503, id, RpcErrorCode.PolicyUnavailable, message, { "retry-after": "1" });
}

/** The agent-facing answer for a message the gateway does not forward. */
function localAnswer(message: JsonRpcMessage, decision: Extract<MessageDecision, { outcome: "deny" }>, policyDefault: "allow" | "deny" | null) {
  if (message.kind !== "request") return null; // notifications and responses get no answer
  if (message.method === "tools/call") {
    const target = toolCallTarget(message);
    return denialResponse(message.id, target.ok ? target.value.tool : "", decision, policyDefault);
  }
  return jsonRpcError(message.id, RpcErrorCode.InvalidRequest, decision.message);
}

async function handleMcp(c: GatewayContext): Promise<Response> {
  const request = c.req.raw;
  const env = c.env;
  const httpMethod = request.method;

  if (!originAllowed(request.headers.get("origin"), env.ALLOWED_ORIGINS ?? "")) {
    return jsonRpcErrorResponse(403, null, -32000, "Origin not allowed");
  }

  const authorization = request.headers.get("authorization") ?? "";
  const bearer = /^Bearer (\S+)$/i.exec(authorization)?.[1];
  const token = bearer === undefined ? null : parseGrantToken(bearer);
  if (bearer === undefined || token === null) return unauthorized();
  const routeId = c.req.param("id") ?? "";
  const route: GateRequest["route"] = routeId === token.grantId ? { kind: "grant" } : { kind: "server", serverId: routeId };

  // 2. Parse. A body that fails here is still recorded by the grant (below), then answered.
  let body: ParsedBody | null = null;
  let rejection: Rejection | null = null;
  const messages: MessageSummary[] = [];
  if (httpMethod === "POST") {
    const parsed = await readMessages(request, Number(env.MAX_BODY_BYTES) || 4 * 1024 * 1024);
    if (!parsed.ok) {
      rejection = parsed.error;
      messages.push({ kind: "invalid", code: rejection.code, reason: rejection.message });
    } else {
      body = parsed.value;
      for (const m of messagesOf(body)) messages.push(summarize(m));
    }
  }

  // 3. One round trip to the grant's Durable Object.
  const requestId = newRequestId();
  const gateRequest: GateRequest = {
    requestId,
    tokenHash: hashToken(bearer),
    route,
    httpMethod,
    sessionId: request.headers.get("mcp-session-id"),
    messages,
  };
  const started = Date.now();
  const stub = env.GRANTS.get(env.GRANTS.idFromName(token.grantId));
  const result = await gate(stub, token.grantId, gateRequest, Number(env.GATE_TIMEOUT_MS) || 10_000);
  if (result === null) return policyUnavailable(body);
  if (!result.ok) {
    if (result.reason === "unknown_session") return jsonRpcErrorResponse(404, null, -32001, "Session not found");
    return unauthorized();
  }
  if (rejection !== null) return jsonRpcErrorResponse(rejection.status, rejection.id, rejection.code, rejection.message);

  const parsedMessages = body === null ? [] : messagesOf(body);
  const denied = result.decisions.some((d) => d.outcome === "deny");
  if (denied) {
    // Answer locally. In a batch, one denial keeps the whole batch from the upstream (the gateway
    // never splits a batch); its other requests are told why.
    const answers = parsedMessages.flatMap((m, i) => {
      const d = result.decisions[i];
      if (d?.outcome === "deny") return [localAnswer(m, d, result.visibility?.default ?? null)].filter((a) => a !== null);
      if (m.kind !== "request") return [];
      return [jsonRpcError(m.id, RpcErrorCode.InvalidRequest, "Not forwarded: another message in this batch was denied")];
    });
    if (result.decisions.some((d) => d.outcome === "forward")) {
      // The batch's allowed messages reserved quota; the upstream never received them.
      const released: Settlement = { requestId, seq: result.seq, status: null, latencyMs: 0, upstreamReceived: false, error: "batch_denied", sessionOpened: null, sessionClosed: null };
      deliverOutcome(c, stub, token.grantId, released);
    }
    if (body?.kind === "batch") return Response.json(answers);
    const only = answers[0];
    return only === undefined ? new Response(null, { status: 202 }) : Response.json(only);
  }

  // 4. Forward the canonical re-serialization, never the bytes the agent sent.
  const upstreamConfig = result.upstream;
  const headers = upstreamRequestHeaders(request.headers, upstreamConfig);
  const forwardedBody = body === null ? undefined : serializeBody(body);
  const requestIds = new Set<JsonRpcId>();
  const toolsListIds = new Set<JsonRpcId>();
  for (const m of parsedMessages) {
    if (m.kind !== "request") continue;
    requestIds.add(m.id);
    if (m.method === "tools/list") toolsListIds.add(m.id);
  }

  // The outcome is recorded once: when the response has been passed on whole, when the agent goes
  // away, or right away for a failure. The Durable Object ignores a second settle of the same seq.
  const settlement: Settlement = {
    requestId,
    seq: result.seq,
    status: null,
    latencyMs: 0,
    upstreamReceived: true,
    error: null,
    sessionOpened: null,
    sessionClosed: null,
  };
  let settled = false;
  const settle = (patch: Partial<Settlement> = {}) => {
    if (settled) return;
    settled = true;
    const final = { ...settlement, ...patch, latencyMs: Date.now() - started };
    deliverOutcome(c, stub, token.grantId, final);
  };
  let answered = false;
  const upstreamAbort = new AbortController();
  const abortUpstream = (reason: UpstreamAbort) => upstreamAbort.abort(reason);
  request.signal.addEventListener("abort", () => {
    abortUpstream("client_cancelled");
    if (answered) return;
    settle({ error: "client_cancelled" });
    c.executionCtx.waitUntil(cancelUpstream(upstreamConfig, request.headers, [...requestIds]));
  });

  // The timeout bounds the time to response headers only: a long-lived SSE stream is not cut off.
  const timer = setTimeout(() => abortUpstream("upstream_timeout"), Number(env.UPSTREAM_TIMEOUT_MS) || 30_000);
  const upstream = await callUpstream(upstreamConfig.url, { method: httpMethod, headers, body: forwardedBody }, upstreamAbort.signal);
  clearTimeout(timer);
  const firstRequest = parsedMessages.find((m) => m.kind === "request");
  const answerId = firstRequest?.kind === "request" ? firstRequest.id : null;
  const serverName = upstreamConfig.serverName;

  if (!upstream.ok) {
    settle({ error: upstream.error.error, upstreamReceived: upstream.error.received });
    if (upstream.error.error === "upstream_timeout") {
      return jsonRpcErrorResponse(504, answerId, RpcErrorCode.UpstreamTimeout, `The upstream server "${serverName}" did not answer in time`);
    }
    return jsonRpcErrorResponse(502, answerId, RpcErrorCode.UpstreamUnavailable, `The upstream server "${serverName}" could not be reached`);
  }
  const response = upstream.value;
  settlement.status = response.status;

  // Never relay an upstream auth challenge: the client would fetch upstream-audience tokens and
  // hand them to the gateway (MCP-NOTES "Authorization").
  if (response.status === 401 || (response.status === 403 && response.headers.has("www-authenticate"))) {
    await response.body?.cancel();
    settle({ error: "upstream_auth" });
    return jsonRpcErrorResponse(
      502,
      answerId,
      RpcErrorCode.UpstreamAuth,
      `The upstream server "${serverName}" rejected the gateway's credentials; an operator must fix the server's credential headers`,
    );
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    settle({ error: "upstream_error" });
    return jsonRpcErrorResponse(502, answerId, RpcErrorCode.UpstreamInvalid, `The upstream server "${serverName}" answered HTTP ${response.status}`);
  }

  // 5. Bind a newly minted session to this grant before the client can use it.
  const sessionId = response.headers.get("mcp-session-id");
  const isInitialize = parsedMessages.some((m) => m.kind === "request" && m.method === "initialize");
  if (isInitialize && sessionId !== null && response.ok) {
    settlement.sessionOpened = sessionId;
    try {
      await stub.bindSession(result.seq, sessionId);
    } catch {
      await response.body?.cancel();
      settle({ error: "unavailable" });
      return policyUnavailable(body);
    }
  }
  if (httpMethod === "DELETE" && response.ok && gateRequest.sessionId !== null) settlement.sessionClosed = gateRequest.sessionId;

  const visibility = result.visibility;
  const shaped = await shapeResponse(response, {
    toolsListIds,
    isToolVisible: (name) => visibility !== null && isToolVisible(visibility, name),
    requestIds: httpMethod === "GET" ? null : requestIds,
    onComplete: (unanswered) => {
      answered = true;
      settle(unanswered.length > 0 ? { error: "upstream_truncated" } : {});
    },
  });
  if (!shaped.ok) {
    settle({ error: "upstream_invalid" });
    return jsonRpcErrorResponse(502, answerId, RpcErrorCode.UpstreamInvalid, `The upstream server "${serverName}" sent an invalid response`);
  }
  // A GET stream lives as long as the session: its outcome is the upstream's answer to opening it.
  if (httpMethod === "GET") settle();
  return shaped.value;
}

/**
 * Tells a legacy-era upstream that the agent gave up on its requests (MCP "Cancellation"). In the
 * 2026-07-28 era closing the stream is the cancellation, which the aborted fetch already did.
 */
async function cancelUpstream(upstream: Upstream, incoming: Headers, ids: JsonRpcId[]): Promise<void> {
  const version = incoming.get("mcp-protocol-version");
  if (ids.length === 0 || (version !== null && version >= STATELESS_PROTOCOL_VERSION)) return;
  const headers = upstreamRequestHeaders(incoming, upstream);
  headers.delete("mcp-method");
  headers.delete("mcp-name");
  headers.set("content-type", "application/json");
  headers.set("accept", "application/json, text/event-stream");
  for (const id of ids) {
    const notification = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "The client disconnected" } };
    try {
      const response = await fetch(upstream.url, { method: "POST", headers, body: JSON.stringify(notification) });
      await response.body?.cancel();
    } catch {
      // The upstream is gone too; nothing left to cancel.
    }
  }
}

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
import type { GateRequest, GateResult, MessageDecision, MessageSummary, Settlement } from "./grant/protocol";
import { hashToken, newRequestId, parseGrantToken } from "./grant/token";
import { denialResponse } from "./mcp/denial";
import { callUpstream, shapeResponse, upstreamRequestHeaders } from "./mcp/forward";
import { jsonRpcError, parseBody, RpcErrorCode, toolCallTarget, type JsonRpcId, type JsonRpcMessage, type ParsedBody } from "./mcp/jsonrpc";
import { isToolVisible } from "./policy/visibility";

type GatewayContext = Context<{ Bindings: Env }>;

/** How long the gateway waits for the grant's Durable Object before failing closed. */
const GATE_TIMEOUT_MS = 10_000;
/** Batches were part of MCP only in this revision (MCP-NOTES "Two eras"). */
const BATCH_PROTOCOL_VERSION = "2025-03-26";

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

/** What the grant's Durable Object is told about one parsed message. */
function summarize(message: JsonRpcMessage): MessageSummary {
  if (message.kind === "notification") return { kind: "notification", method: message.method };
  if (message.kind === "response") return { kind: "response", id: message.id };
  if (message.method !== "tools/call") return { kind: "request", method: message.method, id: message.id };
  const target = toolCallTarget(message);
  if (!target.ok) return { kind: "invalid", code: target.error.code, reason: target.error.message };
  return { kind: "request", method: message.method, id: message.id, tool: target.value.tool, args: target.value.args };
}

/** The grant's Durable Object, with a bound on how long the gateway waits for it. */
async function gate(env: Env, grantId: string, request: GateRequest): Promise<GateResult | null> {
  const stub = env.GRANTS.get(env.GRANTS.idFromName(grantId));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      stub.gate(request) as Promise<GateResult>,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), GATE_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
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
  let rejection: { status: number; id: JsonRpcId | null; code: number; message: string } | null = null;
  const messages: MessageSummary[] = [];
  if (httpMethod === "POST") {
    const limit = Number(env.MAX_BODY_BYTES) || 4 * 1024 * 1024;
    const bytes = await readBodyWithLimit(request, limit);
    if (bytes === null) {
      rejection = { status: 413, id: null, code: RpcErrorCode.BodyTooLarge, message: `Request body exceeds ${limit} bytes` };
    } else {
      let text: string | null = null;
      try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
      } catch {
        rejection = { status: 400, id: null, code: RpcErrorCode.ParseError, message: "Request body is not valid UTF-8" };
      }
      if (text !== null) {
        const parsed = parseBody(text);
        if (!parsed.ok) {
          rejection = { status: 400, id: parsed.error.id, code: parsed.error.code, message: parsed.error.message };
        } else if (parsed.value.kind === "batch" && request.headers.get("mcp-protocol-version") !== BATCH_PROTOCOL_VERSION) {
          rejection = { status: 400, id: null, code: RpcErrorCode.InvalidRequest, message: "JSON-RPC batches are only accepted in protocol version 2025-03-26" };
        } else {
          body = parsed.value;
        }
      }
    }
    if (rejection !== null) messages.push({ kind: "invalid", code: rejection.code, reason: rejection.message });
    else if (body !== null) for (const m of body.kind === "single" ? [body.message] : body.messages) messages.push(summarize(m));
  }

  // 3. One round trip to the grant's Durable Object.
  const requestId = newRequestId();
  const gateRequest: GateRequest = {
    requestId,
    tokenHash: await hashToken(bearer),
    route,
    httpMethod,
    sessionId: request.headers.get("mcp-session-id"),
    messages,
  };
  const started = Date.now();
  const result = await gate(env, token.grantId, gateRequest);
  if (result === null) return policyUnavailable(body);
  if (!result.ok) {
    if (result.reason === "unknown_session") return jsonRpcErrorResponse(404, null, -32001, "Session not found");
    return unauthorized();
  }
  if (rejection !== null) return jsonRpcErrorResponse(rejection.status, rejection.id, rejection.code, rejection.message);

  const parsedMessages = body === null ? [] : body.kind === "single" ? [body.message] : body.messages;
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
      const stub = env.GRANTS.get(env.GRANTS.idFromName(token.grantId));
      const released: Settlement = { requestId, seq: result.seq, status: null, latencyMs: 0, upstreamReceived: false, error: "batch_denied", sessionOpened: null, sessionClosed: null };
      c.executionCtx.waitUntil(stub.settle(released).catch(() => {}));
    }
    if (body?.kind === "batch") return Response.json(answers);
    const only = answers[0];
    return only === undefined ? new Response(null, { status: 202 }) : Response.json(only);
  }

  // 4. Forward the canonical re-serialization, never the bytes the agent sent.
  const stub = env.GRANTS.get(env.GRANTS.idFromName(token.grantId));
  const headers = upstreamRequestHeaders(request.headers, result.upstream);
  const forwardedBody =
    body === null ? undefined : JSON.stringify(body.kind === "single" ? body.message.raw : body.messages.map((m) => m.raw));
  const upstream = await callUpstream(
    result.upstream.url,
    { method: httpMethod, headers, body: forwardedBody },
    { timeoutMs: Number(env.UPSTREAM_TIMEOUT_MS) || 30_000, clientSignal: request.signal },
  );
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
  const settle = () => c.executionCtx.waitUntil(stub.settle({ ...settlement, latencyMs: Date.now() - started }).catch(() => {}));
  const firstRequestId = parsedMessages.find((m) => m.kind === "request");
  const answerId = firstRequestId?.kind === "request" ? firstRequestId.id : null;

  if (!upstream.ok) {
    settlement.error = upstream.error.error;
    settlement.upstreamReceived = upstream.error.received;
    settle();
    if (upstream.error.error === "upstream_timeout") {
      return jsonRpcErrorResponse(504, answerId, RpcErrorCode.UpstreamTimeout, `The upstream server "${result.upstream.serverName}" did not answer in time`);
    }
    return jsonRpcErrorResponse(502, answerId, RpcErrorCode.UpstreamUnavailable, `The upstream server "${result.upstream.serverName}" could not be reached`);
  }
  const response = upstream.value;
  settlement.status = response.status;

  // Never relay an upstream auth challenge: the client would fetch upstream-audience tokens and
  // hand them to the gateway (MCP-NOTES "Authorization").
  if (response.status === 401 || (response.status === 403 && response.headers.has("www-authenticate"))) {
    await response.body?.cancel();
    settlement.error = "upstream_auth";
    settle();
    return jsonRpcErrorResponse(
      502,
      answerId,
      RpcErrorCode.UpstreamAuth,
      `The upstream server "${result.upstream.serverName}" rejected the gateway's credentials; an operator must fix the server's credential headers`,
    );
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
      settle();
      return policyUnavailable(body);
    }
  }
  if (httpMethod === "DELETE" && response.ok && gateRequest.sessionId !== null) settlement.sessionClosed = gateRequest.sessionId;

  const toolsListIds = new Set<JsonRpcId>();
  for (const m of parsedMessages) if (m.kind === "request" && m.method === "tools/list") toolsListIds.add(m.id);
  const visibility = result.visibility;
  const shaped = await shapeResponse(response, {
    toolsListIds,
    isToolVisible: (name) => visibility !== null && isToolVisible(visibility, name),
  });
  if (!shaped.ok) {
    settlement.error = "upstream_invalid";
    settle();
    return jsonRpcErrorResponse(502, answerId, RpcErrorCode.UpstreamInvalid, `The upstream server "${result.upstream.serverName}" sent an invalid response`);
  }
  settle();
  return shaped.value;
}

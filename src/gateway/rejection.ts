/**
 * Every way the gateway refuses or fails a request, as one tagged union, and the one exhaustive
 * table that turns each into HTTP and JSON-RPC. Each JSON-RPC code means one thing (docs/mcp.md,
 * "Error codes"). Failing closed and upstream failures are logged here, as one structured line
 * each: grant, request id and code; never a token, a header value or an argument.
 */
import { jsonRpcError, RpcErrorCode, type JsonRpcId, type ParsedBody } from "../mcp/jsonrpc";
import { isStateless, revisionOf } from "../mcp/revision";
import type { GateResult } from "../grant/protocol";
import { denialAnswer } from "./answer";
import type { McpRequest } from "./read";

/** Which upstream answered, for messages that name it (the server's name, never its URL). */
type UpstreamFault = { id: JsonRpcId | null; server: string };

export type GatewayRejection =
  | { kind: "method_not_allowed" }
  | { kind: "origin_forbidden" }
  | { kind: "unauthenticated" }
  /** A required secret is missing: the gateway refuses to run open. */
  | { kind: "not_configured"; what: string }
  | { kind: "unsupported_media_type"; message: string }
  | { kind: "body_too_large"; limit: number }
  /** The body is not JSON the gateway accepts, or not a valid JSON-RPC/MCP message. */
  | { kind: "invalid_message"; id: JsonRpcId | null; code: number; message: string }
  | { kind: "invalid_header"; message: string }
  | { kind: "header_mismatch"; message: string }
  | { kind: "unknown_session" }
  /** The grant's Durable Object did not answer: nothing was forwarded. `toolCall` is set for a single tools/call. */
  | { kind: "policy_unavailable"; id: JsonRpcId | null; toolCall: string | null; stateless: boolean }
  | UpstreamRejection;

/** The upstream was asked and failed: the request may have reached it. */
type UpstreamRejection =
  | ({ kind: "upstream_unreachable" } & UpstreamFault)
  | ({ kind: "upstream_timeout" } & UpstreamFault)
  | ({ kind: "upstream_auth" } & UpstreamFault)
  | ({ kind: "upstream_failed"; status: number } & UpstreamFault)
  | ({ kind: "upstream_redirect"; status: number } & UpstreamFault)
  | ({ kind: "upstream_invalid" } & UpstreamFault)
  | ({ kind: "response_too_large"; limit: number } & UpstreamFault);

/** Who the rejection concerns, for the log line; absent before the token was read. */
export interface RejectionContext {
  grantId: string;
  requestId: string;
}

/** How a rejection goes on the wire, and whether it is logged. */
export interface RejectionWire {
  status: number;
  id: JsonRpcId | null;
  code: number;
  message: string;
  headers?: Record<string, string>;
  /** The log event, for failing closed and for upstream failures. */
  event?: "fail_closed" | "upstream_failure";
}

const UNAVAILABLE = "The policy service is unavailable; the request was not forwarded. Try again shortly.";

/** The one exhaustive table from rejection to HTTP status, JSON-RPC code and message. */
export function describeRejection(r: GatewayRejection): RejectionWire {
  switch (r.kind) {
    case "method_not_allowed":
      return { status: 405, id: null, code: RpcErrorCode.InvalidRequest, message: "Method not allowed", headers: { allow: "GET, POST, DELETE" } };
    case "origin_forbidden":
      return { status: 403, id: null, code: RpcErrorCode.OriginForbidden, message: "Origin not allowed" };
    case "unauthenticated":
      // No detail that helps guessing: unknown grant, wrong token and revoked all look alike.
      return {
        status: 401,
        id: null,
        code: RpcErrorCode.Unauthorized,
        message: "Unauthorized",
        headers: { "www-authenticate": 'Bearer realm="mcp-policy-gateway"' },
      };
    case "not_configured":
      return {
        status: 503,
        id: null,
        code: RpcErrorCode.PolicyUnavailable,
        message: `The gateway is not configured (${r.what}); nothing is forwarded`,
        event: "fail_closed",
      };
    case "unsupported_media_type":
      return { status: 415, id: null, code: RpcErrorCode.UnsupportedMediaType, message: r.message };
    case "body_too_large":
      return { status: 413, id: null, code: RpcErrorCode.BodyTooLarge, message: `Request body exceeds ${r.limit} bytes` };
    case "invalid_message":
      return { status: 400, id: r.id, code: r.code, message: r.message };
    case "invalid_header":
      return { status: 400, id: null, code: RpcErrorCode.InvalidRequest, message: r.message };
    case "header_mismatch":
      return { status: 400, id: null, code: RpcErrorCode.HeaderMismatch, message: r.message };
    case "unknown_session":
      return { status: 404, id: null, code: RpcErrorCode.SessionNotFound, message: "Session not found" };
    case "policy_unavailable":
      return { status: 503, id: r.id, code: RpcErrorCode.PolicyUnavailable, message: UNAVAILABLE, headers: { "retry-after": "1" }, event: "fail_closed" };
    default:
      return describeUpstreamRejection(r);
  }
}

/** The exhaustive table's second half: the upstream was asked and failed. */
function describeUpstreamRejection(r: UpstreamRejection): RejectionWire {
  switch (r.kind) {
    case "upstream_unreachable":
      return upstream(r, 502, RpcErrorCode.UpstreamUnreachable, `The upstream server "${r.server}" could not be reached`);
    case "upstream_timeout":
      return upstream(r, 504, RpcErrorCode.UpstreamTimeout, `The upstream server "${r.server}" did not answer in time`);
    case "upstream_auth":
      return upstream(
        r,
        502,
        RpcErrorCode.UpstreamAuth,
        `The upstream server "${r.server}" rejected the gateway's credentials; an operator must fix the server's credential headers`,
      );
    case "upstream_failed":
      return upstream(r, 502, RpcErrorCode.UpstreamInvalid, `The upstream server "${r.server}" answered HTTP ${r.status}`);
    case "upstream_redirect":
      return upstream(
        r,
        502,
        RpcErrorCode.UpstreamInvalid,
        `The upstream server "${r.server}" answered with a redirect (HTTP ${r.status}), which the gateway never follows`,
      );
    case "upstream_invalid":
      return upstream(r, 502, RpcErrorCode.UpstreamInvalid, `The upstream server "${r.server}" sent an invalid response`);
    case "response_too_large":
      return upstream(
        r,
        502,
        RpcErrorCode.ResponseTooLarge,
        `The upstream server "${r.server}" sent a response larger than the gateway's limit of ${r.limit} bytes`,
      );
  }
}

const upstream = (fault: UpstreamFault, status: number, code: number, message: string): RejectionWire => ({
  status,
  id: fault.id,
  code,
  message,
  event: "upstream_failure",
});

export function renderRejection(rejection: GatewayRejection, context?: RejectionContext): Response {
  const wire = describeRejection(rejection);
  if (wire.event !== undefined) {
    console.log(
      JSON.stringify({ event: wire.event, kind: rejection.kind, code: wire.code, grant: context?.grantId ?? null, requestId: context?.requestId ?? null }),
    );
  }
  if (rejection.kind === "policy_unavailable" && rejection.toolCall !== null && rejection.id !== null) {
    // A tools/call gets a result the model can read and retry on (docs/mcp.md, "Denials").
    return Response.json(denialAnswer(rejection.id, { code: "unavailable", rule: null, message: UNAVAILABLE }, rejection.stateless));
  }
  return rpcError(wire.status, wire.id, wire.code, wire.message, wire.headers);
}

/**
 * A gate() that did not let the request through: fail closed when the grant's object could not
 * answer (null, or "unavailable"), else 404 for an unknown session and 401 for the rest.
 */
export function gateRefusal(
  result: Extract<GateResult, { ok: false }> | null,
  body: ParsedBody | null,
  protocolHeader: string | null,
  context: RejectionContext,
): Response {
  if (result === null || result.reason === "unavailable") return renderRejection(policyUnavailable(body, protocolHeader), context);
  return renderRejection({ kind: result.reason === "unknown_session" ? "unknown_session" : "unauthenticated" }, context);
}

/** Fail closed after the gate: a later step (a server's object, a review) could not be consulted. */
export const failClosed = (request: McpRequest, context: RejectionContext): Response =>
  renderRejection(policyUnavailable(request.body, request.headers.protocolVersion), context);

/** Fail closed: the policy could not be consulted, so nothing is forwarded. */
export function policyUnavailable(body: ParsedBody | null, protocolHeader: string | null): GatewayRejection {
  const single = body?.kind === "single" ? body.message : null;
  const request = single !== null && single.kind === "request" ? single : null;
  return {
    kind: "policy_unavailable",
    id: request?.id ?? null,
    toolCall: request?.call?.tool ?? null,
    stateless: isStateless(revisionOf(single, protocolHeader)),
  };
}

/** A JSON-RPC error answer with an HTTP status: the gateway's one error response builder. */
export function rpcError(status: number, id: JsonRpcId | null, code: number, message: string, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(jsonRpcError(id, code, message)), {
    status,
    headers: { ...headers, "content-type": "application/json" },
  });
}

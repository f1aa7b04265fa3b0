/**
 * Forwarding to the upstream and shaping what comes back.
 *
 * Only an allow-list of MCP headers crosses the gateway in either direction: the agent's
 * Authorization and cookies never reach the upstream (MCP authorization spec: a token is never
 * passed through), and the upstream's credentials are added here. Responses stream through; SSE is
 * parsed and re-emitted event by event so the client sees exactly what the gateway evaluated.
 */
import type { Upstream } from "../grant/protocol";
import { err, ok, type Result } from "../result";
import { isJsonObject, parseStrictJson } from "./json";
import { classifyMessage, jsonRpcError, RpcErrorCode, type JsonRpcId } from "./jsonrpc";
import { sseTransform } from "./sse";
import { filterToolsListResult } from "./tools-list";

/** Request headers that pass from the agent to the upstream (Streamable HTTP transport). */
const FORWARDED_REQUEST_HEADERS = [
  "accept",
  "content-type",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
  "mcp-method",
  "mcp-name",
] as const;

/** Response headers that pass from the upstream to the agent. */
const RETURNED_RESPONSE_HEADERS = ["content-type", "mcp-session-id", "mcp-protocol-version", "cache-control", "retry-after"] as const;

/** The headers of the upstream request: the MCP allow-list, then the server's credentials. */
export function upstreamRequestHeaders(incoming: Headers, upstream: Upstream): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  for (const [name, value] of Object.entries(upstream.headers)) headers.set(name, value);
  return headers;
}

/** The headers of the response to the agent: the MCP allow-list only. */
export function clientResponseHeaders(upstreamHeaders: Headers): Headers {
  const headers = new Headers();
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = upstreamHeaders.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

export type UpstreamFailure =
  /** No response: the connection failed before the upstream could have answered. */
  | { error: "upstream_unreachable"; received: false }
  /** No response headers within the configured time; the upstream may have received the call. */
  | { error: "upstream_timeout"; received: true }
  /** The agent went away; the upstream request was cancelled. */
  | { error: "client_cancelled"; received: true };

/** Why the caller aborted an upstream call: the reason it passes to `AbortController.abort()`. */
export type UpstreamAbort = "upstream_timeout" | "client_cancelled";

/**
 * Sends the request upstream. The caller owns the timing: it aborts `signal` with an
 * `UpstreamAbort` reason when its bound on the time to response headers passes (a long-lived SSE
 * stream is not cut off once it has started) or when the agent disconnects (request.signal,
 * `enable_request_signal`), which cancels the upstream request at any time. One controller and
 * one timer per request serve both, instead of a timer and a listener of its own here.
 */
export async function callUpstream(
  url: string,
  init: { method: string; headers: Headers; body?: string },
  signal: AbortSignal,
): Promise<Result<Response, UpstreamFailure>> {
  try {
    return ok(await fetch(url, { ...init, signal, redirect: "manual" }));
  } catch {
    const reason: unknown = signal.aborted ? signal.reason : null;
    if (reason === "upstream_timeout") return err({ error: "upstream_timeout", received: true });
    if (reason === "client_cancelled") return err({ error: "client_cancelled", received: true });
    return err({ error: "upstream_unreachable", received: false });
  }
}

/** What the gateway must do to the responses of the messages it forwarded. */
export interface ResponseShaping {
  /** Ids of forwarded tools/list requests whose results must be filtered. */
  toolsListIds: ReadonlySet<JsonRpcId>;
  isToolVisible: (name: string) => boolean;
  /**
   * Ids of the forwarded requests that expect an answer on this response. A response with any other
   * id is dropped: compared exactly, because clients coerce (the v1 SDK matches `Number(id)`), so an
   * upstream answering tools/list `1` with id `"1"` would otherwise slip an unfiltered list through.
   * Null for a GET stream, which may replay answers to earlier requests when resumed; there every
   * result that carries a tool list is filtered.
   */
  requestIds: ReadonlySet<JsonRpcId> | null;
  /** Called once when the response body has been passed on whole; `unanswered` lists request ids the upstream never answered. */
  onComplete: (unanswered: JsonRpcId[]) => void;
}

/**
 * An error response the upstream may send without a usable id (JSON-RPC 2.0 §5: `id: null` when
 * the request could not be read). The client's own messages may not do this; the upstream's may.
 */
function isNullIdError(value: unknown): value is Record<string, unknown> {
  if (!isJsonObject(value) || value.jsonrpc !== "2.0" || value.id !== null || !isJsonObject(value.error)) return false;
  const keys = Object.keys(value);
  return keys.length === 3 && typeof value.error.code === "number" && typeof value.error.message === "string";
}

/**
 * Parses what the upstream sent (one message or an array) strictly, filters tools/list results the
 * gateway asked for, and returns the re-serialization, with the ids it answered. Null when any
 * part is not a JSON-RPC message: the gateway never passes on what it could not evaluate.
 */
export function shapeUpstreamText(text: string, shaping: ResponseShaping): { text: string; answered: JsonRpcId[] } | null {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return null;
  const answered: JsonRpcId[] = [];
  const shapeOne = (value: unknown): unknown => {
    const message = classifyMessage(value);
    if (!message.ok) return isNullIdError(value) ? value : undefined;
    const m = message.value;
    if (m.kind !== "response") return m.raw;
    if (shaping.requestIds === null) return filterToolsListResult(m.raw, shaping.isToolVisible);
    if (!shaping.requestIds.has(m.id)) return undefined;
    answered.push(m.id);
    return shaping.toolsListIds.has(m.id) ? filterToolsListResult(m.raw, shaping.isToolVisible) : m.raw;
  };
  const value = parsed.value;
  if (!Array.isArray(value)) {
    const shaped = shapeOne(value);
    return shaped === undefined ? null : { text: JSON.stringify(shaped), answered };
  }
  if (value.length === 0) return null;
  const shaped = value.map(shapeOne);
  return shaped.includes(undefined) ? null : { text: JSON.stringify(shaped), answered };
}

/** The upstream response, shaped for the agent. SSE streams event by event; JSON is checked whole. */
export async function shapeResponse(upstream: Response, shaping: ResponseShaping): Promise<Result<Response, "upstream_invalid">> {
  const headers = clientResponseHeaders(upstream.headers);
  const contentType = (upstream.headers.get("content-type") ?? "").toLowerCase();
  if (upstream.body === null) {
    shaping.onComplete([]);
    return ok(new Response(null, { status: upstream.status, headers }));
  }
  if (contentType.startsWith("text/event-stream")) {
    headers.set("content-type", "text/event-stream");
    headers.set("cache-control", "no-cache");
    const unanswered = new Set(shaping.requestIds ?? []);
    const transform = sseTransform(
      (event) => {
        // Priming events (an id, no data) let the client resume; they carry no message.
        if (event.data === "") return event.event === undefined || event.event === "message" ? { ...event } : null;
        const shaped = shapeUpstreamText(event.data, shaping);
        if (shaped === null) return null;
        for (const id of shaped.answered) unanswered.delete(id);
        return { ...event, data: shaped.text };
      },
      {
        // A stream that ends before answering (truncated SSE) still answers the client, with an error.
        onEnd: () => {
          const missing = [...unanswered];
          shaping.onComplete(missing);
          return missing.map((id) => ({
            data: JSON.stringify(jsonRpcError(id, RpcErrorCode.UpstreamInvalid, "The upstream server closed the stream before answering")),
          }));
        },
      },
    );
    return ok(new Response(upstream.body.pipeThrough(transform), { status: upstream.status, headers }));
  }
  if (contentType.startsWith("application/json")) {
    const text = await upstream.text();
    const shaped = shapeUpstreamText(text, shaping);
    if (shaped === null) {
      // An error status whose body is not JSON-RPC (a proxy's or framework's own error page)
      // carries no message to evaluate; the client treats it as a transport error.
      if (upstream.ok) return err("upstream_invalid");
      shaping.onComplete([]);
      return ok(new Response(text, { status: upstream.status, headers }));
    }
    shaping.onComplete([...(shaping.requestIds ?? [])].filter((id) => !shaped.answered.includes(id)));
    headers.delete("content-length");
    return ok(new Response(shaped.text, { status: upstream.status, headers }));
  }
  // Neither JSON nor SSE: only bodies that carry no JSON-RPC message (e.g. an HTML 404 page) pass,
  // and only on a status that is not a success.
  if (upstream.ok && (shaping.requestIds?.size ?? 0) > 0) {
    await upstream.body.cancel();
    return err("upstream_invalid");
  }
  shaping.onComplete([]);
  return ok(new Response(upstream.body, { status: upstream.status, headers }));
}

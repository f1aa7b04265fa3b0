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
import { parseBody, type JsonRpcId, type JsonRpcMessage } from "./jsonrpc";
import { sseTransform, type SseEvent } from "./sse";
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

/**
 * Sends the request upstream. The timeout bounds the time to response headers only: a
 * long-lived SSE stream is not cut off once it has started. The agent's disconnect (request.signal,
 * `enable_request_signal`) cancels the upstream request at any time.
 */
export async function callUpstream(
  url: string,
  init: { method: string; headers: Headers; body?: string },
  options: { timeoutMs: number; clientSignal: AbortSignal | null },
): Promise<Result<Response, UpstreamFailure>> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onClientAbort = () => controller.abort();
  options.clientSignal?.addEventListener("abort", onClientAbort);
  try {
    const response = await fetch(url, { ...init, signal: controller.signal, redirect: "manual" });
    return ok(response);
  } catch {
    if (timedOut) return err({ error: "upstream_timeout", received: true });
    if (options.clientSignal?.aborted) return err({ error: "client_cancelled", received: true });
    return err({ error: "upstream_unreachable", received: false });
  } finally {
    clearTimeout(timer);
  }
}

/** What the gateway must do to the responses of the messages it forwarded. */
export interface ResponseShaping {
  /** Ids of forwarded tools/list requests whose results must be filtered. */
  toolsListIds: ReadonlySet<JsonRpcId>;
  isToolVisible: (name: string) => boolean;
}

/** Re-serializes one parsed message, filtering a tools/list result the gateway asked for. */
function shapeMessage(message: JsonRpcMessage, shaping: ResponseShaping): unknown {
  if (message.kind === "response" && shaping.toolsListIds.has(message.id)) {
    return filterToolsListResult(message.raw, shaping.isToolVisible);
  }
  return message.raw;
}

/**
 * One SSE event from the upstream, as the agent will see it: the data parsed as JSON-RPC and
 * re-serialized, tools/list results filtered. An event whose data is not exactly one valid
 * JSON-RPC message (or a batch of them) is dropped: the gateway never passes on what it could not
 * evaluate.
 */
export function shapeSseEvent(event: SseEvent, shaping: ResponseShaping): SseEvent | null {
  if (event.data === "") return event.event === undefined || event.event === "message" ? { ...event } : null;
  const parsed = parseBody(event.data);
  if (!parsed.ok) return null;
  const body = parsed.value;
  const data =
    body.kind === "single"
      ? JSON.stringify(shapeMessage(body.message, shaping))
      : JSON.stringify(body.messages.map((m) => shapeMessage(m, shaping)));
  return { ...event, data };
}

/**
 * A JSON body from the upstream, as the agent will see it. Only called when it must be read whole
 * (it answers a tools/list); other JSON bodies stream through untouched.
 */
export function shapeJsonBody(text: string, shaping: ResponseShaping): Result<string, "upstream_invalid"> {
  const parsed = parseBody(text);
  if (!parsed.ok) return err("upstream_invalid");
  const body = parsed.value;
  return ok(
    body.kind === "single"
      ? JSON.stringify(shapeMessage(body.message, shaping))
      : JSON.stringify(body.messages.map((m) => shapeMessage(m, shaping))),
  );
}

/** The upstream response, shaped for the agent. Streams: nothing is buffered except a JSON tools/list answer. */
export async function shapeResponse(upstream: Response, shaping: ResponseShaping): Promise<Result<Response, "upstream_invalid">> {
  const headers = clientResponseHeaders(upstream.headers);
  const contentType = (upstream.headers.get("content-type") ?? "").toLowerCase();
  if (upstream.body === null) return ok(new Response(null, { status: upstream.status, headers }));
  if (contentType.startsWith("text/event-stream")) {
    headers.set("content-type", "text/event-stream");
    headers.set("cache-control", "no-cache");
    const body = upstream.body.pipeThrough(sseTransform((event) => shapeSseEvent(event, shaping)));
    return ok(new Response(body, { status: upstream.status, headers }));
  }
  if (contentType.startsWith("application/json") && shaping.toolsListIds.size > 0) {
    const shaped = shapeJsonBody(await upstream.text(), shaping);
    if (!shaped.ok) return shaped;
    headers.delete("content-length");
    return ok(new Response(shaped.value, { status: upstream.status, headers }));
  }
  return ok(new Response(upstream.body, { status: upstream.status, headers }));
}

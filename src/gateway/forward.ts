/**
 * Step 4 (docs/architecture.md): the request the upstream receives, built by the gateway.
 *
 * - Headers: a set the gateway builds, never the agent's. `Content-Type: application/json` (UTF-8,
 *   no parameters), the allow-listed MCP headers read and validated in read.ts, and the server's
 *   credential headers. The agent's Authorization and cookies never reach the upstream (MCP
 *   authorization: a token is never passed through). docs/architecture.md lists the allow-list.
 * - Body: the gateway's own serialization of the value it evaluated, never the agent's bytes.
 * - Every request to an upstream goes through `sendUpstream`, with `redirect: "manual"`: a redirect
 *   is an upstream error and is never followed, so credentials never follow one.
 * - The body is handed to the runtime in two parts, all but the last byte and then the last byte.
 *   A JSON message is incomplete without its last byte, so if the runtime never took it the
 *   upstream cannot have received the call: that, and only that, is "provably never received"
 *   (connection refused, DNS or TLS failure before the body was sent), and reservations are then
 *   released. Any failure after that byte left counts as received.
 */
import type { Upstream } from "../grant/protocol";
import { encodeHeaderValue, routingTarget } from "../mcp/routing-headers";
import type { JsonRpcMessage } from "../mcp/jsonrpc";
import { err, ok, type Result } from "../result";
import type { McpHeaders } from "./read";

export type UpstreamFailure =
  /** No response, and the body's last byte never left: the upstream cannot have received the request. */
  | { error: "upstream_unreachable"; received: false }
  /** The connection failed after the body was sent; the upstream may have acted on it. */
  | { error: "upstream_connection_lost"; received: true }
  /** No response headers within the configured time; the upstream may have received the call. */
  | { error: "upstream_timeout"; received: true }
  /** The agent went away; the upstream request was cancelled. */
  | { error: "client_cancelled"; received: true };

/** Why the caller aborted an upstream call: the reason it passes to `AbortController.abort()`. */
export type UpstreamAbort = "upstream_timeout" | "client_cancelled";

/**
 * The headers of the upstream request. `forwarded` is the single message sent, when there is one:
 * the routing headers are rebuilt from it (they agreed with the agent's body, and a concealed
 * target changes the body), and sent only if the agent sent them.
 */
export function upstreamHeaders(mcp: McpHeaders, upstream: Upstream, httpMethod: string, forwarded: JsonRpcMessage | null): Headers {
  const headers = new Headers();
  if (httpMethod === "POST") headers.set("content-type", "application/json");
  if (mcp.accept !== null) headers.set("accept", mcp.accept);
  if (mcp.sessionId !== null) headers.set("mcp-session-id", mcp.sessionId);
  if (mcp.protocolVersion !== null) headers.set("mcp-protocol-version", mcp.protocolVersion);
  if (mcp.lastEventId !== null && httpMethod === "GET") headers.set("last-event-id", mcp.lastEventId);
  if (forwarded !== null && forwarded.kind !== "response") {
    if (mcp.method !== null) headers.set("mcp-method", encodeHeaderValue(forwarded.method));
    const target = routingTarget(forwarded);
    if (mcp.name !== null && target !== undefined) headers.set("mcp-name", encodeHeaderValue(target));
  }
  for (const [name, value] of Object.entries(upstream.headers)) headers.set(name, value);
  return headers;
}

/**
 * Sends one request to an upstream. The caller owns the timing: it aborts `signal` with an
 * `UpstreamAbort` reason when its bound on the time to response headers passes (a long-lived SSE
 * stream is not cut off once it has started) or when the agent disconnects.
 */
export async function sendUpstream(
  url: string,
  init: { method: string; headers: Headers; body?: string },
  signal: AbortSignal,
): Promise<Result<Response, UpstreamFailure>> {
  const body = init.body === undefined ? null : trackedBody(init.body);
  try {
    return ok(await fetch(url, { method: init.method, headers: init.headers, body: body?.stream ?? null, signal, redirect: "manual" }));
  } catch {
    const reason: unknown = signal.aborted ? signal.reason : null;
    if (reason === "upstream_timeout") return err({ error: "upstream_timeout", received: true });
    if (reason === "client_cancelled") return err({ error: "client_cancelled", received: true });
    if (body === null || !body.lastByteTaken()) return err({ error: "upstream_unreachable", received: false });
    return err({ error: "upstream_connection_lost", received: true });
  }
}

/** A body with a known length whose last byte's departure can be observed (see the file comment). */
function trackedBody(text: string): { stream: ReadableStream<Uint8Array>; lastByteTaken: () => boolean } {
  const bytes = new TextEncoder().encode(text);
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  let taken = bytes.byteLength === 0;
  void (async () => {
    if (bytes.byteLength > 1) await writer.write(bytes.subarray(0, bytes.byteLength - 1));
    if (bytes.byteLength > 0) await writer.write(bytes.subarray(bytes.byteLength - 1));
    taken = true;
    await writer.close();
  })().catch(() => {});
  return { stream: readable, lastByteTaken: () => taken };
}

/**
 * Tells a legacy-era upstream that the agent gave up on its requests (MCP "Cancellation"). In the
 * 2026-07-28 era closing the stream is the cancellation, which the aborted fetch already did.
 */
export async function cancelUpstream(upstream: Upstream, mcp: McpHeaders, ids: readonly (string | number)[]): Promise<void> {
  const headers = upstreamHeaders({ ...mcp, method: null, name: null, lastEventId: null, accept: "application/json, text/event-stream" }, upstream, "POST", null);
  for (const id of ids) {
    const notification = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "The client disconnected" } };
    const sent = await sendUpstream(upstream.url, { method: "POST", headers, body: JSON.stringify(notification) }, new AbortController().signal);
    // The upstream is gone too, or answered: either way nothing is left to cancel.
    if (sent.ok) await sent.value.body?.cancel();
  }
}

/**
 * Every request the gateway makes to an upstream — a forwarded call, a cancellation, a discovery —
 * goes through `sendUpstream`:
 *
 * - `redirect: "manual"`: a redirect is an upstream error and is never followed, so the server's
 *   credential headers never follow one to another origin.
 * - The body is handed to the runtime in two parts, all but the last byte and then the last byte.
 *   A JSON message is incomplete without its last byte, so if the runtime never took it the
 *   upstream cannot have received the request: that, and only that, is "provably never received"
 *   (connection refused, DNS or TLS failure before the body was sent), and reservations are then
 *   released. Any failure after that byte left counts as received. (workerd reports every
 *   connection failure the same way, "Network connection lost", whether the peer refused the
 *   connection or read the request and reset it; the last byte is what tells them apart.)
 */
import { err, ok, type Result } from "./result";

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

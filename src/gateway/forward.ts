/**
 * Step 6 (docs/architecture.md): the request the upstream receives, built by the gateway.
 *
 * - Headers: a set the gateway builds, never the agent's. `Content-Type: application/json` (UTF-8,
 *   no parameters), the allow-listed MCP headers read and validated in read.ts, and the server's
 *   credential headers. The agent's Authorization and cookies never reach the upstream (MCP
 *   authorization: a token is never passed through). docs/architecture.md lists the allow-list.
 * - Body: the gateway's own serialization of the value it evaluated, never the agent's bytes.
 * - Every request to an upstream goes through `sendUpstream` (src/upstream.ts), with
 *   `redirect: "manual"`, watching whether the body's last byte left the gateway.
 */
import type { Upstream } from "../grant/protocol";
import { encodeHeaderValue, routingTarget } from "../mcp/routing-headers";
import type { JsonRpcMessage } from "../mcp/jsonrpc";
import { sendUpstream } from "../upstream";
import type { McpHeaders } from "./read";

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
 * Tells a legacy-era upstream that the agent gave up on its requests (MCP "Cancellation"). In the
 * 2026-07-28 era closing the stream is the cancellation, which the aborted fetch already did.
 */
export async function cancelUpstream(upstream: Upstream, mcp: McpHeaders, ids: readonly (string | number)[]): Promise<void> {
  const headers = upstreamHeaders(
    { ...mcp, method: null, name: null, lastEventId: null, accept: "application/json, text/event-stream" },
    upstream,
    "POST",
    null,
  );
  for (const id of ids) {
    const notification = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "The client disconnected" } };
    const sent = await sendUpstream(upstream.url, { method: "POST", headers, body: JSON.stringify(notification) }, new AbortController().signal);
    // The upstream is gone too, or answered: either way nothing is left to cancel.
    if (sent.ok) await sent.value.body?.cancel();
  }
}

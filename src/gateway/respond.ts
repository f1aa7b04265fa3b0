/**
 * Step 6 (docs/architecture.md): the upstream's answer, shaped for the agent. SSE is parsed and
 * re-emitted event by event (src/mcp/sse.ts); JSON is checked whole, up to `maxResponseBytes`.
 * Every message goes through src/mcp/shape.ts, then the request's own review (src/gateway/review.ts).
 */
import { readBodyBytes } from "../http";
import { isJsonObject } from "../mcp/json";
import { jsonRpcError, RpcErrorCode, type JsonRpcId } from "../mcp/jsonrpc";
import { serializeShaped, shapeUpstreamText, type ResponseShaping, type ShapedAnswer } from "../mcp/shape";
import { sseTransform, type SseEvent } from "../mcp/sse";
import { err, ok, type Result } from "../result";

/** Response headers that pass from the upstream to the agent; everything else stays behind. */
const RETURNED_RESPONSE_HEADERS = ["content-type", "mcp-session-id", "mcp-protocol-version", "cache-control", "retry-after"] as const;

export interface Relay {
  shaping: ResponseShaping;
  /**
   * Looks at each shaped answer before it is passed on, and may change it (src/gateway/review.ts:
   * tasks bound and filtered, tool listings checked against the server's pins). Throws to fail.
   */
  review: (shaped: ShapedAnswer) => Promise<void>;
  maxResponseBytes: number;
  /** Called once when the answer has been passed on whole; `unanswered` lists request ids never answered. */
  onComplete: (unanswered: JsonRpcId[]) => void;
}

export type RelayFailure = "upstream_invalid" | "response_too_large";

/** The headers of the response to the agent: the allow-list only. */
export function clientResponseHeaders(upstreamHeaders: Headers): Headers {
  const headers = new Headers();
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = upstreamHeaders.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

export async function relayResponse(upstream: Response, relay: Relay): Promise<Result<Response, RelayFailure>> {
  const headers = clientResponseHeaders(upstream.headers);
  const contentType = (upstream.headers.get("content-type") ?? "").toLowerCase();
  if (upstream.body === null) {
    relay.onComplete([]);
    return ok(new Response(null, { status: upstream.status, headers }));
  }
  if (contentType.startsWith("text/event-stream")) return ok(relayStream(upstream, headers, relay));
  if (contentType.startsWith("application/json")) return relayJson(upstream, headers, relay);
  // Neither JSON nor SSE: only bodies that carry no JSON-RPC message (e.g. an HTML 404 page) pass,
  // and only on a status that is not a success.
  if (upstream.ok && (relay.shaping.requestIds?.size ?? 0) > 0) {
    await upstream.body.cancel();
    return err("upstream_invalid");
  }
  relay.onComplete([]);
  return ok(new Response(upstream.body, { status: upstream.status, headers }));
}

async function relayJson(upstream: Response, headers: Headers, relay: Relay): Promise<Result<Response, RelayFailure>> {
  const bytes = await readBodyBytes(upstream, relay.maxResponseBytes);
  if (bytes === null) return err("response_too_large");
  const text = new TextDecoder().decode(bytes);
  const shaped = shapeUpstreamText(text, relay.shaping);
  if (shaped === null) {
    // An error status whose body is not JSON-RPC (a proxy's or framework's own error page)
    // carries no message to evaluate; the client treats it as a transport error.
    if (upstream.ok) return err("upstream_invalid");
    relay.onComplete([]);
    return ok(new Response(text, { status: upstream.status, headers }));
  }
  await relay.review(shaped);
  relay.onComplete([...(relay.shaping.requestIds ?? [])].filter((id) => !shaped.answered.includes(id)));
  return ok(new Response(serializeShaped(shaped), { status: upstream.status, headers }));
}

function relayStream(upstream: Response, headers: Headers, relay: Relay): Response {
  headers.set("content-type", "text/event-stream");
  headers.set("cache-control", "no-cache");
  const unanswered = new Set(relay.shaping.requestIds ?? []);
  const errorsFor = (message: string): SseEvent[] => {
    const missing = [...unanswered];
    relay.onComplete(missing);
    return missing.map((id) => ({ data: JSON.stringify(jsonRpcError(id, RpcErrorCode.UpstreamInvalid, message)) }));
  };
  const transform = sseTransform(
    async (event) => {
      // Priming events (an id, no data) let the client resume; they carry no message.
      if (event.data === "") return event.event === undefined || event.event === "message" ? { ...event } : null;
      const shaped = shapeUpstreamText(event.data, relay.shaping);
      if (shaped === null) return null;
      await relay.review(shaped);
      for (const id of shaped.answered) unanswered.delete(id);
      return { ...event, data: serializeShaped(shaped) };
    },
    {
      maxEventChars: relay.maxResponseBytes,
      // A stream that ends before answering (truncated SSE) still answers the client, with an error.
      onEnd: () => errorsFor("The upstream server closed the stream before answering"),
      onOverflow: () => errorsFor(`The upstream server sent an event larger than the gateway's limit of ${relay.maxResponseBytes} bytes`),
    },
  );
  return new Response(upstream.body!.pipeThrough(transform), { status: upstream.status, headers });
}

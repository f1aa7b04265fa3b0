/**
 * Step 9 (docs/architecture.md): the upstream's answer, shaped for the agent. SSE is parsed and
 * re-emitted event by event (src/mcp/sse.ts); JSON is checked whole, up to `maxResponseBytes`.
 * Every message goes through src/mcp/shape.ts, then the request's own review (src/gateway/review.ts).
 *
 * Large answers (docs/performance.md, "Large answers"): a JSON body or an SSE event over
 * STREAM_THRESHOLD that needs no shaping — a POST whose forwarded requests include no tools/list,
 * no tasks/list and no stand-in — is not held: it passes as it arrives (src/gateway/agent-stream.ts),
 * checked by the streaming parser (src/mcp/streamed-answer.ts), its last character held back
 * until the whole of it passed.
 */
import { joinBytes, readBodyBytes } from "../http";
import { jsonRpcError, RpcErrorCode, type JsonRpcId } from "../mcp/jsonrpc";
import { replaceInStrings, serializeShaped, shapeUpstreamText, type ResponseShaping, type ShapedAnswer } from "../mcp/shape";
import { SseReframer, type SseEvent, type StreamedEvent } from "../mcp/sse";
import { StreamedAnswer, StreamedJsonBody, type StreamedFailure } from "../mcp/streamed-answer";
import { err, ok, type Result } from "../result";
import { passJson, passSse, UpstreamReader } from "./agent-stream";

/**
 * Answers up to this size (bytes of a JSON body, characters of an event's data) are held, checked
 * and shaped whole; larger ones that need no shaping pass as they arrive (docs/performance.md).
 */
export const STREAM_THRESHOLD = 256 * 1024;

/** Response headers that pass from the upstream to the agent; everything else stays behind. */
const RETURNED_RESPONSE_HEADERS = ["content-type", "mcp-session-id", "mcp-protocol-version", "cache-control", "retry-after"] as const;

export interface Relay {
  shaping: ResponseShaping;
  /**
   * Looks at each shaped answer before it is passed on, and may change it (src/gateway/review.ts:
   * tasks bound and filtered, tool listings checked against the server's pins). Throws to fail.
   */
  review: (shaped: ShapedAnswer) => Promise<void>;
  /** True when the review must see every answer whole (a tasks/list was forwarded): nothing passes unheld. */
  mustHold: boolean;
  /** Binds tasks created by a large answer that passed unheld, before its last character goes. */
  bindTasks: (taskIds: string[]) => Promise<void>;
  maxResponseBytes: number;
  /**
   * Called once when the answer has been passed on whole, or has ended: `unanswered` lists request
   * ids never answered, and `failure` says why, when an answer that had started to pass was refused.
   */
  onComplete: (unanswered: JsonRpcId[], failure?: RelayFailure) => void;
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
  if (relay.shaping.standIns.size === 0) return ok(new Response(upstream.body, { status: upstream.status, headers }));
  const bytes = await readBodyBytes(upstream, relay.maxResponseBytes);
  if (bytes === null) return err("response_too_large");
  return ok(new Response(unconcealed(new TextDecoder().decode(bytes), relay), { status: upstream.status, headers }));
}

/**
 * A body passed on as the upstream wrote it (an error status's page), with each stand-in turned
 * back into the name it replaced, as in a shaped answer: an upstream's error that names the tool
 * it was asked for must name a hidden one as it would a missing one (docs/policy.md, "Hidden tools").
 */
const unconcealed = (text: string, relay: Relay): string => replaceInStrings(text, relay.shaping.standIns) as string;

/** The ids an answer may answer when it needs no shaping, so it may pass unheld; null when it must be held. */
function unshapedIds(relay: Relay): ReadonlySet<JsonRpcId> | null {
  const { requestIds, toolsListIds, standIns } = relay.shaping;
  if (requestIds === null || toolsListIds.size > 0 || standIns.size > 0 || relay.mustHold) return null;
  return requestIds;
}

async function relayJson(upstream: Response, headers: Headers, relay: Relay): Promise<Result<Response, RelayFailure>> {
  const declared = upstream.headers.get("content-length");
  const ids = upstream.ok && (declared === null || Number(declared) > STREAM_THRESHOLD) ? unshapedIds(relay) : null;
  if (ids === null) {
    const bytes = await readBodyBytes(upstream, relay.maxResponseBytes);
    return bytes === null ? err("response_too_large") : relayHeldJson(bytes, upstream, headers, relay);
  }
  if (declared !== null && Number(declared) > relay.maxResponseBytes) {
    await upstream.body!.cancel();
    return err("response_too_large");
  }
  const reader = upstream.body!.getReader();
  const head = await readHead(reader, Math.min(STREAM_THRESHOLD, relay.maxResponseBytes));
  if (head.done) return relayHeldJson(head.bytes, upstream, headers, relay);
  reader.releaseLock();
  return streamJson(new UpstreamReader(upstream.body!, JSON_READ_AT_LEAST), head.bytes, ids, upstream.status, headers, relay);
}

/** A large JSON body is read in chunks of at least this many bytes (fewer only at its end). */
const JSON_READ_AT_LEAST = 32 * 1024;

async function relayHeldJson(bytes: Uint8Array, upstream: Response, headers: Headers, relay: Relay): Promise<Result<Response, RelayFailure>> {
  const text = new TextDecoder().decode(bytes);
  const shaped = shapeUpstreamText(text, relay.shaping);
  if (shaped === null) {
    // An error status whose body is not JSON-RPC (a proxy's or framework's own error page)
    // carries no message to evaluate; the client treats it as a transport error.
    if (upstream.ok) return err("upstream_invalid");
    relay.onComplete([]);
    return ok(new Response(unconcealed(text, relay), { status: upstream.status, headers }));
  }
  await relay.review(shaped);
  relay.onComplete([...(relay.shaping.requestIds ?? [])].filter((id) => !shaped.answered.includes(id)));
  return ok(new Response(serializeShaped(shaped), { status: upstream.status, headers }));
}

/** The body's first bytes: up to just past `limit`, or all of it (`done`). */
async function readHead(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<{ bytes: Uint8Array; done: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size <= limit) {
    const read = await reader.read();
    if (read.done) {
      done = true;
      break;
    }
    chunks.push(read.value);
    size += read.value.byteLength;
  }
  return { bytes: joinBytes(chunks, size), done };
}

const relayFailure = (failure: StreamedFailure): RelayFailure => (failure.kind === "too_large" ? "response_too_large" : "upstream_invalid");

/**
 * A JSON body too large to hold, passed on as it arrives. Its head is checked before the status
 * goes out, so an answer refused early still gets the gateway's error; one refused later ends
 * short of its last byte. Tasks it created are bound before that byte goes.
 */
async function streamJson(
  upstream: UpstreamReader,
  head: Uint8Array,
  ids: ReadonlySet<JsonRpcId>,
  status: number,
  headers: Headers,
  relay: Relay,
): Promise<Result<Response, RelayFailure>> {
  const check = new StreamedJsonBody(ids, relay.maxResponseBytes);
  const first = check.pass(head);
  if (!first.ok) {
    upstream.cancel();
    return err(relayFailure(first.error));
  }
  const refused = (failure?: RelayFailure) => {
    relay.onComplete([...ids], failure);
    return null;
  };
  const body = passJson(upstream, first.value, {
    pass: (chunk) => {
      const passed = check.pass(chunk);
      return passed.ok ? passed.value : refused(relayFailure(passed.error));
    },
    end: async () => {
      const ended = check.end();
      if (!ended.ok) return refused(relayFailure(ended.error));
      if (ended.value.createdTasks.length > 0) await relay.bindTasks(ended.value.createdTasks);
      relay.onComplete([...ids].filter((id) => !ended.value.answered.includes(id)));
      return ended.value.release;
    },
    brokeOff: () => refused(),
  });
  return ok(new Response(body, { status, headers }));
}

function relayStream(upstream: Response, headers: Headers, relay: Relay): Response {
  headers.set("content-type", "text/event-stream");
  headers.set("cache-control", "no-cache");
  const unanswered = new Set(relay.shaping.requestIds ?? []);
  let failure: RelayFailure | undefined;
  const errorsFor = (message: string): SseEvent[] => {
    const missing = [...unanswered];
    relay.onComplete(missing, missing.length > 0 ? failure : undefined);
    return missing.map((id) => ({ data: JSON.stringify(jsonRpcError(id, RpcErrorCode.UpstreamInvalid, message)) }));
  };
  const ids = unshapedIds(relay);
  const refuse = () => {
    failure ??= "upstream_invalid";
  };
  const reframer = new SseReframer(
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
      onEnd: () =>
        errorsFor(
          failure === undefined ? "The upstream server closed the stream before answering" : "The upstream server's answer failed the gateway's checks",
        ),
      onOverflow: () => {
        failure = "response_too_large";
        return errorsFor(`The upstream server sent an event larger than the gateway's limit of ${relay.maxResponseBytes} bytes`);
      },
      ...(ids === null ? {} : { largeEventChars: STREAM_THRESHOLD, streamEvent: () => streamedEvent(ids, relay, unanswered, refuse) }),
    },
  );
  return new Response(passSse(new UpstreamReader(upstream.body!), reframer), { status: upstream.status, headers });
}

/** The check of one large event that needs no shaping: tasks it created are bound before its last character goes. */
function streamedEvent(ids: ReadonlySet<JsonRpcId>, relay: Relay, unanswered: Set<JsonRpcId>, refuse: () => void): StreamedEvent {
  const answer = new StreamedAnswer(ids);
  return {
    write: (text) => {
      const passed = answer.write(text);
      if (passed.ok) return passed.value;
      refuse();
      return null;
    },
    end: async () => {
      const ended = answer.end();
      if (!ended.ok) {
        refuse();
        return null;
      }
      if (ended.value.createdTasks.length > 0) await relay.bindTasks(ended.value.createdTasks);
      for (const id of ended.value.answered) unanswered.delete(id);
      return ended.value.release;
    },
  };
}

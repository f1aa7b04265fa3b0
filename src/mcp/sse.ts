/**
 * Server-Sent Events between the upstream and the client (MCP Streamable HTTP sends results,
 * progress and server requests as SSE).
 *
 * The gateway never passes upstream SSE bytes through. It parses them with `eventsource-parser`
 * (WHATWG "Parsing an event stream": CRLF, lone CR and LF line ends, multi-line `data:`, several
 * events per chunk) and writes every event again itself, so the client's parser and the gateway's
 * cannot disagree about where an event ends or what it holds (SSE re-framing, toolhive #6088).
 *
 * Re-emission rules:
 * - Fields are written `id`, `event`, `retry`, then one `data:` line per line of the data, then a blank line.
 * - `id` and `event` lose any CR, LF (which would start a new field) and NUL (for which a browser
 *   drops the whole `id` field); data is split on CR, LF and CRLF into `data:` lines, so no value
 *   can inject a field or end an event early.
 * - A `retry:` line arriving on its own is re-emitted on its own (it sets the client's reconnection
 *   delay and dispatches nothing).
 * - A comment is re-emitted as a bare `:` keepalive, without its text: long tool calls stay alive
 *   through idle timeouts, and nothing the gateway did not evaluate reaches the client.
 * - Fields the spec ignores (unknown names, a bad `retry`) are dropped, as are `id`-only blocks with
 *   no data, which eventsource-parser does not report.
 * - An event still open when the stream ends (no blank line after it) is dropped, as WHATWG requires.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  retry?: number;
}

export interface SseTransformOptions {
  /** Characters one pending line or event may buffer before the stream fails; default 16 Mi. */
  maxEventChars?: number;
  /** Called once when the upstream stream ends normally; the events it returns are emitted last. */
  onEnd?: () => SseEvent[];
}

export const defaultMaxEventChars = 16 * 1024 * 1024;

const LINE_BREAK = /\r\n|\r|\n/;
const FIELD_BREAKING = /[\r\n\0]/g;

export function serializeSseEvent(e: SseEvent): string {
  let out = "";
  if (e.id !== undefined) out += `id: ${e.id.replace(FIELD_BREAKING, "")}\n`;
  // An empty event name means "message" to a client; writing none says the same with fewer bytes.
  const event = e.event?.replace(FIELD_BREAKING, "");
  if (event) out += `event: ${event}\n`;
  if (e.retry !== undefined && Number.isSafeInteger(e.retry) && e.retry >= 0) out += `retry: ${e.retry}\n`;
  for (const line of e.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * Parses an upstream SSE byte stream and emits, as soon as each event is complete, what `onEvent`
 * makes of it: the event itself, several events, a replacement, or nothing (null).
 * An event larger than `maxEventChars`, or an `onEvent` that throws, errors the stream.
 */
export function sseTransform(
  onEvent: (e: SseEvent) => SseEvent | SseEvent[] | null,
  options: SseTransformOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const maxEventChars = options.maxEventChars ?? defaultMaxEventChars;
  const encoder = new TextEncoder();
  // Streaming decode: a multi-byte character split across chunks is joined, not replaced.
  const decoder = new TextDecoder("utf-8");
  // What the chunk being fed produced; flushed once per input chunk.
  let pending = "";
  let overflow = false;
  let endsWithCR = false;

  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      const emitted = onEvent(toSseEvent(message));
      if (emitted === null) return;
      for (const e of Array.isArray(emitted) ? emitted : [emitted]) pending += serializeSseEvent(e);
    },
    onRetry(retry: number) {
      if (Number.isSafeInteger(retry)) pending += `retry: ${retry}\n\n`;
    },
    onComment() {
      pending += ":\n\n";
    },
    onError(error) {
      if (error.type === "max-buffer-size-exceeded") overflow = true;
    },
    maxBufferSize: maxEventChars,
  });

  function feed(text: string, controller: TransformStreamDefaultController<Uint8Array>): void {
    endsWithCR = text.endsWith("\r");
    parser.feed(text);
    if (pending !== "") {
      controller.enqueue(encoder.encode(pending));
      pending = "";
    }
    if (overflow) throw new Error(`SSE event larger than ${maxEventChars} characters`);
  }

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const text = decoder.decode(chunk, { stream: true });
      if (text !== "") feed(text, controller);
    },
    flush(controller) {
      // A trailing partial character decodes to U+FFFD; the open event it belongs to is dropped anyway.
      let text = decoder.decode();
      // eventsource-parser holds back a final CR in case LF follows; at the end it is a line end
      // (WHATWG), and adding the LF makes that CRLF without adding a line.
      if (text === "" ? endsWithCR : text.endsWith("\r")) text += "\n";
      if (text !== "") feed(text, controller);
      const closing = options.onEnd?.() ?? [];
      if (closing.length > 0) controller.enqueue(encoder.encode(closing.map(serializeSseEvent).join("")));
    },
  });
}

function toSseEvent(message: EventSourceMessage): SseEvent {
  const e: SseEvent = { data: message.data };
  if (message.id !== undefined) e.id = message.id;
  if (message.event !== undefined) e.event = message.event;
  return e;
}

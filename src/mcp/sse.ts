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
  /** Characters one pending line or event may buffer; default 16 Mi. */
  maxEventChars?: number;
  /** Called once when the upstream stream ends normally; the events it returns are emitted last. */
  onEnd?: () => SseEvent[];
  /**
   * Called when one event outgrows `maxEventChars`: the events it returns are emitted and the stream
   * ends there. Without it the stream fails.
   */
  onOverflow?: () => SseEvent[];
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

/** What the parser found in one chunk, in order: events to shape, or text to write as it is. */
type Parsed = { event: SseEvent } | { text: string };

/**
 * Parses an upstream SSE byte stream and emits, as soon as each event is complete, what `onEvent`
 * makes of it: the event itself, several events, a replacement, or nothing (null). `onEvent` may
 * be async; events are shaped one at a time, in order. An `onEvent` that throws errors the stream.
 */
export function sseTransform(
  onEvent: (e: SseEvent) => SseEvent | SseEvent[] | null | Promise<SseEvent | SseEvent[] | null>,
  options: SseTransformOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const maxEventChars = options.maxEventChars ?? defaultMaxEventChars;
  const encoder = new TextEncoder();
  // Streaming decode: a multi-byte character split across chunks is joined, not replaced.
  const decoder = new TextDecoder("utf-8");
  let found: Parsed[] = [];
  let overflow = false;
  let ended = false;
  let endsWithCR = false;

  const parser = createParser({
    onEvent: (message: EventSourceMessage) => found.push({ event: toSseEvent(message) }),
    onRetry: (retry: number) => {
      if (Number.isSafeInteger(retry)) found.push({ text: `retry: ${retry}\n\n` });
    },
    onComment: () => found.push({ text: ":\n\n" }),
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") overflow = true;
    },
    maxBufferSize: maxEventChars,
  });

  async function feed(text: string, controller: TransformStreamDefaultController<Uint8Array>): Promise<void> {
    endsWithCR = text.endsWith("\r");
    parser.feed(text);
    const parsed = found;
    found = [];
    let out = "";
    for (const item of parsed) {
      if ("text" in item) {
        out += item.text;
        continue;
      }
      const emitted = await onEvent(item.event);
      if (emitted === null) continue;
      for (const e of Array.isArray(emitted) ? emitted : [emitted]) out += serializeSseEvent(e);
    }
    if (out !== "") controller.enqueue(encoder.encode(out));
    if (!overflow) return;
    if (options.onOverflow === undefined) throw new Error(`SSE event larger than ${maxEventChars} characters`);
    const closing = options.onOverflow();
    if (closing.length > 0) controller.enqueue(encoder.encode(closing.map(serializeSseEvent).join("")));
    ended = true;
    controller.terminate();
  }

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (ended) return;
      const text = decoder.decode(chunk, { stream: true });
      if (text !== "") await feed(text, controller);
    },
    async flush(controller) {
      if (ended) return;
      // A trailing partial character decodes to U+FFFD; the open event it belongs to is dropped anyway.
      let text = decoder.decode();
      // eventsource-parser holds back a final CR in case LF follows; at the end it is a line end
      // (WHATWG), and adding the LF makes that CRLF without adding a line.
      if (text === "" ? endsWithCR : text.endsWith("\r")) text += "\n";
      if (text !== "") await feed(text, controller);
      if (ended) return;
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

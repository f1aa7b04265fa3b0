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

type OnEvent = (e: SseEvent) => SseEvent | SseEvent[] | null | Promise<SseEvent | SseEvent[] | null>;

/**
 * Parses an upstream SSE byte stream and emits, as soon as each event is complete, what `onEvent`
 * makes of it: the event itself, several events, a replacement, or nothing (null). `onEvent` may
 * be async; events are shaped one at a time, in order. An `onEvent` that throws errors the stream.
 */
export function sseTransform(onEvent: OnEvent, options: SseTransformOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const reframer = new Reframer(onEvent, options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform: (chunk, controller) => reframer.chunk(chunk, controller),
    flush: (controller) => reframer.end(controller),
  });
}

/** One stream's parser state: what eventsource-parser found, and whether the stream has ended. */
class Reframer {
  readonly #onEvent: OnEvent;
  readonly #options: SseTransformOptions;
  readonly #maxEventChars: number;
  readonly #encoder = new TextEncoder();
  // Streaming decode: a multi-byte character split across chunks is joined, not replaced.
  readonly #decoder = new TextDecoder("utf-8");
  readonly #parser;
  #found: Parsed[] = [];
  #overflow = false;
  #ended = false;
  #endsWithCR = false;

  constructor(onEvent: OnEvent, options: SseTransformOptions) {
    this.#onEvent = onEvent;
    this.#options = options;
    this.#maxEventChars = options.maxEventChars ?? defaultMaxEventChars;
    this.#parser = createParser({
      onEvent: (message: EventSourceMessage) => this.#found.push({ event: toSseEvent(message) }),
      onRetry: (retry: number) => {
        if (Number.isSafeInteger(retry)) this.#found.push({ text: `retry: ${retry}\n\n` });
      },
      onComment: () => this.#found.push({ text: ":\n\n" }),
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") this.#overflow = true;
      },
      maxBufferSize: this.#maxEventChars,
    });
  }

  async chunk(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.#ended) return;
    const text = this.#decoder.decode(chunk, { stream: true });
    if (text !== "") await this.#feed(text, controller);
  }

  async end(controller: TransformStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.#ended) return;
    // A trailing partial character decodes to U+FFFD; the open event it belongs to is dropped anyway.
    let text = this.#decoder.decode();
    // eventsource-parser holds back a final CR in case LF follows; at the end it is a line end
    // (WHATWG), and adding the LF makes that CRLF without adding a line.
    if (text === "" ? this.#endsWithCR : text.endsWith("\r")) text += "\n";
    if (text !== "") await this.#feed(text, controller);
    if (!this.#ended) this.#emit(controller, this.#options.onEnd?.() ?? []);
  }

  async #feed(text: string, controller: TransformStreamDefaultController<Uint8Array>): Promise<void> {
    this.#endsWithCR = text.endsWith("\r");
    this.#parser.feed(text);
    const parsed = this.#found;
    this.#found = [];
    let out = "";
    for (const item of parsed) {
      if ("text" in item) {
        out += item.text;
        continue;
      }
      const emitted = await this.#onEvent(item.event);
      if (emitted === null) continue;
      for (const e of Array.isArray(emitted) ? emitted : [emitted]) out += serializeSseEvent(e);
    }
    if (out !== "") controller.enqueue(this.#encoder.encode(out));
    if (!this.#overflow) return;
    if (this.#options.onOverflow === undefined) throw new Error(`SSE event larger than ${this.#maxEventChars} characters`);
    this.#emit(controller, this.#options.onOverflow());
    this.#ended = true;
    controller.terminate();
  }

  #emit(controller: TransformStreamDefaultController<Uint8Array>, events: SseEvent[]): void {
    if (events.length > 0) controller.enqueue(this.#encoder.encode(events.map(serializeSseEvent).join("")));
  }
}

function toSseEvent(message: EventSourceMessage): SseEvent {
  const e: SseEvent = { data: message.data };
  if (message.id !== undefined) e.id = message.id;
  if (message.event !== undefined) e.event = message.event;
  return e;
}

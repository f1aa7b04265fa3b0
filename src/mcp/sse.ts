/**
 * Server-Sent Events between the upstream and the client (MCP Streamable HTTP sends results,
 * progress and server requests as SSE).
 *
 * The gateway never passes upstream SSE bytes through. It parses them (src/mcp/sse-parser.ts,
 * WHATWG "Parsing an event stream": CRLF, lone CR and LF line ends, multi-line `data:`, several
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
 *   no data.
 * - An event still open when the stream ends (no blank line after it) is dropped, as WHATWG requires.
 *
 * An event whose data passes `largeEventChars` (when the caller allows it) is not held: it is
 * written as it arrives, its data checked piece by piece by a `StreamedEvent`, and only the
 * blank line that dispatches it — with the last character of its data, held back — waits for the
 * check to pass. One that fails is ended as a `discarded` event whose data is cut short (no
 * complete message, and a type MCP clients do not read as a message). Fields of such an event
 * that follow its data, and a `retry` inside it, are written just before its blank line; comments
 * inside it are dropped.
 */
import { SseParser, type SseItem } from "./sse-parser";

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  retry?: number;
}

/** Checks the data of one large event as it passes (see src/gateway/respond.ts). */
export interface StreamedEvent {
  /** The next piece of data: how many of its characters may be written now, or null when the event fails. */
  write(text: string): number | null;
  /** The event's blank line came: the characters that complete its data, or null when it fails. */
  end(): Promise<string | null>;
}

export interface SseTransformOptions {
  /** Characters one event may hold (buffered or streamed); default 16 Mi. */
  maxEventChars?: number;
  /** Called once when the upstream stream ends normally; the events it returns are emitted last. */
  onEnd?: () => SseEvent[];
  /**
   * Called when one event outgrows `maxEventChars`: the events it returns are emitted and the stream
   * ends there. Without it the stream fails.
   */
  onOverflow?: () => SseEvent[];
  /** Data longer than this is not buffered but handed to `streamEvent`; default: every event is buffered. */
  largeEventChars?: number;
  streamEvent?: (head: SseEvent) => StreamedEvent;
}

export const defaultMaxEventChars = 16 * 1024 * 1024;
/** The type of an event the gateway had started to write and then refused. */
export const DISCARDED_EVENT = "discarded";

const LINE_BREAK = /\r\n|\r|\n/;
const FIELD_BREAKING = /[\r\n\0]/g;
const DISCARD = `\nevent: ${DISCARDED_EVENT}\n\n`;

export function serializeSseEvent(e: SseEvent): string {
  let out = fieldLines(e);
  for (const line of e.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** The `id`, `event` and `retry` lines of an event. */
function fieldLines(e: Omit<SseEvent, "data">): string {
  let out = "";
  if (e.id !== undefined) out += `id: ${e.id.replace(FIELD_BREAKING, "")}\n`;
  // An empty event name means "message" to a client; writing none says the same with fewer bytes.
  const event = e.event?.replace(FIELD_BREAKING, "");
  if (event) out += `event: ${event}\n`;
  if (e.retry !== undefined && Number.isSafeInteger(e.retry) && e.retry >= 0) out += `retry: ${e.retry}\n`;
  return out;
}

type OnEvent = (e: SseEvent) => SseEvent | SseEvent[] | null | Promise<SseEvent | SseEvent[] | null>;

/**
 * Parses an upstream SSE byte stream and emits, as soon as each event is complete, what `onEvent`
 * makes of it: the event itself, several events, a replacement, or nothing (null). `onEvent` may
 * be async; events are shaped one at a time, in order. An `onEvent` that throws errors the stream.
 */
export function sseTransform(onEvent: OnEvent, options: SseTransformOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const reframer = new SseReframer(onEvent, options);
  const encoder = new TextEncoder();
  return new TransformStream<Uint8Array, Uint8Array>({
    transform: async (chunk, controller) => {
      const out = await reframer.read(chunk);
      if (out !== "") controller.enqueue(encoder.encode(out));
      if (reframer.ended) controller.terminate();
    },
    flush: async (controller) => {
      const out = await reframer.end();
      if (out !== "") controller.enqueue(encoder.encode(out));
    },
  });
}

/** The large event being written: its check, the fields it was opened with, and what came after its data. */
interface OpenEvent {
  check: StreamedEvent;
  head: Omit<SseEvent, "data">;
  failed: boolean;
  retry?: number;
}

/**
 * One stream's re-framing, apart from any stream API: bytes in, the text to write out. Reads are
 * handled one at a time, in order (each awaited before the next).
 */
export class SseReframer {
  readonly #onEvent: OnEvent;
  readonly #options: SseTransformOptions;
  readonly #maxEventChars: number;
  // Streaming decode: a multi-byte character split across chunks is joined, not replaced; a
  // leading byte order mark is dropped.
  readonly #decoder = new TextDecoder("utf-8");
  readonly #parser: SseParser;
  #open: OpenEvent | null = null;
  #ended = false;

  constructor(onEvent: OnEvent, options: SseTransformOptions = {}) {
    this.#onEvent = onEvent;
    this.#options = options;
    this.#maxEventChars = options.maxEventChars ?? defaultMaxEventChars;
    const large = options.streamEvent === undefined ? Number.POSITIVE_INFINITY : (options.largeEventChars ?? Number.POSITIVE_INFINITY);
    this.#parser = new SseParser(this.#maxEventChars, large);
  }

  /** Whether the stream is over (an event outgrew the limit): nothing more is read, the rest is dropped. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next chunk of the upstream's bytes: the text to write now. */
  async read(chunk: Uint8Array): Promise<string> {
    if (this.#ended) return "";
    const text = this.#decoder.decode(chunk, { stream: true });
    return text === "" ? "" : this.#write(this.#parser.feed(text));
  }

  /** The upstream's stream ended: the text to write last. */
  async end(): Promise<string> {
    if (this.#ended) return "";
    this.#ended = true;
    // A trailing partial character decodes to U+FFFD; the open event it belongs to is dropped anyway.
    const text = this.#decoder.decode();
    let out = text === "" ? "" : await this.#write(this.#parser.feed(text));
    if (this.#open !== null && !this.#open.failed) out += DISCARD;
    this.#open = null;
    return out + (this.#options.onEnd?.() ?? []).map(serializeSseEvent).join("");
  }

  async #write(items: SseItem[]): Promise<string> {
    let out = "";
    for (const item of items) {
      if (item.kind === "overflow") {
        if (this.#options.onOverflow === undefined) throw new Error(`SSE event larger than ${this.#maxEventChars} characters`);
        if (this.#open !== null && !this.#open.failed) out += DISCARD;
        this.#ended = true;
        return out + this.#options.onOverflow().map(serializeSseEvent).join("");
      }
      out += await this.#item(item);
    }
    return out;
  }

  /** What one item of the parser's becomes on the wire. */
  async #item(item: Exclude<SseItem, { kind: "overflow" }>): Promise<string> {
    switch (item.kind) {
      case "event": {
        const emitted = await this.#onEvent(item.event);
        if (emitted === null) return "";
        return (Array.isArray(emitted) ? emitted : [emitted]).map(serializeSseEvent).join("");
      }
      case "retry":
        if (!Number.isSafeInteger(item.retry)) return "";
        if (this.#open === null) return `retry: ${item.retry}\n\n`;
        this.#open.retry = item.retry;
        return "";
      case "comment":
        return this.#open === null ? ":\n\n" : "";
      case "open":
        return this.#opened(item.event);
      case "data":
        return this.#data(item.text);
      case "close":
        return this.#closed(item);
    }
  }

  #opened(head: SseEvent): string {
    const { data, ...fields } = head;
    this.#open = { check: this.#options.streamEvent!(head), head: fields, failed: false };
    // The fields, and the start of the first data line; the data so far goes through the check.
    return `${fieldLines(fields)}data: ${this.#data(data)}`;
  }

  #data(text: string): string {
    const open = this.#open!;
    if (open.failed) return "";
    const passed = open.check.write(text);
    if (passed === null) {
      open.failed = true;
      return DISCARD;
    }
    // Data holds no CR (the parser split lines on it); each LF starts another data line.
    return text.slice(0, passed).replaceAll("\n", "\ndata: ");
  }

  async #closed(close: Extract<SseItem, { kind: "close" }>): Promise<string> {
    const open = this.#open!;
    this.#open = null;
    if (open.failed) return "";
    const rest = await open.check.end();
    if (rest === null) return DISCARD;
    // Fields that came after the data count at dispatch, so they are written just before the blank line.
    const late: Omit<SseEvent, "data"> = {};
    if (close.id !== open.head.id && close.id !== undefined) late.id = close.id;
    if (close.event !== open.head.event) late.event = close.event ?? "message";
    if (open.retry !== undefined) late.retry = open.retry;
    return `${rest}\n${fieldLines(late)}\n`;
  }
}

/**
 * Reads an upstream's event stream as WHATWG HTML "Parsing an event stream" says a client reads
 * it, one decoded piece at a time, and reports what it found in order. Pure.
 *
 * - Lines end at CRLF, LF or a lone CR (a CR at the end of a piece ends its line; an LF starting
 *   the next piece is then the same line end).
 * - `field: value` with one leading space of the value removed; a line without a colon is a field
 *   with an empty value; a line starting with a colon is a comment; unknown fields are ignored.
 * - `data` lines join with LF; a blank line dispatches an event that has at least one data line;
 *   `event:` with an empty value means "message"; an `id` holding NUL is ignored; `retry` must be
 *   ASCII digits. The id and type belong to one event (as eventsource-parser, which MCP SDK
 *   clients use, reports them).
 * - An event still open when the stream ends is never dispatched.
 *
 * Unlike eventsource-parser it can hand on an event too large to hold: once its data passes
 * `largeEventChars`, it reports `open` (the fields and data so far), then the rest of the data as
 * it arrives (`data`, with LF between lines), then `close` at the blank line. Comments and unknown
 * fields are skipped, never held, so only an event's data and its short fields are ever buffered.
 */
import type { SseEvent } from "./sse";

export type SseItem =
  | { kind: "event"; event: SseEvent }
  | { kind: "retry"; retry: number }
  | { kind: "comment" }
  /** The event's data passed `largeEventChars`: what it holds so far. */
  | { kind: "open"; event: SseEvent }
  /** More data of the open event. */
  | { kind: "data"; text: string }
  /** The open event's blank line: the id and type it is dispatched with (fields may follow its data). */
  | { kind: "close"; id?: string; event?: string }
  /** One event or line outgrew `maxEventChars`: nothing more is read. */
  | { kind: "overflow" };

// What the current line is known to be.
const HEAD = 0; // its field name is still being read
const VALUE = 1; // a known field's value
const SKIP = 2; // an unknown field, or a comment (`#comment`)

/** Longer than any field name the parser knows ("event", "retry"). */
const MAX_FIELD_NAME = 5;

export class SseParser {
  readonly #maxEventChars: number;
  readonly #largeEventChars: number;
  #items: SseItem[] = [];
  #overflowed = false;
  // The event being read.
  #id: string | undefined;
  #type: string | undefined;
  #data = "";
  #dataLines = 0;
  #eventChars = 0;
  #open = false;
  // The line being read.
  #state = HEAD;
  #head = "";
  #field = "";
  #value = "";
  #comment = false;
  #stripSpace = false;
  #skipLF = false;

  constructor(maxEventChars: number, largeEventChars = Number.POSITIVE_INFINITY) {
    this.#maxEventChars = maxEventChars;
    this.#largeEventChars = largeEventChars;
  }

  /** Reads the next piece; returns what it completed, in order. */
  feed(text: string): SseItem[] {
    const n = text.length;
    let i = 0;
    // Where the next LF and CR are (-1: none left), each searched for again only once passed:
    // two indexOf scans are several times faster than a regular expression for either.
    let lf = -2;
    let cr = -2;
    while (i < n && !this.#overflowed) {
      if (this.#skipLF) {
        this.#skipLF = false;
        if (text.charCodeAt(i) === 0x0a) {
          i++;
          continue;
        }
      }
      if (lf !== -1 && lf < i) lf = text.indexOf("\n", i);
      if (cr !== -1 && cr < i) cr = text.indexOf("\r", i);
      const end = lf < 0 ? (cr < 0 ? n : cr) : cr < 0 ? lf : Math.min(lf, cr);
      if (end > i) this.#segment(text, i, end);
      if (end === n) break;
      this.#skipLF = text.charCodeAt(end) === 0x0d;
      if (!this.#overflowed) this.#lineDone();
      i = end + 1;
    }
    const items = this.#items;
    this.#items = [];
    return items;
  }

  /** Part of the current line, [start, end) of `text`. */
  #segment(text: string, start: number, end: number): void {
    if (this.#state === HEAD) {
      if (this.#head === "" && text.charCodeAt(start) === 0x3a) {
        this.#state = SKIP;
        this.#comment = true;
        return;
      }
      const colon = text.indexOf(":", start);
      if (colon < 0 || colon >= end) {
        this.#head += text.slice(start, end);
        if (this.#head.length > MAX_FIELD_NAME) this.#state = SKIP;
        return;
      }
      this.#fieldNamed(this.#head + text.slice(start, colon));
      start = colon + 1;
    }
    if (this.#state !== VALUE || start === end) return;
    if (this.#stripSpace) {
      this.#stripSpace = false;
      if (text.charCodeAt(start) === 0x20 && ++start === end) return;
    }
    if (this.#field === "data") this.#dataValue(text.slice(start, end));
    else this.#fieldValue(text.slice(start, end));
  }

  #fieldNamed(name: string): void {
    this.#head = "";
    if (name !== "data" && name !== "id" && name !== "event" && name !== "retry") {
      this.#state = SKIP;
      return;
    }
    this.#state = VALUE;
    this.#field = name;
    this.#stripSpace = true;
    if (name === "data") this.#dataValue(this.#dataLines++ > 0 ? "\n" : "");
  }

  #dataValue(text: string): void {
    if (text === "") return;
    this.#eventChars += text.length;
    if (this.#eventChars > this.#maxEventChars) return this.#overflow();
    if (this.#open) {
      this.#items.push({ kind: "data", text });
      return;
    }
    this.#data += text;
    if (this.#data.length <= this.#largeEventChars) return;
    this.#items.push({ kind: "open", event: this.#event() });
    this.#data = "";
    this.#open = true;
  }

  #fieldValue(text: string): void {
    this.#value += text;
    if (this.#value.length + this.#data.length > this.#maxEventChars) this.#overflow();
  }

  #overflow(): void {
    this.#overflowed = true;
    this.#items.push({ kind: "overflow" });
  }

  #lineDone(): void {
    const state = this.#state;
    const head = this.#head;
    const comment = this.#comment;
    const field = this.#field;
    const value = this.#value;
    this.#state = HEAD;
    this.#head = "";
    this.#field = "";
    this.#value = "";
    this.#comment = false;
    if (state === SKIP) {
      if (comment) this.#items.push({ kind: "comment" });
      return;
    }
    if (state === VALUE) return this.#fieldDone(field, value);
    if (head === "") return this.#dispatch();
    // A line without a colon: the whole line names the field, and its value is empty.
    this.#fieldNamed(head);
    const known = this.#state === VALUE;
    this.#state = HEAD;
    this.#field = "";
    if (known && head !== "data") this.#fieldDone(head, "");
  }

  #fieldDone(field: string, value: string): void {
    if (field === "event") this.#type = value === "" ? undefined : value;
    else if (field === "id") {
      if (!value.includes("\0")) this.#id = value;
    } else if (field === "retry" && /^\d+$/.test(value)) this.#items.push({ kind: "retry", retry: Number.parseInt(value, 10) });
  }

  #dispatch(): void {
    if (this.#open) {
      const close: SseItem = { kind: "close" };
      if (this.#id !== undefined) close.id = this.#id;
      if (this.#type !== undefined) close.event = this.#type;
      this.#items.push(close);
    } else if (this.#dataLines > 0) this.#items.push({ kind: "event", event: this.#event() });
    this.#id = undefined;
    this.#type = undefined;
    this.#data = "";
    this.#dataLines = 0;
    this.#eventChars = 0;
    this.#open = false;
  }

  #event(): SseEvent {
    const e: SseEvent = { data: this.#data };
    if (this.#id !== undefined) e.id = this.#id;
    if (this.#type !== undefined) e.event = this.#type;
    return e;
  }
}

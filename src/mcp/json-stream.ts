/**
 * The strict JSON parser of src/mcp/json.ts, for a text that arrives in pieces and is never held
 * whole: an answer of tens of megabytes passes through the gateway while it is checked. Pure.
 *
 * It refuses exactly what parseStrictJson refuses (same grammar, same codes: duplicate and
 * case-duplicate keys, NUL in keys, lone surrogates escaped or raw, non-finite numbers, the depth,
 * array and key limits), however the text is cut, with two bounds of its own (`too_long`): a
 * number literal may not exceed `maxNumberChars`, and the keys of the objects open at one time may
 * not exceed `maxOpenKeyChars` together, since each must be held to find duplicates. Nothing else
 * is held: a depth stack, the keys of the open objects, and the skeleton a `CaptureSpec` asks for
 * (src/mcp/json-capture.ts).
 *
 * Longer than 300 lines because it is one state machine (RFC 8259 read a character at a time,
 * resumable at any cut) and its refusals, read top to bottom.
 */
import { capturesMembers, memberSpec, placeCaptured, TOO_LONG, type CaptureSpec, type CaptureTarget } from "./json-capture";
import { defaultJsonLimits, type JsonErrorCode, type JsonLimits } from "./json";
import { err, ok, type Result } from "../result";

export type JsonStreamError = { code: JsonErrorCode | "too_long"; message: string; offset: number };

export interface JsonStreamBounds {
  maxNumberChars: number;
  maxOpenKeyChars: number;
  /** Characters of one string kept exactly in the skeleton; a longer one is kept as TOO_LONG. */
  maxCapturedChars: number;
}

export const defaultJsonStreamBounds: JsonStreamBounds = Object.freeze({ maxNumberChars: 1024, maxOpenKeyChars: 1 << 20, maxCapturedChars: 1 << 20 });

// What the next character may be.
const VALUE = 0; // a value (or, just after '[', the ']')
const AFTER = 1; // ',' or the close of the container, after a member's value
const KEY = 2; // a key (or, just after '{', the '}')
const COLON = 3;
const STRING = 4;
const NUMBER = 5;
const LITERAL = 6;
const DONE = 7; // the top-level value is complete: whitespace only

// Inside a string: what follows a backslash.
const ESC_NONE = 0;
const ESC_START = 1; // after '\'
const ESC_HEX = 2; // inside \uXXXX
const ESC_LOW_BACKSLASH = 3; // after a high surrogate escape: '\' must follow
// Inside a number (RFC 8259 §6); the ones marked "end" may end it.
const N_MINUS = 0;
const N_ZERO = 1; // end
const N_INT = 2; // end
const N_DOT = 3;
const N_FRACTION = 4; // end
const N_E = 5;
const N_E_SIGN = 6;
const N_EXPONENT = 7; // end

interface Frame {
  object: boolean;
  /** Elements or keys so far. */
  count: number;
  /** Folded key → exact key (objects). */
  keys: Map<string, string> | null;
  keyChars: number;
  /** The key whose value is being read (objects). */
  key: string;
  capture: CaptureTarget | null;
}

class StreamFailure {
  constructor(readonly error: JsonStreamError) {}
}

/** Characters a string may hold as they are: not a quote, a backslash, a control character or a surrogate. */
const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;

const isWhitespace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

export class JsonStreamValidator {
  readonly #limits: JsonLimits;
  readonly #bounds: JsonStreamBounds;
  readonly #stack: Frame[] = [];
  #state = VALUE;
  /** After '[' or '{': the container may close at once. */
  #openedEmpty = false;
  #offset = 0;
  #failure: JsonStreamError | null = null;
  #completedAt = -1;
  #openKeyChars = 0;
  #root: unknown = undefined;
  #rootKind: "object" | "array" | "scalar" | null = null;
  readonly #rootSpec: CaptureSpec | null;
  /** How the value being read is captured, or null. */
  #slot: CaptureSpec | null = null;
  // The string being read.
  #isKey = false;
  #keep = false;
  #raw = "";
  #tooLong = false;
  #escape = ESC_NONE;
  #hexLeft = 0;
  #hexUnit = 0;
  #needLow = false;
  #rawHigh = false;
  // The number or literal being read.
  #number = N_MINUS;
  #numberText = "";
  #literal = "";
  #literalAt = 0;

  constructor(capture: CaptureSpec | null = null, limits: JsonLimits = defaultJsonLimits, bounds: JsonStreamBounds = defaultJsonStreamBounds) {
    this.#rootSpec = capture;
    this.#limits = limits;
    this.#bounds = bounds;
  }

  /** What the top-level value is, once its first character has been read. */
  get rootKind(): "object" | "array" | "scalar" | null {
    return this.#rootKind;
  }

  /**
   * Reads the next piece. On success, the index in `text` just past the character that completed
   * the top-level value, or -1 if it did not complete in this piece (a number completes only at
   * the next character or the end).
   */
  write(text: string): Result<number, JsonStreamError> {
    if (this.#failure !== null) return err(this.#failure);
    this.#completedAt = -1;
    try {
      this.#read(text);
    } catch (thrown) {
      if (!(thrown instanceof StreamFailure)) throw thrown;
      this.#failure = thrown.error;
      return err(thrown.error);
    }
    this.#offset += text.length;
    return ok(this.#completedAt);
  }

  /** The text ended: the skeleton of the whole document, or why it is refused. */
  end(): Result<unknown, JsonStreamError> {
    if (this.#failure !== null) return err(this.#failure);
    try {
      if (this.#state === NUMBER) this.#numberDone(0);
      if (this.#state !== DONE) this.#failAtEnd();
    } catch (thrown) {
      if (!(thrown instanceof StreamFailure)) throw thrown;
      this.#failure = thrown.error;
      return err(thrown.error);
    }
    return ok(this.#root);
  }

  #failAtEnd(): never {
    const top = this.#stack.at(-1);
    // parseStrictJson counts an array element before reading it, even at the end of the text.
    if (this.#state === VALUE && top !== undefined && !top.object) this.#countElement(top, 0);
    if (this.#state === STRING) this.#fail("syntax", "unterminated string", 0);
    this.#fail("syntax", "unexpected end of input", 0);
  }

  #fail(code: JsonStreamError["code"], message: string, at: number): never {
    throw new StreamFailure({ code, message, offset: this.#offset + at });
  }

  #read(text: string): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      switch (this.#state) {
        case STRING:
          i = this.#string(text, i);
          break;
        case NUMBER:
          i = this.#numberChars(text, i);
          break;
        case LITERAL:
          i = this.#literalChars(text, i);
          break;
        default: {
          const c = text.charCodeAt(i);
          if (!isWhitespace(c)) this.#structural(c, i);
          i++;
        }
      }
    }
  }

  /** A character outside strings, numbers and literals. */
  #structural(c: number, i: number): void {
    const top = this.#stack.at(-1);
    switch (this.#state) {
      case VALUE:
        if (c === 0x5d && this.#openedEmpty) return this.#close(top!, i);
        return this.#beginValue(c, top, i);
      case KEY:
        if (c === 0x7d && this.#openedEmpty) return this.#close(top!, i);
        if (c !== 0x22) this.#fail("syntax", "expected a string key", i);
        return this.#beginString(true);
      case COLON:
        if (c !== 0x3a) this.#fail("syntax", "expected ':' after an object key", i);
        this.#state = VALUE;
        this.#openedEmpty = false;
        return;
      case AFTER:
        if (c === 0x2c) {
          this.#state = top!.object ? KEY : VALUE;
          this.#openedEmpty = false;
          return;
        }
        if (c === (top!.object ? 0x7d : 0x5d)) return this.#close(top!, i);
        return this.#fail("syntax", top!.object ? "expected ',' or '}'" : "expected ',' or ']'", i);
      default:
        return this.#fail("syntax", "unexpected text after the JSON value", i);
    }
  }

  #countElement(frame: Frame, i: number): void {
    if (++frame.count > this.#limits.maxArrayLength) this.#fail("array_too_long", `array longer than ${this.#limits.maxArrayLength}`, i);
  }

  #beginValue(c: number, top: Frame | undefined, i: number): void {
    if (top !== undefined && !top.object) {
      this.#countElement(top, i);
      this.#slot = top.capture?.spec.elements ?? null;
    } else if (top === undefined) {
      this.#slot = this.#rootSpec;
      this.#rootKind = c === 0x7b ? "object" : c === 0x5b ? "array" : "scalar";
    }
    if (c === 0x7b || c === 0x5b) return this.#open(c === 0x7b, i);
    if (c === 0x22) return this.#beginString(false);
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      this.#literal = c === 0x74 ? "true" : c === 0x66 ? "false" : "null";
      this.#literalAt = 1;
      this.#state = LITERAL;
      return;
    }
    if (c === 0x2d || isDigit(c)) {
      this.#number = c === 0x2d ? N_MINUS : c === 0x30 ? N_ZERO : N_INT;
      this.#numberText = String.fromCharCode(c);
      this.#state = NUMBER;
      return;
    }
    this.#fail("syntax", "unexpected character", i);
  }

  #open(object: boolean, i: number): void {
    if (this.#stack.length + 1 > this.#limits.maxDepth) this.#fail("too_deep", `nesting deeper than ${this.#limits.maxDepth}`, i);
    let capture: CaptureTarget | null = null;
    const slot = this.#slot;
    if (slot !== null) {
      const value = object ? {} : [];
      this.#place(value);
      if (capturesMembers(slot, object)) capture = { spec: slot, value };
    }
    this.#stack.push({ object, count: 0, keys: null, keyChars: 0, key: "", capture });
    this.#state = object ? KEY : VALUE;
    this.#openedEmpty = true;
  }

  #close(frame: Frame, i: number): void {
    this.#stack.pop();
    this.#openKeyChars -= frame.keyChars;
    this.#valueDone(i + 1);
  }

  /** Puts a captured value where it belongs: the root, or the captured container on top. */
  #place(value: unknown): void {
    const top = this.#stack.at(-1);
    if (top === undefined) this.#root = value;
    else if (top.capture !== null) placeCaptured(top.capture, top.key, value);
  }

  /** A value ended just before index `end` of the current piece. */
  #valueDone(end: number): void {
    this.#slot = null;
    if (this.#stack.length > 0) {
      this.#state = AFTER;
      return;
    }
    this.#state = DONE;
    this.#completedAt = end;
  }

  #beginString(isKey: boolean): void {
    this.#state = STRING;
    this.#isKey = isKey;
    this.#keep = isKey || this.#slot?.exact === true;
    this.#raw = "";
    this.#tooLong = false;
  }

  /** Inside a string: returns the index after what it read. */
  #string(text: string, i: number): number {
    const n = text.length;
    const start = i;
    while (i < n) {
      if (this.#escape !== ESC_NONE || this.#rawHigh) {
        this.#slowChar(text.charCodeAt(i), i);
        i++;
        continue;
      }
      // The hot path: most of a large answer is the inside of a few strings. A regular expression
      // skips ordinary characters several times faster than a loop of charCodeAt.
      PLAIN_RUN.lastIndex = i;
      PLAIN_RUN.test(text);
      i = PLAIN_RUN.lastIndex;
      if (i === n) break;
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.#keepRaw(text, start, i);
        this.#stringDone(i);
        return i + 1;
      }
      if (c === 0x5c) this.#escape = ESC_START;
      else if (c < 0x20) this.#fail("syntax", "unescaped control character in a string", i);
      else if (c <= 0xdbff) this.#rawHigh = true;
      else this.#fail("syntax", "lone surrogate in a string", i);
      i++;
    }
    this.#keepRaw(text, start, n);
    return n;
  }

  /** A character after a raw high surrogate, or inside an escape. */
  #slowChar(c: number, i: number): void {
    if (this.#rawHigh) {
      if (c < 0xdc00 || c > 0xdfff) this.#fail("syntax", "lone surrogate in a string", i);
      this.#rawHigh = false;
      return;
    }
    switch (this.#escape) {
      case ESC_LOW_BACKSLASH:
        if (c !== 0x5c) this.#fail("syntax", "lone surrogate in a \\u escape", i);
        this.#escape = ESC_START;
        return;
      case ESC_START:
        if (c === 0x75) {
          this.#escape = ESC_HEX;
          this.#hexLeft = 4;
          this.#hexUnit = 0;
          return;
        }
        if (this.#needLow) this.#fail("syntax", "lone surrogate in a \\u escape", i);
        if (c !== 0x22 && c !== 0x5c && c !== 0x2f && c !== 0x62 && c !== 0x66 && c !== 0x6e && c !== 0x72 && c !== 0x74) {
          this.#fail("syntax", "invalid escape", i);
        }
        this.#escape = ESC_NONE;
        return;
      default:
        return this.#hexDigit(c, i);
    }
  }

  #hexDigit(c: number, i: number): void {
    let digit: number;
    if (isDigit(c)) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x37;
    else return this.#fail("syntax", "invalid \\u escape", i);
    this.#hexUnit = this.#hexUnit * 16 + digit;
    if (--this.#hexLeft > 0) return;
    const unit = this.#hexUnit;
    this.#escape = ESC_NONE;
    if (this.#needLow) {
      if (unit < 0xdc00 || unit > 0xdfff) this.#fail("syntax", "lone surrogate in a \\u escape", i);
      this.#needLow = false;
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      this.#needLow = true;
      this.#escape = ESC_LOW_BACKSLASH;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      this.#fail("syntax", "lone surrogate in a \\u escape", i);
    }
  }

  /** Keeps the raw text of a key or an exactly captured string, within its bound. */
  #keepRaw(text: string, start: number, end: number): void {
    if (!this.#keep || end === start) return;
    this.#raw += text.slice(start, end);
    if (this.#isKey) {
      if (this.#openKeyChars + this.#raw.length > this.#bounds.maxOpenKeyChars) {
        this.#fail("too_long", `keys of open objects longer than ${this.#bounds.maxOpenKeyChars} characters`, end);
      }
    } else if (this.#raw.length > this.#bounds.maxCapturedChars) {
      this.#keep = false;
      this.#tooLong = true;
      this.#raw = "";
    }
  }

  #stringDone(i: number): void {
    if (this.#isKey) return this.#keyDone(i);
    if (this.#slot !== null) this.#place(this.#tooLong ? TOO_LONG : this.#slot.exact === true ? decode(this.#raw) : "");
    this.#raw = "";
    this.#valueDone(i + 1);
  }

  #keyDone(i: number): void {
    const frame = this.#stack.at(-1)!;
    // JSON.parse of the literal decodes it exactly as parseStrictJson does, into a string of its own.
    const key = decode(this.#raw);
    this.#raw = "";
    if (++frame.count > this.#limits.maxKeys) this.#fail("too_many_keys", `object has more than ${this.#limits.maxKeys} keys`, i);
    if (key.includes("\0")) this.#fail("nul_in_key", "object key contains U+0000", i);
    frame.keys ??= new Map();
    const fold = key.toUpperCase().toLowerCase();
    const earlier = frame.keys.get(fold);
    if (earlier !== undefined) {
      if (earlier === key) this.#fail("duplicate_key", "duplicate object key", i);
      this.#fail("case_duplicate_key", "object keys differ only in case", i);
    }
    frame.keys.set(fold, key);
    frame.keyChars += key.length;
    this.#openKeyChars += key.length;
    frame.key = key;
    this.#slot = frame.capture === null ? null : memberSpec(frame.capture, key);
    this.#state = COLON;
  }

  #numberChars(text: string, i: number): number {
    const n = text.length;
    const start = i;
    for (; i < n; i++) {
      const next = numberStep(this.#number, text.charCodeAt(i));
      if (next < 0) break;
      this.#number = next;
    }
    this.#numberText += text.slice(start, i);
    if (this.#numberText.length > this.#bounds.maxNumberChars) this.#fail("too_long", `number longer than ${this.#bounds.maxNumberChars} characters`, start);
    if (i < n) this.#numberDone(i);
    return i;
  }

  /** The number ended before index `i`. */
  #numberDone(i: number): void {
    const s = this.#number;
    if (s === N_MINUS || s === N_DOT || s === N_E || s === N_E_SIGN) this.#fail("syntax", "invalid number", i);
    const value = Number(this.#numberText);
    if (!Number.isFinite(value)) this.#fail("unsafe_number", "number out of range for a double", i);
    if (this.#slot !== null) this.#place(value);
    this.#valueDone(i);
  }

  #literalChars(text: string, i: number): number {
    const word = this.#literal;
    for (; i < text.length && this.#literalAt < word.length; i++, this.#literalAt++) {
      if (text.charCodeAt(i) !== word.charCodeAt(this.#literalAt)) this.#fail("syntax", "invalid literal", i);
    }
    if (this.#literalAt === word.length) {
      if (this.#slot !== null) this.#place(word === "true" ? true : word === "false" ? false : null);
      this.#valueDone(i);
    }
    return i;
  }
}

/** The next state of a number after character `c`, or -1 when `c` is not part of it. */
function numberStep(state: number, c: number): number {
  const digit = isDigit(c);
  switch (state) {
    case N_MINUS:
      return c === 0x30 ? N_ZERO : digit ? N_INT : -1;
    case N_ZERO:
    case N_INT:
      if (digit) return state === N_INT ? N_INT : -1;
      return c === 0x2e ? N_DOT : c === 0x65 || c === 0x45 ? N_E : -1;
    case N_DOT:
    case N_FRACTION:
      if (digit) return N_FRACTION;
      return state === N_FRACTION && (c === 0x65 || c === 0x45) ? N_E : -1;
    case N_E:
      return c === 0x2b || c === 0x2d ? N_E_SIGN : digit ? N_EXPONENT : -1;
    default:
      return digit ? N_EXPONENT : -1;
  }
}

function decode(raw: string): string {
  return JSON.parse(`"${raw}"`) as string;
}

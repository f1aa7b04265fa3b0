/**
 * A strict JSON parser for request bodies: RFC 8259 exactly, plus the refusals a policy gateway needs.
 *
 * Why not `JSON.parse` alone: it lets the last of two duplicate keys win, while other parsers on the
 * path (the upstream's, a logger's) may keep the first, fold case or stop at NUL (CVE-2026-27896,
 * GO-2026-4770). Any text the gateway could read differently from the upstream is refused, so the
 * value the policy sees is the only reading there is:
 *
 * - a key repeated in one object (`duplicate_key`), at any depth;
 * - two keys equal under case folding (`case_duplicate_key`); folding is `toUpperCase().toLowerCase()`,
 *   which also catches the folds Go's `EqualFold` makes for U+017F (ſ → s) and U+212A (K → k);
 * - a key holding U+0000 once unescaped (`nul_in_key`);
 * - a lone UTF-16 surrogate in any string, escaped (`"\ud800"`) or raw (`syntax`): decoders disagree
 *   on it (U+FFFD, an error, or kept as is), so no reading of it is safe;
 * - a number that is not finite as a double, such as `1e400` (`unsafe_number`): re-serialized it
 *   would be forwarded as `null`, not as what the policy evaluated;
 * - nesting deeper than `maxDepth`, arrays longer than `maxArrayLength`, objects with more than
 *   `maxKeys` keys, so a small body cannot cost unbounded work downstream.
 *
 * How: a scanner walks the text once and makes every check above without building a value; then
 * `JSON.parse` builds it. That is exact, not a second opinion: ECMA-262's JSON grammar is RFC 8259's,
 * and where the two could differ (duplicate keys, lone surrogates) the scan has already refused the
 * text. `JSON.parse` also defines a `__proto__` key as an own data property, so it never swaps a
 * prototype. Building objects in JavaScript instead measured 4–5× slower than `JSON.parse`, mostly
 * in keyed stores of fresh key strings; the scan allocates nothing for an ordinary key.
 *
 * Longer than 300 lines because it is one grammar (RFC 8259) and its refusals, read top to bottom.
 */
import { err, ok, type Result } from "../result";

export interface JsonLimits {
  /** Containers nested inside each other; the outermost object or array is depth 1. */
  maxDepth: number;
  maxArrayLength: number;
  /** Keys in any one object. */
  maxKeys: number;
}

export const defaultJsonLimits: JsonLimits = Object.freeze({ maxDepth: 64, maxArrayLength: 10_000, maxKeys: 10_000 });

export type JsonErrorCode =
  | "syntax"
  | "duplicate_key"
  | "case_duplicate_key"
  | "nul_in_key"
  | "too_deep"
  | "array_too_long"
  | "too_many_keys"
  | "unsafe_number";

/** `offset` is a UTF-16 index into the text. Messages never quote the text: it may hold secrets. */
export type JsonError = { code: JsonErrorCode; message: string; offset?: number };

export function parseStrictJson(text: string, limits: JsonLimits = defaultJsonLimits): Result<unknown, JsonError> {
  try {
    new StrictJsonScanner(text, limits).scanDocument();
  } catch (thrown) {
    if (thrown instanceof JsonFailure) return err(thrown.error);
    // A maxDepth set far above the default can exhaust the call stack before the limit trips.
    if (thrown instanceof RangeError) return err({ code: "too_deep", message: "nesting exhausted the parser's stack" });
    throw thrown;
  }
  try {
    return ok(JSON.parse(text));
  } catch {
    // Unreachable while the scan accepts a subset of JSON.parse's grammar (the fuzz tests check
    // that); if it ever is reached, the text is refused rather than thrown about.
    return err({ code: "syntax", message: "not JSON" });
  }
}

/** Carries a JsonError from deep in the recursion to parseStrictJson; never escapes this module. */
class JsonFailure {
  constructor(readonly error: JsonError) {}
}

// Character codes the grammar names (RFC 8259 §2, §6, §7).
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;

/** Up to this many plain keys, an object's keys are compared in place in the text; past it, by a Map. */
const IN_PLACE_KEY_LIMIT = 16;

/** Fewer digits than this cannot overflow a double without an exponent (the largest is ~1.8e308). */
const FINITE_DIGITS = 300;

/** The checks of the module comment, as one pass over the text; throws JsonFailure. */
class StrictJsonScanner {
  private pos = 0;
  /** Raw content bounds of the last string scanned, and whether it is plain: ASCII with no escapes. */
  private stringStart = 0;
  private stringEnd = 0;
  private stringPlain = true;
  /**
   * [start, end) pairs of the plain keys of every object being scanned, innermost last, in
   * keyBounds[0, keyBoundsTop); each object pops back to where it began when it closes, so nested
   * objects share one array (setting `length` to shrink it would be a runtime call).
   */
  private readonly keyBounds: number[] = [];
  private keyBoundsTop = 0;

  constructor(
    private readonly text: string,
    private readonly limits: JsonLimits,
  ) {}

  scanDocument(): void {
    this.skipWhitespace();
    this.scanValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail("syntax", "unexpected text after the JSON value");
  }

  private fail(code: JsonErrorCode, message: string, offset: number = this.pos): never {
    throw new JsonFailure({ code, message, offset });
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === SPACE || c === LF || c === CR || c === TAB) pos++;
      else break;
    }
    this.pos = pos;
  }

  private scanValue(depth: number): void {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case OPEN_BRACE:
        return this.scanObject(depth + 1);
      case OPEN_BRACKET:
        return this.scanArray(depth + 1);
      case QUOTE:
        return this.scanString();
      case 0x74: // t
        return this.scanLiteral("true");
      case 0x66: // f
        return this.scanLiteral("false");
      case 0x6e: // n
        return this.scanLiteral("null");
      default:
        if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return this.scanNumber();
        if (Number.isNaN(c)) this.fail("syntax", "unexpected end of input");
        return this.fail("syntax", "unexpected character");
    }
  }

  private scanLiteral(word: string): void {
    if (!this.text.startsWith(word, this.pos)) this.fail("syntax", "invalid literal");
    this.pos += word.length;
  }

  private scanObject(depth: number): void {
    if (depth > this.limits.maxDepth) this.fail("too_deep", `nesting deeper than ${this.limits.maxDepth}`);
    const text = this.text;
    this.pos++; // {
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === CLOSE_BRACE) {
      this.pos++;
      return;
    }
    const bounds = this.keyBounds;
    const base = this.keyBoundsTop;
    // Once an object has an escaped or non-ASCII key, or many keys: folded key -> exact key.
    let folded: Map<string, string> | null = null;
    let keyCount = 0;
    for (;;) {
      const keyOffset = this.pos;
      if (text.charCodeAt(keyOffset) !== QUOTE) this.fail("syntax", "expected a string key");
      this.scanString();
      if (++keyCount > this.limits.maxKeys) this.fail("too_many_keys", `object has more than ${this.limits.maxKeys} keys`, keyOffset);
      const start = this.stringStart;
      const end = this.stringEnd;
      if (folded === null && this.stringPlain && keyCount <= IN_PLACE_KEY_LIMIT) {
        this.checkPlainKeyInPlace(base, start, end, keyOffset);
        bounds[this.keyBoundsTop++] = start;
        bounds[this.keyBoundsTop++] = end;
      } else {
        if (folded === null) folded = this.foldedKeysSoFar(base);
        const key = this.stringPlain ? text.slice(start, end) : this.decodeKey(keyOffset, end);
        const fold = this.stringPlain ? key.toLowerCase() : key.toUpperCase().toLowerCase();
        const earlier = folded.get(fold);
        if (earlier !== undefined) {
          if (earlier === key) this.fail("duplicate_key", "duplicate object key", keyOffset);
          this.fail("case_duplicate_key", "object keys differ only in case", keyOffset);
        }
        folded.set(fold, key);
      }

      this.skipWhitespace();
      if (text.charCodeAt(this.pos) !== COLON) this.fail("syntax", "expected ':' after an object key");
      this.pos++;
      this.skipWhitespace();
      this.scanValue(depth);
      this.skipWhitespace();
      const next = text.charCodeAt(this.pos);
      if (next === COMMA) {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      if (next === CLOSE_BRACE) {
        this.pos++;
        this.keyBoundsTop = base;
        return;
      }
      this.fail("syntax", Number.isNaN(next) ? "unexpected end of input in an object" : "expected ',' or '}'");
    }
  }

  /** Compares a plain key with this object's earlier plain keys where they lie in the text. */
  private checkPlainKeyInPlace(base: number, start: number, end: number, keyOffset: number): void {
    const text = this.text;
    const bounds = this.keyBounds;
    const length = end - start;
    for (let i = base; i < this.keyBoundsTop; i += 2) {
      const otherStart = bounds[i]!;
      if (bounds[i + 1]! - otherStart !== length) continue;
      let exact = true;
      let k = 0;
      for (; k < length; k++) {
        const a = text.charCodeAt(start + k);
        const b = text.charCodeAt(otherStart + k);
        if (a === b) continue;
        exact = false;
        if (asciiLower(a) !== asciiLower(b)) break;
      }
      if (k < length) continue;
      if (exact) this.fail("duplicate_key", "duplicate object key", keyOffset);
      this.fail("case_duplicate_key", "object keys differ only in case", keyOffset);
    }
  }

  /** Moves an object's key checks from in-place comparison to a Map of folded keys. */
  private foldedKeysSoFar(base: number): Map<string, string> {
    const folded = new Map<string, string>();
    const bounds = this.keyBounds;
    for (let i = base; i < this.keyBoundsTop; i += 2) {
      const key = this.text.slice(bounds[i]!, bounds[i + 1]!);
      folded.set(key.toLowerCase(), key);
    }
    return folded;
  }

  /** The value of a key that has escapes or non-ASCII text; the literal is already validated. */
  private decodeKey(keyOffset: number, end: number): string {
    // JSON.parse of the literal alone decodes it exactly as it will inside the whole document.
    const key = JSON.parse(this.text.slice(keyOffset, end + 1)) as string;
    if (key.includes("\0")) this.fail("nul_in_key", "object key contains U+0000", keyOffset);
    return key;
  }

  private scanArray(depth: number): void {
    if (depth > this.limits.maxDepth) this.fail("too_deep", `nesting deeper than ${this.limits.maxDepth}`);
    const text = this.text;
    this.pos++; // [
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos++;
      return;
    }
    let length = 0;
    for (;;) {
      if (++length > this.limits.maxArrayLength) this.fail("array_too_long", `array longer than ${this.limits.maxArrayLength}`);
      this.scanValue(depth);
      this.skipWhitespace();
      const next = text.charCodeAt(this.pos);
      if (next === COMMA) {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      if (next === CLOSE_BRACKET) {
        this.pos++;
        return;
      }
      this.fail("syntax", Number.isNaN(next) ? "unexpected end of input in an array" : "expected ',' or ']'");
    }
  }

  /** At an opening quote; validates the string (RFC 8259 §7) and records its bounds. */
  private scanString(): void {
    const text = this.text;
    const start = this.pos + 1;
    let pos = start;
    let plain = true;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        pos = this.scanEscape(pos);
        continue;
      }
      if (c < SPACE || Number.isNaN(c)) {
        this.fail("syntax", Number.isNaN(c) ? "unterminated string" : "unescaped control character in a string", pos);
      }
      if (c >= 0x80) {
        plain = false;
        if (c >= 0xd800 && c <= 0xdfff) {
          // A raw surrogate must be the high half of a pair.
          const low = text.charCodeAt(pos + 1);
          if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) this.fail("syntax", "lone surrogate in a string", pos);
          pos += 2;
          continue;
        }
      }
      pos++;
    }
    this.stringStart = start;
    this.stringEnd = pos;
    this.stringPlain = plain;
    this.pos = pos + 1;
  }

  /** At a backslash; returns the position after the escape. */
  private scanEscape(pos: number): number {
    const text = this.text;
    switch (text.charCodeAt(pos + 1)) {
      case QUOTE:
      case BACKSLASH:
      case 0x2f: // /
      case 0x62: // b
      case 0x66: // f
      case 0x6e: // n
      case 0x72: // r
      case 0x74: // t
        return pos + 2;
      case 0x75: {
        // u
        const unit = this.readHex4(pos + 2);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A high surrogate must be followed by an escaped low surrogate.
          if (text.charCodeAt(pos + 6) !== BACKSLASH || text.charCodeAt(pos + 7) !== 0x75) {
            this.fail("syntax", "lone surrogate in a \\u escape", pos);
          }
          const low = this.readHex4(pos + 8);
          if (low < 0xdc00 || low > 0xdfff) this.fail("syntax", "lone surrogate in a \\u escape", pos);
          return pos + 12;
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail("syntax", "lone surrogate in a \\u escape", pos);
        return pos + 6;
      }
      default:
        return this.fail("syntax", "invalid escape", pos);
    }
  }

  private readHex4(pos: number): number {
    let unit = 0;
    for (let i = pos; i < pos + 4; i++) {
      const c = this.text.charCodeAt(i);
      let digit: number;
      if (c >= DIGIT_0 && c <= DIGIT_9) digit = c - DIGIT_0;
      else if (c >= 0x61 && c <= 0x66)
        digit = c - 0x57; // a-f
      else if (c >= 0x41 && c <= 0x46)
        digit = c - 0x37; // A-F
      else return this.fail("syntax", "invalid \\u escape", i);
      unit = unit * 16 + digit;
    }
    return unit;
  }

  /** RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
  private scanNumber(): void {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === MINUS) pos++;
    const first = text.charCodeAt(pos);
    if (first === DIGIT_0) pos++;
    else if (first >= DIGIT_1 && first <= DIGIT_9) pos = this.skipDigits(pos + 1);
    else this.fail("syntax", "invalid number", pos);
    if (text.charCodeAt(pos) === DOT) {
      const fraction = pos + 1;
      pos = this.skipDigits(fraction);
      if (pos === fraction) this.fail("syntax", "invalid number: no digits after '.'", pos);
    }
    let exponent = false;
    const e = text.charCodeAt(pos);
    if (e === LOWER_E || e === UPPER_E) {
      exponent = true;
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === PLUS || sign === MINUS) pos++;
      const digits = pos;
      pos = this.skipDigits(digits);
      if (pos === digits) this.fail("syntax", "invalid number: no digits in the exponent", pos);
    }
    if ((exponent || pos - start > FINITE_DIGITS) && !Number.isFinite(Number(text.slice(start, pos)))) {
      this.fail("unsafe_number", "number out of range for a double", start);
    }
    this.pos = pos;
  }

  private skipDigits(pos: number): number {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c >= DIGIT_0 && c <= DIGIT_9) pos++;
      else return pos;
    }
  }
}

function asciiLower(c: number): number {
  return c >= UPPER_A && c <= UPPER_Z ? c + 0x20 : c;
}

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The `regex` operator's patterns, run by RE2 (the `re2js` port), which matches in time linear in
 * the input: a pattern such as `^(\w+\s?)*$` cannot turn a 100 KB argument into seconds of CPU on
 * the grant's Durable Object, where one slow evaluation would stall every call of the grant and the
 * gate's timeout could not fire (it runs on the same thread).
 *
 * The syntax is RE2's (docs/policy.md, "Regular expressions"). What JavaScript accepts and RE2 cannot
 * run in linear time (backreferences, lookahead, lookbehind) is refused when a policy is saved, with
 * a message that says so, rather than found out on a live call.
 *
 * One meaning is kept from JavaScript on purpose: `\s` and `\S`. RE2's `\s` is `[\t\n\f\r ]`,
 * JavaScript's is every Unicode space (with `\v`, U+00A0, U+2028, U+FEFF…). Patterns here were
 * written and tested against JavaScript, and `DROP\s+TABLE` must keep matching `DROP\vTABLE`, which
 * SQL engines read as whitespace; so `\s` and `\S` are rewritten into JavaScript's set before RE2
 * compiles them. The rewrite walks the pattern by RE2's grammar (escapes, `\Q…\E`, character
 * classes with their `]`-first and `[:name:]` rules) and only ever runs on a pattern RE2 has already
 * accepted, so its walk and RE2's agree.
 *
 * Arguments longer than MAX_MATCHED_LENGTH are not matched at all: matching is linear, but linear in
 * a 4 MiB body times a large pattern is still too long for the hot path. conditions.ts turns that
 * into a fail-closed answer.
 */
import { RE2JS } from "re2js";
import { err, ok, type Result } from "../result";

/**
 * The longest string argument `regex` reads, in UTF-16 code units (JavaScript's `length`).
 * 64 KiB covers commands, SQL, URLs and paths, which is what patterns guard; a longer argument is
 * treated as "cannot be checked" (conditions.ts), never as "does not match".
 */
export const MAX_MATCHED_LENGTH = 65_536;

export interface Pattern {
  /** Whether the pattern matches anywhere in `input` (unanchored, like RegExp.prototype.test). */
  test(input: string): boolean;
}

/** What JavaScript's `\s` matches (ECMA-262 WhiteSpace and LineTerminator), as code point ranges. */
const JS_SPACE: readonly (readonly [number, number])[] = [
  [0x09, 0x0d], // \t \n \v \f \r
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** Everything else, for `\S` inside a class, where a negated class cannot be nested. */
const JS_NON_SPACE: readonly (readonly [number, number])[] = JS_SPACE.reduce<[number, number][]>(
  (gaps, [lo, hi], i, all) => {
    const previousEnd = i === 0 ? -1 : all[i - 1]![1];
    if (lo > previousEnd + 1) gaps.push([previousEnd + 1, lo - 1]);
    if (i === all.length - 1 && hi < 0x10ffff) gaps.push([hi + 1, 0x10ffff]);
    return gaps;
  },
  [],
);

/**
 * Every item a range `lo-hi`, even single characters: a class item that ends in a completed range
 * cannot combine with a `-x` the author wrote after `\s` (RE2 reads `[\s-z]` as space, `-`, `z`).
 */
const classItems = (ranges: readonly (readonly [number, number])[]): string =>
  ranges.map(([lo, hi]) => `\\x{${lo.toString(16)}}-\\x{${hi.toString(16)}}`).join("");

const SPACE_ITEMS = classItems(JS_SPACE);
const NON_SPACE_ITEMS = classItems(JS_NON_SPACE);

/** Compiles a policy pattern; the error is a sentence for the author, with no argument in it. */
export function compilePattern(source: string): Result<Pattern, string> {
  try {
    RE2JS.compile(source);
  } catch (e) {
    return err(unsupportedConstruct(source) ?? `invalid regular expression: ${re2Reason(e)}`);
  }
  try {
    const compiled = RE2JS.compile(withJavaScriptSpaces(source));
    return ok({ test: (input) => compiled.test(input) });
  } catch (e) {
    // Not expected: the rewrite only swaps `\s`/`\S` for explicit ranges in a pattern RE2 accepted.
    return err(`invalid regular expression: ${re2Reason(e)}`);
  }
}

/** re2js words errors as Go does: "error parsing regexp: missing closing ): `(`". */
function re2Reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error parsing regexp: /, "");
}

const LINEAR_TIME = "patterns run in linear time (RE2 syntax, see docs/policy.md)";

/**
 * For a pattern RE2 refused: the JavaScript construct that made it, when RE2's own message would
 * not say why (lookbehind reads as "invalid named capture", `\1` as "invalid escape sequence"), or
 * null. Only consulted after RE2 refused, so its rough walk can never refuse a valid pattern.
 */
function unsupportedConstruct(source: string): string | null {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && source[i + 2] === "<")) {
        return `backreferences such as "\\${next}" are not supported: ${LINEAR_TIME}`;
      }
      if (next === "u") return `"\\u" escapes are not supported; write "\\x{hhhh}" (RE2 syntax, see docs/policy.md)`;
      if (next === "c") return `"\\c" control escapes are not supported; write "\\x{hh}" (RE2 syntax, see docs/policy.md)`;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      // "[]…]" and "[^]…]": a "]" first in a class is literal.
      if (source[i + 1] === "^") i++;
      if (source[i + 1] === "]") i++;
      continue;
    }
    if (c === "(" && source[i + 1] === "?") {
      const group = source.slice(i, i + 4);
      if (group.startsWith("(?=") || group.startsWith("(?!")) return `lookahead "${group.slice(0, 3)}" is not supported: ${LINEAR_TIME}`;
      if (group === "(?<=" || group === "(?<!") return `lookbehind "${group}" is not supported: ${LINEAR_TIME}`;
      if (group.startsWith("(?>")) return `atomic groups "(?>" are not supported: ${LINEAR_TIME}`;
    }
  }
  return null;
}

/**
 * `source` with every `\s` and `\S` replaced by JavaScript's whitespace set. Only called on a
 * pattern RE2 has compiled, so the grammar below is RE2's (Go's regexp/syntax parseClass):
 * - `\` escapes the next character; `\Q…\E` is literal text (outside classes only);
 * - a class opens with `[`, then an optional `^`, then a `]` that is literal if it comes first;
 *   inside, `[:name:]` is a POSIX class and any other `[` is literal; the first other `]` closes it;
 * - `\p{…}` and `\x{…}` contain only names and hex digits, which need no special walk.
 */
export function withJavaScriptSpaces(source: string): string {
  let out = "";
  let i = 0;
  let inClass = false;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (next === "s") out += inClass ? SPACE_ITEMS : `[${SPACE_ITEMS}]`;
      else if (next === "S") out += inClass ? NON_SPACE_ITEMS : `[^${SPACE_ITEMS}]`;
      else if (next === "Q" && !inClass) {
        const end = source.indexOf("\\E", i + 2);
        const stop = end < 0 ? source.length : end + 2;
        out += source.slice(i, stop);
        i = stop;
        continue;
      } else out += c + next;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "[" && source[i + 1] === ":") {
        const end = source.indexOf(":]", i + 2);
        if (end >= 0) {
          out += source.slice(i, end + 2);
          i = end + 2;
          continue;
        }
      }
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      i++;
      if (source[i] === "^") out += source[i++];
      if (source[i] === "]") out += source[i++];
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

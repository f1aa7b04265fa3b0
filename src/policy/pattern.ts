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
 * Linear is not yet cheap: matching costs up to (pattern size) x (input length) steps, and re2js's
 * lazy DFA can spend its whole memory budget on an input crafted to need a new state per character.
 * So three things are bounded, each measured in bench/regex.mjs and documented in docs/policy.md:
 * - the input: arguments longer than MAX_MATCHED_LENGTH are not matched at all (conditions.ts
 *   turns that into a fail-closed answer);
 * - the pattern: at most MAX_PATTERN_SIZE RE2 instructions, refused when the policy is saved, and
 *   at most MAX_TOOL_PATTERN_SIZE for all patterns one call can run, MAX_POLICY_PATTERNS per policy
 *   (schema.ts);
 * - the DFA: DFA_MEMORY instead of re2js's 8 MiB, which bounds both the time an adversarial input
 *   can make it spend before it falls back to the NFA and the memory it keeps afterwards.
 */
import { RE2JS } from "re2js";
import { err, ok, type Result } from "../result";

/**
 * The longest string argument `regex` reads, in UTF-16 code units (JavaScript's `length`).
 * 64 KiB covers commands, SQL, URLs and paths, which is what patterns guard; a longer argument is
 * treated as "cannot be checked" (conditions.ts), never as "does not match".
 */
export const MAX_MATCHED_LENGTH = 65_536;

/**
 * The largest program one pattern may compile to, in RE2 instructions (re2js's `programSize()`,
 * after the `\s` rewrite below). Matching reads each input character against at most this many
 * instructions, so this times MAX_MATCHED_LENGTH bounds a condition's work. 250 admits every
 * ordinary guard (`(?i)\b(drop|delete|truncate)\s+table\b` is 32, an IPv4 address 69, `.{200}` 202)
 * and refuses large counted repetitions such as `(.*a){100}` (502).
 */
export const MAX_PATTERN_SIZE = 250;

/**
 * The most instructions one tool's `require` and `deny_if` patterns may have together: one call
 * can run every one of them, so this bounds a call's matching work at two patterns of the largest
 * size (or a dozen ordinary ones). The call runs on the grant's Durable Object, which may share its
 * thread with other grants.
 */
export const MAX_TOOL_PATTERN_SIZE = 500;

/**
 * The most `regex` conditions in one policy. Every pattern is compiled whenever a policy is parsed
 * (when it is saved, and when a grant's Durable Object loads it), and each keeps a DFA of up to
 * DFA_MEMORY once used.
 */
export const MAX_POLICY_PATTERNS = 128;

/**
 * Memory for one pattern's lazy DFA, in re2js's estimate of bytes (its default is 8 MiB). An input
 * built so that every character needs a new DFA state (`c[abc]{30}[ab]$` over random a, b and c)
 * makes the DFA fill its budget, start over, and then give up for the NFA; with 8 MiB that took
 * 35-instruction patterns over half a second on a 64 KiB input and left about 5 MB on the heap per
 * pattern. Ordinary patterns need a few KiB; `(?:.*x){82}`, the largest of its kind, about 0.1 MiB.
 */
export const DFA_MEMORY = 256 * 1024;

export interface Pattern {
  /** Whether the pattern matches anywhere in `input` (unanchored, like RegExp.prototype.test). */
  test(input: string): boolean;
  /** RE2 instructions in the compiled program, at most MAX_PATTERN_SIZE. */
  readonly size: number;
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
const JS_NON_SPACE: readonly (readonly [number, number])[] = JS_SPACE.reduce<[number, number][]>((gaps, [lo, hi], i, all) => {
  const previousEnd = i === 0 ? -1 : all[i - 1]![1];
  if (lo > previousEnd + 1) gaps.push([previousEnd + 1, lo - 1]);
  if (i === all.length - 1 && hi < 0x10ffff) gaps.push([hi + 1, 0x10ffff]);
  return gaps;
}, []);

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
  const engine = compileEngine(source);
  if (!engine.ok) return engine;
  const compiled = engine.value;
  const size = compiled.programSize();
  if (size > MAX_PATTERN_SIZE) {
    return err(
      `pattern is too large: it compiles to ${size} RE2 instructions, more than ${MAX_PATTERN_SIZE}; ` +
        "use smaller repeat counts or fewer alternatives (see docs/policy.md)",
    );
  }
  remember(source, size);
  return ok({ size, test: (input) => compiled.test(input) });
}

/** The RE2 program that runs `source`: JavaScript's `\s`, and a DFA of DFA_MEMORY. */
function compileEngine(source: string): Result<RE2JS, string> {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (e) {
    return err(unsupportedConstruct(source) ?? `invalid regular expression: ${re2Reason(e)}`);
  }
  const rewritten = withJavaScriptSpaces(source);
  if (rewritten !== source) {
    try {
      compiled = RE2JS.compile(rewritten);
    } catch (e) {
      // Not expected: the rewrite only swaps `\s`/`\S` for explicit ranges in a pattern RE2 accepted.
      return err(`invalid regular expression: ${re2Reason(e)}`);
    }
  }
  limitDfaMemory(compiled);
  return ok(compiled);
}

/**
 * The size of `source` compiled, or null if it does not compile within the limits; remembered from
 * recent compilations, so that a policy's totals (schema.ts) do not compile each pattern again.
 */
export function patternSize(source: string): number | null {
  const known = recentSizes.get(source);
  if (known !== undefined) return known;
  const compiled = compilePattern(source);
  return compiled.ok ? compiled.value.size : null;
}

const recentSizes = new Map<string, number>();

function remember(source: string, size: number): void {
  // Two policies' worth; forgetting only costs a compilation.
  if (recentSizes.size >= 2 * MAX_POLICY_PATTERNS) recentSizes.clear();
  recentSizes.set(source, size);
}

type Dfa = RE2JS["re2Input"]["lazyDFA"];
type DfaConstructor = new (prog: unknown, maxMem: number) => Dfa;

/**
 * re2js 2.10 builds each pattern's lazy DFA with a fixed 8 MiB budget and has no option for it; the
 * compiled RE2 object creates it on first use unless one is set, so a smaller one is set here. The
 * class comes from a compiled pattern, as re2js does not export it. `dfaUse` lets a unit test check
 * that matching really runs on this DFA, so an upgrade that moves these internals fails loudly.
 */
const DfaClass = RE2JS.compile("a").re2Input.dfa.constructor as DfaConstructor;

function limitDfaMemory(compiled: RE2JS): void {
  const re2 = compiled.re2Input;
  re2.lazyDFA = new DfaClass(re2.prog, DFA_MEMORY);
}

/** For tests and bench/regex.mjs: matches once, and reports the DFA's budget and what it holds now. */
export function dfaUse(source: string, input: string): { budget: number; used: number } {
  const engine = compileEngine(source);
  if (!engine.ok) throw new Error(engine.error);
  engine.value.test(input);
  const dfa = engine.value.re2Input.dfa;
  return { budget: dfa.maxMem, used: dfa.maxMem - dfa.memBudget };
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

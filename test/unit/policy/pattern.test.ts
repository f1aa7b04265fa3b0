import { describe, expect, test } from "vitest";
import { compilePattern, DFA_MEMORY, dfaUse, MAX_MATCHED_LENGTH, MAX_PATTERN_SIZE, patternSize, withJavaScriptSpaces } from "../../../src/policy/pattern";

const compiled = (source: string) => {
  const result = compilePattern(source);
  if (!result.ok) throw new Error(result.error);
  return result.value;
};

const errorOf = (source: string): string => {
  const result = compilePattern(source);
  if (result.ok) throw new Error(`expected ${source} to be refused`);
  return result.error;
};

describe("patterns that backtrack exponentially in JavaScript run in linear time", () => {
  // Each of these takes JavaScript's RegExp seconds to years on inputs like these. The bound is a
  // safety check that the engine is not exponential, not a performance target: linear matching
  // takes milliseconds, a backtracking one would not finish.
  const inputs = {
    "100 KB of a, then !": `${"a".repeat(100_000)}!`,
    "100 KB of words, then !": `${"aaaa ".repeat(20_000)}!`,
    "100 KB of letters": Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(""),
  };
  const catastrophic = [
    "^(a+)+$",
    "^(\\w+\\s?)*$",
    "(a|aa)+$",
    "^(a|a?)+$",
    "(.*a){20}",
    "(x+x+)+y",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
    "(a*)*b",
    "^(\\s*a\\s*)+$",
  ];

  for (const source of catastrophic) {
    test.each(Object.entries(inputs))(`${source} over %s`, (_name, input) => {
      const pattern = compiled(source);
      const started = performance.now();
      const answer = pattern.test(input);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeLessThan(250);
      expect(typeof answer).toBe("boolean");
    });
  }

  test("and still answer correctly", () => {
    expect(compiled("^(a+)+$").test("a".repeat(100_000))).toBe(true);
    expect(compiled("^(a+)+$").test(`${"a".repeat(100_000)}!`)).toBe(false);
    expect(compiled("^(\\w+\\s?)*$").test("aaaa ".repeat(20_000))).toBe(true);
    expect(compiled("(.*a){20}").test("a".repeat(19))).toBe(false);
    expect(compiled("(.*a){20}").test("a".repeat(20))).toBe(true);
  });
});

describe("agrees with JavaScript's RegExp (no flags) on common patterns", () => {
  type Case = [pattern: string, input: string];
  const cases: Case[] = [
    // unanchored search, and the author's anchors
    ["DROP", "x; DROP TABLE users"],
    ["DROP", "drop table"],
    ["^DROP$", "x; DROP"],
    ["^DROP", "DROP TABLE"],
    ["TABLE$", "DROP TABLE"],
    ["TABLE$", "DROP TABLE\n"],
    ["^b", "a\nb"],
    ["a$", "a\nb"],
    ["[Dd][Rr][Oo][Pp] +[Tt][Aa][Bb][Ll][Ee]", "drop  table"],
    ["rm\\s+-rf", "rm  -rf /"],
    ["^[a-z0-9_-]{3,16}$", "user_name-1"],
    ["^[a-z0-9_-]{3,16}$", "user name"],
    ["(foo|bar)baz", "xbarbaz"],
    ["a.c", "abc"],
    ["a.c", "a\nc"],
    ["x*", ""],
    ["^$", ""],
    ["\\.\\*", "a.*b"],
    ["[.]", "a"],
    ["\\bfoo\\b", "a foo b"],
    ["\\bfoo\\b", "afoob"],
    ["\\Bfoo", "afoo"],
    // \d and \w are ASCII in both
    ["\\d", "7"],
    ["\\d", "\u0663"], // ARABIC-INDIC DIGIT THREE
    ["\\d", "\uff17"], // FULLWIDTH 7
    ["\\D", "\u0663"],
    ["\\w", "_"],
    ["\\w", "é"],
    ["\\W", "é"],
    ["\\bé", " é"],
    ["^[^a]$", "é"],
    ["é", "café"],
    ["^caf.$", "café"],
    ["[à-ÿ]", "café"],
    // \s and \S keep JavaScript's meaning (every Unicode space, \v, U+FEFF)
    ["DROP\\s+TABLE", "DROP\u000bTABLE"],
    ["DROP\\s+TABLE", "DROP\u00a0TABLE"],
    ["DROP\\s+TABLE", "DROP\u2028TABLE"],
    ["DROP\\s+TABLE", "DROP\ufeffTABLE"],
    ["DROP\\s+TABLE", "DROP\u3000TABLE"],
    ["DROP\\s+TABLE", "DROP\u200bTABLE"], // ZERO WIDTH SPACE is not a space in JavaScript either
    ["^\\S+$", "a\u00a0b"],
    ["^\\S+$", "ab"],
    ["[\\s]", "\u2029"],
    ["[^\\s]", "\u2029"],
    ["[\\S]", "\u2029"],
    ["[^\\S]", "\u2029"],
    ["[\\s-z]", "-"],
    ["[\\s-z]", "y"],
    ["[a\\sb]", "\u1680"],
    ["\\\\s", "\\s"],
    ["\\\\s", " "],
    ["\\[\\s", "[ "],
  ];

  test.each(cases)("%j against %j", (source, input) => {
    expect(compiled(source).test(input)).toBe(new RegExp(source).test(input));
  });

  test("\\s and \\S match exactly what JavaScript's do, for every BMP character", () => {
    const space = compiled("^\\s$");
    const nonSpace = compiled("^\\S$");
    const inClass = compiled("^[\\s]$");
    const negated = compiled("^[^\\s]$");
    const mismatches: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue; // lone surrogates: JavaScript sees code units
      const ch = String.fromCharCode(code);
      const js = /^\s$/.test(ch);
      if (space.test(ch) !== js || nonSpace.test(ch) === js || inClass.test(ch) !== js || negated.test(ch) === js) {
        mismatches.push(code.toString(16));
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe("documented differences from JavaScript", () => {
  test("a character outside the BMP is one character, not two", () => {
    expect(compiled("^.$").test("😀")).toBe(true);
    expect(/^.$/.test("😀")).toBe(false);
  });

  test("`.` matches \\r, U+2028 and U+2029 (JavaScript's stops at those)", () => {
    expect(compiled("^a.b$").test("a\rb")).toBe(true);
    expect(/^a.b$/.test("a\rb")).toBe(false);
    expect(compiled("^a.b$").test("a\nb")).toBe(false);
  });

  test("inline flags work: (?i) for case-insensitive", () => {
    expect(compiled("(?i)drop\\s+table").test("DROP Table")).toBe(true);
  });

  test("\\Q…\\E is literal text, and \\s inside it stays literal", () => {
    expect(compiled("\\Q.*\\s\\E").test("a.*\\sb")).toBe(true);
    expect(compiled("\\Q.*\\s\\E").test("ab c")).toBe(false);
  });

  test("a ] first in a class is literal (JavaScript reads [] as an empty class), and \\s after it is rewritten", () => {
    expect(compiled("[]\\s]").test("]")).toBe(true);
    expect(compiled("[]\\s]").test("\u00a0")).toBe(true);
    expect(compiled("[]\\s]").test("x")).toBe(false);
    expect(compiled("[^]\\s]").test("]")).toBe(false);
    expect(compiled("[^]\\s]").test("\u00a0")).toBe(false);
    expect(compiled("[^]\\s]").test("x")).toBe(true);
  });

  test("POSIX classes work, and [:space:] keeps RE2's meaning", () => {
    expect(compiled("^[[:alpha:]]+$").test("abc")).toBe(true);
    expect(compiled("[[:space:]\\s]").test("\u00a0")).toBe(true);
  });
});

describe("patterns RE2 cannot run are refused with a reason", () => {
  test.each<[string, RegExp]>([
    ["(a)\\1", /^backreferences such as "\\1" are not supported: patterns run in linear time/],
    ["(?<n>a)\\k<n>", /^backreferences such as "\\k" are not supported/],
    ["foo(?=bar)", /^lookahead "\(\?=" is not supported/],
    ["foo(?!bar)", /^lookahead "\(\?!" is not supported/],
    ["(?<=a)b", /^lookbehind "\(\?<=" is not supported/],
    ["(?<!a)b", /^lookbehind "\(\?<!" is not supported/],
    ["\\u0041", /^"\\u" escapes are not supported; write "\\x\{hhhh\}"/],
    ["\\cA", /^"\\c" control escapes are not supported/],
    ["(", /^invalid regular expression: missing closing \): `\(`$/],
    ["a{1001}", /^invalid regular expression: invalid repeat count/],
    ["[\\b]", /^invalid regular expression: invalid escape sequence/],
  ])("%j", (source, message) => {
    expect(errorOf(source)).toMatch(message);
  });

  test("a valid RE2 octal escape is not mistaken for a backreference", () => {
    expect(compiled("a\\12b").test("a\nb")).toBe(true);
  });

  test("a lookbehind-looking text inside a class is not refused", () => {
    expect(compiled("[(?<=]").test("=")).toBe(true);
  });
});

describe("withJavaScriptSpaces rewrites only \\s and \\S", () => {
  test.each([
    ["abc", "abc"],
    ["\\\\s", "\\\\s"],
    ["\\Q\\s\\E\\d", "\\Q\\s\\E\\d"],
    ["[[:space:]]", "[[:space:]]"],
    ["\\x{41}\\p{Greek}", "\\x{41}\\p{Greek}"],
  ])("%j stays %j", (source, rewritten) => {
    expect(withJavaScriptSpaces(source)).toBe(rewritten);
  });

  test("outside a class \\s becomes a class, inside it becomes ranges", () => {
    expect(withJavaScriptSpaces("\\s")).toMatch(/^\[\\x\{9\}-\\x\{d\}.*\]$/);
    expect(withJavaScriptSpaces("\\S")).toMatch(/^\[\^\\x\{9\}-\\x\{d\}.*\]$/);
    expect(withJavaScriptSpaces("[a\\s]")).toMatch(/^\[a\\x\{9\}-\\x\{d\}[^[\]]*\]$/);
  });
});

describe("the cost of a pattern is bounded", () => {
  test("a compiled pattern knows its size in RE2 instructions", () => {
    expect(compiled("DROP").size).toBe(6);
    expect(compiled(".{10}").size).toBe(12);
    // \s is rewritten into one class: the size RE2 runs is the size the author wrote.
    expect(compiled("DROP\\s+TABLE").size).toBe(compiled("DROP[ ]+TABLE").size);
    expect(patternSize("DROP")).toBe(6);
    expect(patternSize("(")).toBeNull();
  });

  test.each([
    ["(.*a){1000}", 5002],
    ["(.*a){100}", 502],
    [`.{${MAX_PATTERN_SIZE - 1}}`, MAX_PATTERN_SIZE + 1],
  ])("%s is refused: %d instructions", (source, size) => {
    expect(errorOf(source)).toBe(
      `pattern is too large: it compiles to ${size} RE2 instructions, more than ${MAX_PATTERN_SIZE}; use smaller repeat counts or fewer alternatives (see docs/policy.md)`,
    );
    expect(patternSize(source)).toBeNull();
  });

  test("a pattern of exactly the limit compiles", () => {
    expect(compiled(`.{${MAX_PATTERN_SIZE - 2}}`).size).toBe(MAX_PATTERN_SIZE);
  });

  test("matching runs on a DFA of DFA_MEMORY, not re2js's 8 MiB", () => {
    const use = dfaUse("a+b", "xxaab");
    expect(use.budget).toBe(DFA_MEMORY);
    // Used at all: the DFA set here is the one re2js matches with.
    expect(use.used).toBeGreaterThan(0);
  });

  test("an input that needs a new DFA state per character keeps at most DFA_MEMORY of it, and still answers correctly", () => {
    let seed = 1;
    const random = Array.from({ length: MAX_MATCHED_LENGTH - 1 }, () => "abc"[(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 3]).join("");
    const source = "c[abc]{30}[ab]$";
    const use = dfaUse(source, `${random}c`);
    expect(use.budget).toBe(DFA_MEMORY);
    expect(use.used).toBeLessThanOrEqual(DFA_MEMORY);
    expect(compiled(source).test(`${random}c`)).toBe(new RegExp(source).test(`${random}c`));
    expect(compiled(source).test(`${random}a`)).toBe(new RegExp(source).test(`${random}a`));
  });
});

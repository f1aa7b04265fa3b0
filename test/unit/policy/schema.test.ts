import { describe, expect, test } from "vitest";
import { formatPolicyErrors, parsePolicy, pointer, type PolicyDocument, type PolicyError } from "../../../src/policy/schema";
import { MAX_PATTERN_SIZE, MAX_POLICY_PATTERNS, MAX_TOOL_PATTERN_SIZE, patternSize } from "../../../src/policy/pattern";
import { EXAMPLE_POLICY } from "./example";

function errorsOf(input: unknown): PolicyError[] {
  const parsed = parsePolicy(input);
  if (parsed.ok) throw new Error(`expected a rejection, got ${JSON.stringify(parsed.value)}`);
  return parsed.error;
}

function accepted(input: unknown): PolicyDocument {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(formatPolicyErrors(parsed.error));
  return parsed.value;
}

const base = { version: "1", default: "deny" } as const;
const withLimit = (limit: Record<string, unknown>) => ({ ...base, tools: { run: { limits: [limit] } } });
const withCondition = (condition: Record<string, unknown>) => ({
  ...base,
  tools: { run: { deny_if: [{ conditions: [condition], on_deny: "no" }] } },
});
const goodLimit = { counter: "calls", window: "minute", max: 10, scope: "grant" };

describe("accepted documents", () => {
  test("the full example of POLICY.md is accepted as written", () => {
    const policy = accepted(EXAMPLE_POLICY);
    expect(policy.tools?.create_refund?.deny_if?.[0]?.on_deny).toBe("Refund exceeds the policy limit.");
    expect(policy.hide).toEqual(["delete_account"]);
  });

  test("the smallest document", () => {
    expect(accepted({ version: "1", default: "allow" })).toEqual({ version: "1", default: "allow", mode: "enforce" });
  });

  test("mode defaults to enforce and accepts monitor", () => {
    expect(accepted(base).mode).toBe("enforce");
    expect(accepted({ ...base, mode: "monitor" }).mode).toBe("monitor");
  });

  test.each<[string, Record<string, unknown>]>([
    ["scope absent", { counter: "c", window: "hour", max: 1 }],
    ["window in seconds", { counter: "c", window: 90, max: 1 }],
    ["cost from an argument", { counter: "refunds", window: "day", max: 10000, cost: "args.amount" }],
    ["nested cost path", { counter: "refunds", window: "day", max: 10000, cost: "args.refund.amount" }],
  ])("limit with %s", (_d, limit) => {
    expect(accepted(withLimit(limit)).tools?.run?.limits?.[0]).toEqual(limit);
  });

  test.each<[string, Record<string, unknown>]>([
    ["eq with a boolean", { path: "args.dry_run", op: "eq", value: false }],
    ["in with mixed scalars", { path: "args.n", op: "in", value: [1, "two", true] }],
    ["regex that compiles", { path: "args.q", op: "regex", value: "^(a|b)+$" }],
    ["regex with an inline flag (RE2 syntax)", { path: "args.q", op: "regex", value: "(?i)drop\\s+table" }],
    ["contains with a number", { path: "args.ids", op: "contains", value: 7 }],
    ["exists false", { path: "args.x", op: "exists", value: false }],
  ])("condition: %s", (_d, condition) => {
    expect(accepted(withCondition(condition)).tools?.run?.deny_if?.[0]?.conditions[0]).toEqual(condition);
  });

  test("approvals: approve_if rules, approve: true and approval_timeout in both forms", () => {
    const rule = { conditions: [{ path: "args.amount", op: "gt", value: 500 }], on_deny: "Refunds above 500 need a person." };
    const policy = accepted({
      ...base,
      tools: { refund: { approve_if: [rule], approval_timeout: "30m" }, deploy: { approve: true, approval_timeout: 90 }, run: { approval_timeout: "7d" } },
    });
    expect(policy.tools?.refund).toEqual({ approve_if: [rule], approval_timeout: "30m" });
    expect(policy.tools?.deploy).toEqual({ approve: true, approval_timeout: 90 });
  });

  test("tool names of any spelling are keys, including ones that shadow Object.prototype", () => {
    const policy = accepted({ ...base, tools: { constructor: {}, toString: {}, "a/b~c": {}, dеlete: {} } });
    expect(Object.keys(policy.tools ?? {})).toEqual(["constructor", "toString", "a/b~c", "dеlete"]);
  });

  test("a parsed document is deeply frozen", () => {
    const policy = accepted(EXAMPLE_POLICY);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.tools?.create_refund?.deny_if?.[0]?.conditions[0])).toBe(true);
    expect(() => {
      (policy as { default: string }).default = "allow";
    }).toThrow(TypeError);
    expect(() => {
      (policy.hide as string[]).push("x");
    }).toThrow(TypeError);
    expect(policy.default).toBe("deny");
  });

  test("parsing does not freeze or alter the caller's input", () => {
    const input = structuredClone(EXAMPLE_POLICY);
    accepted(input);
    expect(Object.isFrozen(input)).toBe(false);
    expect(input).toEqual(EXAMPLE_POLICY);
  });
});

describe("rejected documents name the place and the reason", () => {
  test("a bad window string gives exactly the message the issue quotes", () => {
    const errors = errorsOf({ ...base, tools: { run: { limits: [{ ...goodLimit, window: "minutes" }] } } });
    expect(formatPolicyErrors(errors)).toBe('/tools/run/limits/0/window: expected "minute" | "hour" | "day"');
  });

  test.each<[string, unknown, PolicyError[]]>([
    ["version 2", { ...base, version: "2" }, [{ path: "/version", message: 'expected "1"' }]],
    ["version as a number", { ...base, version: 1 }, [{ path: "/version", message: 'expected "1"' }]],
    ["version missing", { default: "deny" }, [{ path: "/version", message: "required" }]],
    ["default missing", { version: "1" }, [{ path: "/default", message: "required" }]],
    ["bad default", { ...base, default: "permit" }, [{ path: "/default", message: 'expected "allow" | "deny"' }]],
    ["bad mode", { ...base, mode: "audit" }, [{ path: "/mode", message: 'expected "enforce" | "monitor"' }]],
    ["not an object", "policy", [{ path: "", message: "expected an object, got string" }]],
    ["null", null, [{ path: "", message: "expected an object, got null" }]],
    ["a list", [], [{ path: "", message: "expected an object, got a list" }]],
    ["unknown top-level key", { ...base, defaults: "allow" }, [{ path: "/defaults", message: 'unknown key "defaults" (did you mean "default"?)' }]],
    [
      "unknown tool key, with its path",
      { ...base, tools: { run: { deny_iff: [] } } },
      [{ path: "/tools/run/deny_iff", message: 'unknown key "deny_iff" (did you mean "deny_if"?)' }],
    ],
    [
      "unknown key far from any known key",
      { ...base, tools: { run: { description: "x" } } },
      [{ path: "/tools/run/description", message: 'unknown key "description"' }],
    ],
    [
      "unknown key in a tool name that needs escaping",
      { ...base, tools: { "fs/rm~1": { limts: [] } } },
      [{ path: "/tools/fs~1rm~01/limts", message: 'unknown key "limts" (did you mean "limits"?)' }],
    ],
    [
      "unknown key inside a condition",
      withCondition({ path: "args.a", op: "eq", value: 1, flags: "i" }),
      [{ path: "/tools/run/deny_if/0/conditions/0/flags", message: 'unknown key "flags"' }],
    ],
    ["all_tools accepts only limits", { ...base, all_tools: { deny_if: [] } }, [{ path: "/all_tools/deny_if", message: 'unknown key "deny_if"' }]],
    ["max 0", withLimit({ ...goodLimit, max: 0 }), [{ path: "/tools/run/limits/0/max", message: "expected a positive whole number" }]],
    ["max 1.5", withLimit({ ...goodLimit, max: 1.5 }), [{ path: "/tools/run/limits/0/max", message: "expected a positive whole number" }]],
    ["max as a string", withLimit({ ...goodLimit, max: "10" }), [{ path: "/tools/run/limits/0/max", message: "expected a positive whole number" }]],
    [
      "window 0 seconds",
      withLimit({ ...goodLimit, window: 0 }),
      [{ path: "/tools/run/limits/0/window", message: "expected a positive whole number of seconds" }],
    ],
    [
      "window 1.5 seconds",
      withLimit({ ...goodLimit, window: 1.5 }),
      [{ path: "/tools/run/limits/0/window", message: "expected a positive whole number of seconds" }],
    ],
    [
      "window of another type",
      withLimit({ ...goodLimit, window: true }),
      [{ path: "/tools/run/limits/0/window", message: 'expected "minute" | "hour" | "day" or a positive whole number of seconds' }],
    ],
    ["empty counter", withLimit({ ...goodLimit, counter: "" }), [{ path: "/tools/run/limits/0/counter", message: "expected a non-empty counter name" }]],
    ["bad scope", withLimit({ ...goodLimit, scope: "global" }), [{ path: "/tools/run/limits/0/scope", message: 'expected "grant" | "server"' }]],
    [
      "cost not an argument path",
      withLimit({ ...goodLimit, cost: "amount" }),
      [{ path: "/tools/run/limits/0/cost", message: 'expected "args.<field>" or "args.<field>.<field>…" with non-empty fields' }],
    ],
    [
      "approve_if with a rule that has no message",
      { ...base, tools: { run: { approve_if: [{ conditions: [] }] } } },
      [{ path: "/tools/run/approve_if/0/on_deny", message: "required" }],
    ],
    ["pin_tools not a boolean", { ...base, pin_tools: "yes" }, [{ path: "/pin_tools", message: "expected true or false" }]],
    ["approve that is not a boolean", { ...base, tools: { run: { approve: "yes" } } }, [{ path: "/tools/run/approve", message: "expected true or false" }]],
    ...(["10", "10x", "0s", "1.5h", "-5m", "", " 10m"] as const).map((timeout): [string, unknown, PolicyError[]] => [
      `approval_timeout ${JSON.stringify(timeout)}`,
      { ...base, tools: { run: { approval_timeout: timeout } } },
      [{ path: "/tools/run/approval_timeout", message: 'expected a duration such as "30s", "15m" or "24h", or a whole number of seconds' }],
    ]),
    ...([0, -1, 1.5] as const).map((timeout): [string, unknown, PolicyError[]] => [
      `approval_timeout ${timeout}`,
      { ...base, tools: { run: { approval_timeout: timeout } } },
      [{ path: "/tools/run/approval_timeout", message: 'expected a duration such as "30s", "15m" or "24h", or a whole number of seconds' }],
    ]),
    [
      "approval_timeout over 7 days",
      { ...base, tools: { run: { approval_timeout: "8d" } } },
      [{ path: "/tools/run/approval_timeout", message: "at most 7 days (604800 seconds)" }],
    ],
    [
      "approval_timeout over 7 days in seconds",
      { ...base, tools: { run: { approval_timeout: 604801 } } },
      [{ path: "/tools/run/approval_timeout", message: "at most 7 days (604800 seconds)" }],
    ],
    [
      "a typo of approve_if",
      { ...base, tools: { run: { approve_iff: [] } } },
      [{ path: "/tools/run/approve_iff", message: 'unknown key "approve_iff" (did you mean "approve_if"?)' }],
    ],
    [
      "a regex that does not compile",
      withCondition({ path: "args.q", op: "regex", value: "(" }),
      [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "invalid regular expression: missing closing ): `(`" }],
    ],
    [
      "a regex with a backreference (RE2 cannot run it in linear time)",
      withCondition({ path: "args.q", op: "regex", value: "(a+)\\1" }),
      [
        {
          path: "/tools/run/deny_if/0/conditions/0/value",
          message: 'backreferences such as "\\1" are not supported: patterns run in linear time (RE2 syntax, see docs/policy.md)',
        },
      ],
    ],
    [
      "a regex with a lookahead, under require",
      { ...base, tools: { "fs/run": { require: [{ conditions: [{ path: "args.q", op: "regex", value: "^(?!rm)" }], on_deny: "no" }] } } },
      [
        {
          path: "/tools/fs~1run/require/0/conditions/0/value",
          message: 'lookahead "(?!" is not supported: patterns run in linear time (RE2 syntax, see docs/policy.md)',
        },
      ],
    ],
    [
      "a regex with a lookbehind",
      withCondition({ path: "args.q", op: "regex", value: "(?<=sudo )rm" }),
      [
        {
          path: "/tools/run/deny_if/0/conditions/0/value",
          message: 'lookbehind "(?<=" is not supported: patterns run in linear time (RE2 syntax, see docs/policy.md)',
        },
      ],
    ],
    [
      "an unknown operator",
      withCondition({ path: "args.q", op: "like", value: "x" }),
      [
        {
          path: "/tools/run/deny_if/0/conditions/0/op",
          message: 'expected one of "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "in" | "not_in" | "exists" | "regex" | "contains"',
        },
      ],
    ],
    [
      "gt against a string",
      withCondition({ path: "args.n", op: "gt", value: "10" }),
      [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "expected a number" }],
    ],
    [
      "in without a list",
      withCondition({ path: "args.n", op: "in", value: "a" }),
      [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "expected a list" }],
    ],
    [
      "exists with a string",
      withCondition({ path: "args.n", op: "exists", value: "yes" }),
      [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "expected true or false" }],
    ],
    [
      "eq with null",
      withCondition({ path: "args.n", op: "eq", value: null }),
      [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "expected a string, number or boolean" }],
    ],
    [
      "eq with an object",
      withCondition({ path: "args.n", op: "eq", value: {} }),
      [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "expected a string, number or boolean" }],
    ],
    ["value missing", withCondition({ path: "args.n", op: "eq" }), [{ path: "/tools/run/deny_if/0/conditions/0/value", message: "required" }]],
    ...["args", "args.", "args..a", "a.b", "arguments.a", "args.a."].map((path): [string, unknown, PolicyError[]] => [
      `path ${JSON.stringify(path)}`,
      withCondition({ path, op: "exists", value: true }),
      [{ path: "/tools/run/deny_if/0/conditions/0/path", message: 'expected "args.<field>" or "args.<field>.<field>…" with non-empty fields' }],
    ]),
    [
      "blank on_deny",
      { ...base, tools: { run: { require: [{ conditions: [], on_deny: "  " }] } } },
      [{ path: "/tools/run/require/0/on_deny", message: "expected a non-empty message" }],
    ],
    ["on_deny missing", { ...base, tools: { run: { require: [{ conditions: [] }] } } }, [{ path: "/tools/run/require/0/on_deny", message: "required" }]],
    ["empty hide entry", { ...base, hide: [""] }, [{ path: "/hide/0", message: "a tool name cannot be empty" }]],
    ["empty tool name", { ...base, tools: { "": {} } }, [{ path: "/tools/", message: "a tool name cannot be empty" }]],
    [
      "a tool named __proto__ (zod would drop it silently)",
      JSON.parse('{"version":"1","default":"allow","tools":{"__proto__":{"deny_if":[{"conditions":[],"on_deny":"no"}]}}}'),
      [{ path: "/tools/__proto__", message: 'a tool named "__proto__" cannot be configured' }],
    ],
    [
      "a __proto__ key in a strict object",
      JSON.parse('{"version":"1","default":"allow","__proto__":{"default":"allow"}}'),
      [{ path: "/__proto__", message: 'unknown key "__proto__"' }],
    ],
  ])("%s", (_d, input, expected) => {
    expect(errorsOf(input)).toEqual(expected);
  });

  test("every problem is reported, not only the first", () => {
    const errors = errorsOf({ version: "2", default: "deny", tools: { run: { limits: [{ counter: "c", window: "week", max: 0 }] } } });
    expect(errors.map((e) => e.path)).toEqual(["/version", "/tools/run/limits/0/window", "/tools/run/limits/0/max"]);
  });

  test("formatPolicyErrors puts one error on each line and names the whole document", () => {
    expect(
      formatPolicyErrors([
        { path: "", message: "expected an object, got string" },
        { path: "/version", message: 'expected "1"' },
      ]),
    ).toBe('(document): expected an object, got string\n/version: expected "1"');
  });
});

describe("the cost of regex conditions is bounded when a policy is saved", () => {
  const regex = (value: string) => ({ path: "args.q", op: "regex", value });
  const rule = (...patterns: string[]) => ({ conditions: patterns.map(regex), on_deny: "no" });
  /** `.{n}` compiles to n + 2 instructions: an exact size to build totals from. */
  const ofSize = (size: number) => `.{${size - 2}}`;

  test("ofSize builds patterns of an exact size", () => {
    expect([10, 100, MAX_PATTERN_SIZE].map((n) => patternSize(ofSize(n)))).toEqual([10, 100, MAX_PATTERN_SIZE]);
  });

  test.each<[string, string, number]>([
    ["the example of the issue", "(.*a){1000}", 5002],
    ["one past the limit", ofSize(MAX_PATTERN_SIZE + 1), MAX_PATTERN_SIZE + 1],
    ["a counted repetition inside one", "(?:[a-z0-9-]{1,63}\\.){4}", 0],
    ["a large alternation of counted classes", "(?:[a-z]{1,100}|[0-9]{1,100})", 0],
  ])("a pattern too large: %s", (_d, pattern, size) => {
    const [error] = errorsOf(withCondition(regex(pattern)));
    expect(error?.path).toBe("/tools/run/deny_if/0/conditions/0/value");
    expect(error?.message).toMatch(
      new RegExp(
        `^pattern is too large: it compiles to ${size || "\\d+"} RE2 instructions, more than ${MAX_PATTERN_SIZE}; use smaller repeat counts or fewer alternatives \\(see docs/policy.md\\)$`,
      ),
    );
  });

  test.each([
    ["(?i)\\b(drop|delete|truncate|alter|grant|revoke)\\s+(table|database|user)\\b"],
    ["^((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)$"],
    ["^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"],
    [".{200}"],
    [ofSize(MAX_PATTERN_SIZE)],
  ])("an ordinary pattern fits: %s", (pattern) => {
    expect(accepted(withCondition(regex(pattern))).tools?.run?.deny_if?.[0]?.conditions[0]?.value).toBe(pattern);
  });

  test("one tool's patterns together, across require and deny_if, may reach the limit and not pass it", () => {
    const quarter = ofSize(MAX_TOOL_PATTERN_SIZE / 4);
    const atLimit = { ...base, tools: { run: { require: [rule(quarter, quarter)], deny_if: [rule(quarter), rule(quarter)] } } };
    expect(accepted(atLimit).tools?.run?.deny_if).toHaveLength(2);
    const over = { ...base, tools: { run: { require: [rule(quarter, quarter)], deny_if: [rule(quarter), rule(quarter, "x")] } } };
    expect(errorsOf(over)).toEqual([
      {
        path: "/tools/run",
        message: `the regex patterns of this tool compile to ${MAX_TOOL_PATTERN_SIZE + 3} RE2 instructions together, more than ${MAX_TOOL_PATTERN_SIZE}; a call is checked against all of them (see docs/policy.md)`,
      },
    ]);
  });

  test("the same pattern on two tools counts once for each", () => {
    const quarter = ofSize(MAX_TOOL_PATTERN_SIZE / 4);
    const full = { deny_if: [rule(quarter, quarter, quarter, quarter)] };
    expect(accepted({ ...base, tools: { a: full, b: full } }).tools).toHaveProperty("b");
  });

  test(`at most ${MAX_POLICY_PATTERNS} regex conditions in one policy, pointing at the first one too many`, () => {
    const tools = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`tool${i}`, { require: [rule("^a$")], deny_if: [rule("b", "c", "d")] }]));
    expect(Object.keys(accepted({ ...base, tools: tools(MAX_POLICY_PATTERNS / 4) }).tools ?? {})).toHaveLength(MAX_POLICY_PATTERNS / 4);
    const atLimit = { ...base, tools: { ...tools(MAX_POLICY_PATTERNS / 4 - 1), last: { deny_if: [rule("x", "y", "z", "w")] } } };
    expect(parsePolicy(atLimit).ok).toBe(true);
    const over = { ...base, tools: { ...tools(MAX_POLICY_PATTERNS / 4 - 1), last: { deny_if: [rule("x", "y", "z", "w"), rule("q")] } } };
    expect(errorsOf(over)).toEqual([
      { path: "/tools/last/deny_if/1/conditions/0/value", message: `more than ${MAX_POLICY_PATTERNS} regex conditions in one policy (see docs/policy.md)` },
    ]);
  });

  test("a pattern too large is reported with the other problems of the document", () => {
    const errors = errorsOf({ ...withCondition(regex("(.*a){1000}")), version: "2" });
    expect(errors.map((e) => e.path)).toEqual(["/version", "/tools/run/deny_if/0/conditions/0/value"]);
  });
});

describe("JSON pointers (RFC 6901)", () => {
  test.each<[(string | number)[], string]>([
    [["tools", "run", "limits", 0], "/tools/run/limits/0"],
    [["tools", "a/b"], "/tools/a~1b"],
    [["tools", "a~b"], "/tools/a~0b"],
    [["tools", "~/"], "/tools/~0~1"],
    [["tools", "~1"], "/tools/~01"],
    [["tools", ""], "/tools/"],
    [[], ""],
  ])("%j -> %s", (segments, expected) => {
    expect(pointer(segments)).toBe(expected);
  });
});

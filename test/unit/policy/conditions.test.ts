import { describe, expect, test } from "vitest";
import { checkCondition, checkRule, readNumber, readString } from "../../../src/policy/conditions";
import { MAX_MATCHED_LENGTH } from "../../../src/policy/pattern";
import type { Condition } from "../../../src/policy/schema";

/** true or false, or the message of an unsettled condition (present, but unreadable as needed). */
type Expected = boolean | string;
type Case = [description: string, condition: Condition, args: Record<string, unknown>, expected: Expected];

const notANumber = (path: string) => `${path} is not a number`;
const notAString = (path: string) => `${path} is not a string`;

const nested = { a: { b: { c: 5 } } };

const cases: Case[] = [
  // eq / neq
  ["eq string", { path: "args.env", op: "eq", value: "prod" }, { env: "prod" }, true],
  ["eq string differs", { path: "args.env", op: "eq", value: "prod" }, { env: "Prod" }, false],
  ["eq numbers numerically", { path: "args.n", op: "eq", value: 5 }, { n: 5.0 }, true],
  ["eq -0 and 0 as numbers", { path: "args.n", op: "eq", value: 0 }, { n: -0 }, true],
  ["eq number string vs number reads the string as a number", { path: "args.n", op: "eq", value: 5 }, { n: "5" }, true],
  ["eq '5.0' vs 5 compares numerically", { path: "args.n", op: "eq", value: 5 }, { n: "5.0" }, true],
  ["eq number vs string value compares as strings", { path: "args.n", op: "eq", value: "5" }, { n: 5 }, true],
  ["eq '5.0' vs string value '5' differs", { path: "args.n", op: "eq", value: "5" }, { n: "5.0" }, false],
  ["eq boolean vs string", { path: "args.f", op: "eq", value: "true" }, { f: true }, true],
  ["eq boolean vs boolean", { path: "args.f", op: "eq", value: false }, { f: false }, true],
  ["eq object argument is not a string", { path: "args.o", op: "eq", value: "[object Object]" }, { o: {} }, notAString("args.o")],
  ["eq list argument is not a string", { path: "args.o", op: "eq", value: "a" }, { o: ["a"] }, notAString("args.o")],
  ["eq null argument is not a string", { path: "args.o", op: "eq", value: "null" }, { o: null }, notAString("args.o")],
  ["eq boolean value, list argument is not a string", { path: "args.f", op: "eq", value: true }, { f: [true] }, notAString("args.f")],
  ["eq missing", { path: "args.env", op: "eq", value: "prod" }, {}, false],
  ["neq differs", { path: "args.env", op: "neq", value: "staging" }, { env: "prod" }, true],
  ["neq same", { path: "args.env", op: "neq", value: "staging" }, { env: "staging" }, false],
  ["neq object argument is not a string", { path: "args.env", op: "neq", value: "staging" }, { env: { x: "staging" } }, notAString("args.env")],
  ["neq list argument is not a string", { path: "args.env", op: "neq", value: "staging" }, { env: ["staging"] }, notAString("args.env")],
  ["neq null argument is not a string", { path: "args.env", op: "neq", value: "staging" }, { env: null }, notAString("args.env")],
  ["neq number argument reads as text", { path: "args.env", op: "neq", value: "5" }, { env: 5 }, false],
  ["neq missing is false", { path: "args.env", op: "neq", value: "staging" }, {}, false],
  // lt lte gt gte
  ["lt holds", { path: "args.n", op: "lt", value: 10 }, { n: 9 }, true],
  ["lt equal", { path: "args.n", op: "lt", value: 10 }, { n: 10 }, false],
  ["lte equal", { path: "args.n", op: "lte", value: 10 }, { n: 10 }, true],
  ["lte above", { path: "args.n", op: "lte", value: 10 }, { n: 10.5 }, false],
  ["gt holds", { path: "args.amount", op: "gt", value: 10000 }, { amount: 10001 }, true],
  ["gt equal", { path: "args.amount", op: "gt", value: 10000 }, { amount: 10000 }, false],
  ["gt numeric string is read as a number", { path: "args.amount", op: "gt", value: 10000 }, { amount: "20000" }, true],
  ["gt boolean is not a number", { path: "args.amount", op: "gt", value: 0 }, { amount: true }, notANumber("args.amount")],
  ["gt NaN is not a number", { path: "args.amount", op: "gt", value: 0 }, { amount: Number.NaN }, notANumber("args.amount")],
  ["gt missing", { path: "args.amount", op: "gt", value: 0 }, {}, false],
  ["gte equal", { path: "args.n", op: "gte", value: 0 }, { n: 0 }, true],
  ["gte below", { path: "args.n", op: "gte", value: 0 }, { n: -1 }, false],
  ["lt null is not a number", { path: "args.n", op: "lt", value: 10 }, { n: null }, notANumber("args.n")],
  // in / not_in
  ["in member", { path: "args.region", op: "in", value: ["eu", "us"] }, { region: "us" }, true],
  ["in member by string comparison", { path: "args.n", op: "in", value: ["1", 2] }, { n: 1 }, true],
  ["in non-member", { path: "args.region", op: "in", value: ["eu", "us"] }, { region: "ap" }, false],
  ["in empty list", { path: "args.region", op: "in", value: [] }, { region: "eu" }, false],
  ["in object argument is not a string", { path: "args.region", op: "in", value: ["eu"] }, { region: { eu: 1 } }, notAString("args.region")],
  ["in missing", { path: "args.region", op: "in", value: ["eu"] }, {}, false],
  ["not_in non-member", { path: "args.region", op: "not_in", value: ["eu", "us"] }, { region: "ap" }, true],
  ["not_in member", { path: "args.region", op: "not_in", value: ["eu", "us"] }, { region: "eu" }, false],
  ["not_in list argument is not a string", { path: "args.region", op: "not_in", value: ["eu"] }, { region: ["eu"] }, notAString("args.region")],
  ["not_in missing is false", { path: "args.region", op: "not_in", value: ["eu"] }, {}, false],
  // exists
  ["exists true, present", { path: "args.reason", op: "exists", value: true }, { reason: "x" }, true],
  ["exists true, empty string is present", { path: "args.reason", op: "exists", value: true }, { reason: "" }, true],
  ["exists true, null", { path: "args.reason", op: "exists", value: true }, { reason: null }, false],
  ["exists true, missing", { path: "args.reason", op: "exists", value: true }, {}, false],
  ["exists true, undefined is missing", { path: "args.reason", op: "exists", value: true }, { reason: undefined }, false],
  ["exists false, missing", { path: "args.reason", op: "exists", value: false }, {}, true],
  ["exists false, null", { path: "args.reason", op: "exists", value: false }, { reason: null }, true],
  ["exists false, present", { path: "args.reason", op: "exists", value: false }, { reason: 0 }, false],
  // regex
  ["regex unanchored", { path: "args.q", op: "regex", value: "DROP" }, { q: "x; DROP TABLE" }, true],
  ["regex anchored by author", { path: "args.q", op: "regex", value: "^DROP$" }, { q: "x; DROP" }, false],
  ["regex no flags: case-sensitive", { path: "args.q", op: "regex", value: "drop" }, { q: "DROP" }, false],
  ["regex number argument reads as text", { path: "args.q", op: "regex", value: "^1$" }, { q: 1 }, true],
  ["regex boolean argument reads as text", { path: "args.q", op: "regex", value: "^tru" }, { q: true }, true],
  ["regex list argument is not a string", { path: "args.q", op: "regex", value: "DROP" }, { q: ["DROP TABLE"] }, notAString("args.q")],
  ["regex null argument is not a string", { path: "args.q", op: "regex", value: "x" }, { q: null }, notAString("args.q")],
  ["regex missing", { path: "args.q", op: "regex", value: ".*" }, {}, false],
  // contains
  ["contains substring", { path: "args.cmd", op: "contains", value: "rm -rf" }, { cmd: "sudo rm -rf /" }, true],
  ["contains no substring", { path: "args.cmd", op: "contains", value: "rm -rf" }, { cmd: "ls" }, false],
  ["contains element", { path: "args.tags", op: "contains", value: "admin" }, { tags: ["user", "admin"] }, true],
  ["contains element by eq", { path: "args.ids", op: "contains", value: 3 }, { ids: [1, "3"] }, true],
  ["contains no element", { path: "args.tags", op: "contains", value: "admin" }, { tags: ["user", "ops"] }, false],
  [
    "contains no element, but inside one: a string-reading upstream sees it",
    { path: "args.tags", op: "contains", value: "admin" },
    { tags: ["administrator"] },
    notAString("args.tags"),
  ],
  ["contains nested list element is not a string", { path: "args.tags", op: "contains", value: "a" }, { tags: [["a"]] }, notAString("args.tags")],
  ["contains object argument is not a string", { path: "args.tags", op: "contains", value: "a" }, { tags: { a: 1 } }, notAString("args.tags")],
  ["contains number argument reads as text", { path: "args.n", op: "contains", value: "3" }, { n: 1234 }, true],
  ["contains missing", { path: "args.tags", op: "contains", value: "a" }, {}, false],
  // paths
  ["nested path", { path: "args.a.b.c", op: "eq", value: 5 }, nested, true],
  ["nested path through a scalar", { path: "args.a.b.c.d", op: "exists", value: true }, nested, false],
  ["nested path through a list index is missing", { path: "args.a.0", op: "exists", value: true }, { a: ["x"] }, false],
  ["list length is missing", { path: "args.a.length", op: "eq", value: 1 }, { a: ["x"] }, false],
  ["string length is missing", { path: "args.a.length", op: "exists", value: true }, { a: "xyz" }, false],
];

const outcome = (condition: Condition, args: Record<string, unknown>): Expected => {
  const result = checkCondition(condition, args);
  return typeof result === "boolean" ? result : result.unsettled;
};

describe("checkCondition", () => {
  test.each(cases)("%s", (_description, condition, args, expected) => {
    expect(outcome(condition, args)).toBe(expected);
  });
});

describe("prototype paths are missing unless sent", () => {
  const inherited = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
  test.each(inherited)("args.%s is missing on {}", (field) => {
    expect(checkCondition({ path: `args.${field}`, op: "exists", value: true }, {})).toBe(false);
    expect(checkCondition({ path: `args.${field}`, op: "exists", value: false }, {})).toBe(true);
    expect(checkCondition({ path: `args.${field}`, op: "neq", value: "x" }, {})).toBe(false);
  });

  test("nested inherited field is missing", () => {
    expect(checkCondition({ path: "args.a.constructor.name", op: "eq", value: "Object" }, { a: {} })).toBe(false);
  });

  test("an own __proto__ key sent by the agent is a real argument", () => {
    const args = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>;
    expect(checkCondition({ path: "args.__proto__", op: "eq", value: "x" }, args)).toBe(true);
  });

  test("null-prototype arguments work", () => {
    const args = Object.assign(Object.create(null) as Record<string, unknown>, { env: "prod" });
    expect(checkCondition({ path: "args.env", op: "eq", value: "prod" }, args)).toBe(true);
  });
});

describe("regex", () => {
  test("the same condition gives the same answer on repeated calls (no lastIndex state)", () => {
    const condition: Condition = { path: "args.q", op: "regex", value: "a" };
    const answers = [1, 2, 3].map(() => checkCondition(condition, { q: "a" }));
    expect(answers).toEqual([true, true, true]);
  });
});

describe("checkRule: AND in three-valued logic", () => {
  const a: Condition = { path: "args.a", op: "eq", value: 1 };
  const b: Condition = { path: "args.b", op: "eq", value: 2 };
  const holds = { kind: "holds" };
  const fails = { kind: "fails" };
  const unsettled = (path: string) => ({ kind: "unsettled", message: notANumber(path) });
  test.each<[string, Condition[], Record<string, unknown>, unknown]>([
    ["empty list holds", [], {}, holds],
    ["all hold", [a, b], { a: 1, b: 2 }, holds],
    ["one fails", [a, b], { a: 1, b: 3 }, fails],
    ["first fails", [a, b], { a: 0, b: 2 }, fails],
    ["unsettled and true is unsettled", [a, b], { a: "x", b: 2 }, unsettled("args.a")],
    ["unsettled and false is false: no reading of a could make the rule hold", [a, b], { a: "x", b: 3 }, fails],
    ["false before unsettled is false", [b, a], { a: "x", b: 3 }, fails],
    ["the first unsettled condition names the message", [a, b], { a: [1], b: null }, unsettled("args.a")],
  ])("%s", (_d, conditions, args, expected) => {
    expect(checkRule(conditions, args)).toEqual(expected);
  });
});

describe("reading a number (docs/policy.md)", () => {
  test.each<[string, unknown, number]>([
    ["a JSON number", 1000, 1000],
    ["a fraction", 2.5, 2.5],
    ["-0 as 0", -0, 0],
    ["a numeric string", "20000", 20000],
    ["exponent, padded", " 2e4 ", 20000],
    ["a trailing .0", "1000.0", 1000],
    ["an exponent", "1e3", 1000],
    ["a leading space", " 1000", 1000],
    ["hex", "0x3e8", 1000],
    ["binary", "0b11", 3],
    ["octal", "0o7", 7],
    ["a plus sign", "+5", 5],
    ["the string -0 as 0", "-0", 0],
    ["a leading dot", ".5", 0.5],
    ["a trailing dot", "5.", 5],
    ["tabs and newlines around", "\t42\n", 42],
    ["Unicode spaces around (trim and Number agree on them)", "\u00a07\ufeff", 7],
  ])("%s: %j reads as %d", (_d, value, number) => {
    expect(Object.is(readNumber(value), number)).toBe(true);
  });

  test.each<[string, unknown]>([
    ["the empty string (Number reads 0)", ""],
    ["a blank string (Number reads 0)", "   "],
    ["a newline only", "\n"],
    ["digit separators", "1_000"],
    ["a thousands comma", "1,000"],
    ["Infinity", "Infinity"],
    ["-Infinity", "-Infinity"],
    ["NaN", "NaN"],
    ["a currency sign", "$5"],
    ["two numbers", "5 5"],
    ["a bare 0x", "0x"],
    ["negative hex (Number refuses it)", "-0x10"],
    ["an overflowing exponent", "1e400"],
    ["the number Infinity", Infinity],
    ["the number NaN", Number.NaN],
    ["true (Number reads 1)", true],
    ["false (Number reads 0)", false],
    ["null (Number reads 0)", null],
    ["a list of one number (Number reads 20000)", [20000]],
    ["a list of one numeric string", ["1"]],
    ["an empty list (Number reads 0)", []],
    ["an object", { valueOf: 5 }],
    ["undefined", undefined],
  ])("%s: %j is not a number", (_d, value) => {
    expect(readNumber(value)).toBeNull();
  });
});

describe("numeric operators fail closed on values that are not numbers", () => {
  const gt: Condition = { path: "args.amount", op: "gt", value: 10000 };
  const eq: Condition = { path: "args.amount", op: "eq", value: 1000 };
  const neq: Condition = { path: "args.amount", op: "neq", value: 1000 };
  const inList: Condition = { path: "args.amount", op: "in", value: [1000] };
  const notIn: Condition = { path: "args.amount", op: "not_in", value: [1000] };
  const unsettled = notANumber("args.amount");

  test.each<[unknown, Expected]>([
    [20000, true],
    ["20000", true],
    [" 2e4 ", true],
    ["0x4e20", true],
    [[20000], unsettled],
    [true, unsettled],
    [null, unsettled],
    ["", unsettled],
    ["  ", unsettled],
    ["20_000", unsettled],
    ["Infinity", unsettled],
    [{ amount: 20000 }, unsettled],
    ["9999", false],
    ["+10000", false],
  ])("gt 10000 with %j: %j", (amount, expected) => {
    expect(outcome(gt, { amount })).toBe(expected);
  });

  const spellingsOf1000 = [1000, 1000.0, "1000", "1000.0", "1e3", " 1000", "1000 ", "0x3e8", "+1000", "1000."];
  test.each(spellingsOf1000)("eq, in 1000 hold and neq, not_in fail for %j", (amount) => {
    expect(outcome(eq, { amount })).toBe(true);
    expect(outcome(inList, { amount })).toBe(true);
    expect(outcome(neq, { amount })).toBe(false);
    expect(outcome(notIn, { amount })).toBe(false);
  });

  const notNumbers = [[1000], ["1000"], true, false, null, "", " ", "1_000", "Infinity", "1,000", {}];
  test.each(notNumbers)("eq, neq, in, not_in 1000 are unsettled for %j", (amount) => {
    for (const condition of [eq, neq, inList, notIn]) expect(outcome(condition, { amount })).toBe(unsettled);
  });

  test("-0 equals 0, in either spelling", () => {
    expect(outcome({ path: "args.n", op: "eq", value: 0 }, { n: "-0" })).toBe(true);
    expect(outcome({ path: "args.n", op: "in", value: [0] }, { n: -0 })).toBe(true);
  });

  test("a list mixing numbers and strings: a string element compares as a string, a number element numerically", () => {
    const mixed: Condition = { path: "args.v", op: "in", value: [1000, "n/a"] };
    expect(outcome(mixed, { v: "n/a" })).toBe(true);
    expect(outcome(mixed, { v: "1e3" })).toBe(true);
    expect(outcome(mixed, { v: "other" })).toBe(notANumber("args.v"));
    expect(outcome({ ...mixed, op: "not_in" }, { v: "other" })).toBe(notANumber("args.v"));
    expect(outcome({ ...mixed, op: "not_in" }, { v: "n/a" })).toBe(false);
    expect(outcome({ ...mixed, op: "not_in" }, { v: 7 })).toBe(true);
  });

  test("string policy values keep comparing as strings", () => {
    expect(outcome({ path: "args.v", op: "eq", value: "1000" }, { v: "1e3" })).toBe(false);
    expect(outcome({ path: "args.v", op: "eq", value: "1000" }, { v: 1000 })).toBe(true);
    expect(outcome({ path: "args.v", op: "in", value: ["1000"] }, { v: [1000] })).toBe(notAString("args.v"));
    expect(outcome({ path: "args.v", op: "neq", value: "1000" }, { v: [1000] })).toBe(notAString("args.v"));
  });

  test("contains a number: list elements compare numerically, and one unreadable element makes it unsettled", () => {
    const contains3: Condition = { path: "args.ids", op: "contains", value: 3 };
    expect(outcome(contains3, { ids: ["3.0"] })).toBe(true);
    expect(outcome(contains3, { ids: ["x", 3] })).toBe(true);
    expect(outcome(contains3, { ids: [1, 2] })).toBe(false);
    // No element is 3, but "13" has its digit: as much "not a string" as ["a3"] is.
    expect(outcome(contains3, { ids: [13] })).toBe(notAString("args.ids"));
    expect(outcome(contains3, { ids: [1, [3]] })).toBe(notANumber("args.ids"));
    expect(outcome(contains3, { ids: "a3" })).toBe(true);
  });

  test("a missing argument is still false for every numeric operator", () => {
    for (const condition of [gt, eq, neq, inList, notIn]) expect(outcome(condition, {})).toBe(false);
  });
});

describe("reading a string (docs/policy.md)", () => {
  test.each<[string, unknown, string]>([
    ["a string", "DROP TABLE", "DROP TABLE"],
    ["the empty string", "", ""],
    ["an integer", 5, "5"],
    ["a fraction", 2.5, "2.5"],
    ["-0 as 0", -0, "0"],
    ["a large number, as JavaScript spells it", 1e21, "1e+21"],
    ["true", true, "true"],
    ["false", false, "false"],
  ])("%s: %j reads as %j", (_d, value, text) => {
    expect(readString(value)).toBe(text);
  });

  test.each<[string, unknown]>([
    ["null (String reads null, Python None)", null],
    ["a one-element list (String reads its element)", ["DROP TABLE"]],
    ["an empty list", []],
    ["a nested list", [["prod"]]],
    ["an object", { env: "prod" }],
    ["an object with its own toString key, as JSON can send", JSON.parse('{"toString": "prod"}')],
    ["an object whose toString is an object", JSON.parse('{"toString": {"x": 1}}')],
    ["a null-prototype object", Object.create(null)],
    ["undefined", undefined],
  ])("%s: %j is not a string", (_d, value) => {
    expect(readString(value)).toBeNull();
  });
});

describe("string operators fail closed on values that are not strings", () => {
  const operators: Condition[] = [
    { path: "args.v", op: "eq", value: "prod" },
    { path: "args.v", op: "neq", value: "prod" },
    { path: "args.v", op: "in", value: ["prod", "production"] },
    { path: "args.v", op: "not_in", value: ["prod", "production"] },
    { path: "args.v", op: "eq", value: true },
    { path: "args.v", op: "regex", value: "DROP\\s+TABLE|prod" },
    { path: "args.v", op: "contains", value: "prod" },
  ];
  // Every value a coercing upstream could read as "prod" or "DROP TABLE", and ones it cannot read at all.
  const notStrings: unknown[] = [
    ["prod"],
    ["DROP TABLE"],
    [["prod"]],
    { env: "prod" },
    JSON.parse('{"toString": "prod"}'),
    JSON.parse('{"toString": {"valueOf": "prod"}}'),
    null,
  ];
  for (const condition of operators) {
    test.each(notStrings)(`${condition.op} ${JSON.stringify(condition.value)} with %j is unsettled, naming only the path`, (v) => {
      // contains keeps its list meaning: ["prod"] has the element, ["DROP TABLE"] neither has it nor contains it.
      const expected =
        condition.op !== "contains"
          ? notAString("args.v")
          : Array.isArray(v) && v[0] === "prod"
            ? true
            : Array.isArray(v) && v[0] === "DROP TABLE"
              ? false
              : notAString("args.v");
      expect(outcome(condition, { v })).toBe(expected);
    });
  }

  test("an empty list has no element: contains is false, the other string operators are unsettled", () => {
    for (const condition of operators) {
      expect(outcome(condition, { v: [] })).toBe(condition.op === "contains" ? false : notAString("args.v"));
    }
  });

  test("numbers and booleans keep reading as their text", () => {
    expect(outcome({ path: "args.v", op: "eq", value: "5" }, { v: 5 })).toBe(true);
    expect(outcome({ path: "args.v", op: "in", value: ["22", "23"] }, { v: 22 })).toBe(true);
    expect(outcome({ path: "args.v", op: "not_in", value: ["22"] }, { v: 80 })).toBe(true);
    expect(outcome({ path: "args.v", op: "eq", value: "true" }, { v: true })).toBe(true);
    expect(outcome({ path: "args.v", op: "eq", value: false }, { v: "false" })).toBe(true);
    expect(outcome({ path: "args.v", op: "regex", value: "^[0-9]+$" }, { v: 443 })).toBe(true);
    expect(outcome({ path: "args.v", op: "regex", value: "\\." }, { v: 2.5 })).toBe(true);
    expect(outcome({ path: "args.v", op: "contains", value: "ru" }, { v: true })).toBe(true);
    expect(outcome({ path: "args.v", op: "eq", value: "5.0" }, { v: 5 })).toBe(false);
  });

  test("contains over a list: membership, else unsettled where a string-reading upstream would see the value", () => {
    const rmrf: Condition = { path: "args.cmd", op: "contains", value: "rm -rf" };
    expect(outcome(rmrf, { cmd: ["ls", "rm -rf"] })).toBe(true);
    expect(outcome(rmrf, { cmd: ["ls", "pwd"] })).toBe(false);
    expect(outcome(rmrf, { cmd: ["rm -rf /"] })).toBe(notAString("args.cmd"));
    expect(outcome(rmrf, { cmd: ["sudo", "rm -rf /tmp"] })).toBe(notAString("args.cmd"));
    // String(["a", "b"]) is "a,b": the value can straddle two elements.
    expect(outcome({ path: "args.cmd", op: "contains", value: "a,b" }, { cmd: ["a", "b"] })).toBe(notAString("args.cmd"));
    // An equal element settles it even beside an unreadable one; otherwise the unreadable one does.
    expect(outcome(rmrf, { cmd: [{}, "rm -rf"] })).toBe(true);
    expect(outcome(rmrf, { cmd: [{}, "ls"] })).toBe(notAString("args.cmd"));
    expect(outcome(rmrf, { cmd: [null] })).toBe(notAString("args.cmd"));
  });

  test("a rule with a false condition stays false; with only true and unsettled ones it is unsettled", () => {
    const sql: Condition = { path: "args.sql", op: "regex", value: "DROP\\s+TABLE" };
    const env: Condition = { path: "args.env", op: "eq", value: "prod" };
    expect(checkRule([sql, env], { sql: ["DROP TABLE"], env: "dev" })).toEqual({ kind: "fails" });
    expect(checkRule([sql, env], { sql: ["DROP TABLE"], env: "prod" })).toEqual({ kind: "unsettled", message: notAString("args.sql") });
    expect(checkRule([env, sql], { sql: "DROP TABLE", env: ["prod"] })).toEqual({ kind: "unsettled", message: notAString("args.env") });
  });

  test("a missing argument is still false for every string operator, and neq / not_in stay false", () => {
    for (const condition of operators) expect(outcome(condition, {})).toBe(false);
  });
});

describe("regex reads at most MAX_MATCHED_LENGTH characters", () => {
  const condition: Condition = { path: "args.q", op: "regex", value: "^(a+)+$" };

  test("a string of exactly the limit is matched", () => {
    expect(outcome(condition, { q: "a".repeat(MAX_MATCHED_LENGTH) })).toBe(true);
  });

  test("one character more is unsettled, not false", () => {
    expect(outcome(condition, { q: "a".repeat(MAX_MATCHED_LENGTH + 1) })).toBe(`args.q is too long to check (over ${MAX_MATCHED_LENGTH} characters)`);
  });

  test("a catastrophic pattern at the limit answers in linear time", () => {
    const started = performance.now();
    expect(outcome({ path: "args.q", op: "regex", value: "^(\\w+\\s?)*$" }, { q: `${"a".repeat(MAX_MATCHED_LENGTH - 1)}!` })).toBe(false);
    // Not a performance target: a backtracking engine would not finish at all.
    expect(performance.now() - started).toBeLessThan(250);
  });
});

import { describe, expect, test } from "vitest";
import { conditionHolds, ruleHolds } from "../../../src/policy/conditions";
import type { Condition } from "../../../src/policy/schema";

type Case = [description: string, condition: Condition, args: Record<string, unknown>, holds: boolean];

const nested = { a: { b: { c: 5 } } };

const cases: Case[] = [
  // eq / neq
  ["eq string", { path: "args.env", op: "eq", value: "prod" }, { env: "prod" }, true],
  ["eq string differs", { path: "args.env", op: "eq", value: "prod" }, { env: "Prod" }, false],
  ["eq numbers numerically", { path: "args.n", op: "eq", value: 5 }, { n: 5.0 }, true],
  ["eq -0 and 0 as numbers", { path: "args.n", op: "eq", value: 0 }, { n: -0 }, true],
  ["eq number string vs number compares as strings", { path: "args.n", op: "eq", value: 5 }, { n: "5" }, true],
  ["eq '5.0' vs 5 as strings differs", { path: "args.n", op: "eq", value: 5 }, { n: "5.0" }, false],
  ["eq boolean vs string", { path: "args.f", op: "eq", value: "true" }, { f: true }, true],
  ["eq boolean vs boolean", { path: "args.f", op: "eq", value: false }, { f: false }, true],
  ["eq object argument never equal", { path: "args.o", op: "eq", value: "[object Object]" }, { o: {} }, false],
  ["eq list argument never equal", { path: "args.o", op: "eq", value: "a" }, { o: ["a"] }, false],
  ["eq null argument never equal", { path: "args.o", op: "eq", value: "null" }, { o: null }, false],
  ["eq missing", { path: "args.env", op: "eq", value: "prod" }, {}, false],
  ["neq differs", { path: "args.env", op: "neq", value: "staging" }, { env: "prod" }, true],
  ["neq same", { path: "args.env", op: "neq", value: "staging" }, { env: "staging" }, false],
  ["neq object argument is not equal", { path: "args.env", op: "neq", value: "staging" }, { env: { x: "staging" } }, true],
  ["neq list argument is not equal", { path: "args.env", op: "neq", value: "staging" }, { env: ["staging"] }, true],
  ["neq null argument is not equal", { path: "args.env", op: "neq", value: "staging" }, { env: null }, true],
  ["neq missing is false", { path: "args.env", op: "neq", value: "staging" }, {}, false],
  // lt lte gt gte
  ["lt holds", { path: "args.n", op: "lt", value: 10 }, { n: 9 }, true],
  ["lt equal", { path: "args.n", op: "lt", value: 10 }, { n: 10 }, false],
  ["lte equal", { path: "args.n", op: "lte", value: 10 }, { n: 10 }, true],
  ["lte above", { path: "args.n", op: "lte", value: 10 }, { n: 10.5 }, false],
  ["gt holds", { path: "args.amount", op: "gt", value: 10000 }, { amount: 10001 }, true],
  ["gt equal", { path: "args.amount", op: "gt", value: 10000 }, { amount: 10000 }, false],
  ["gt numeric string is not a number", { path: "args.amount", op: "gt", value: 10000 }, { amount: "20000" }, false],
  ["gt boolean is not a number", { path: "args.amount", op: "gt", value: 0 }, { amount: true }, false],
  ["gt NaN is false", { path: "args.amount", op: "gt", value: 0 }, { amount: Number.NaN }, false],
  ["gt missing", { path: "args.amount", op: "gt", value: 0 }, {}, false],
  ["gte equal", { path: "args.n", op: "gte", value: 0 }, { n: 0 }, true],
  ["gte below", { path: "args.n", op: "gte", value: 0 }, { n: -1 }, false],
  ["lt null is not a number", { path: "args.n", op: "lt", value: 10 }, { n: null }, false],
  // in / not_in
  ["in member", { path: "args.region", op: "in", value: ["eu", "us"] }, { region: "us" }, true],
  ["in member by string comparison", { path: "args.n", op: "in", value: ["1", 2] }, { n: 1 }, true],
  ["in non-member", { path: "args.region", op: "in", value: ["eu", "us"] }, { region: "ap" }, false],
  ["in empty list", { path: "args.region", op: "in", value: [] }, { region: "eu" }, false],
  ["in object argument", { path: "args.region", op: "in", value: ["eu"] }, { region: { eu: 1 } }, false],
  ["in missing", { path: "args.region", op: "in", value: ["eu"] }, {}, false],
  ["not_in non-member", { path: "args.region", op: "not_in", value: ["eu", "us"] }, { region: "ap" }, true],
  ["not_in member", { path: "args.region", op: "not_in", value: ["eu", "us"] }, { region: "eu" }, false],
  ["not_in list argument", { path: "args.region", op: "not_in", value: ["eu"] }, { region: ["eu"] }, true],
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
  ["regex number argument", { path: "args.q", op: "regex", value: "1" }, { q: 1 }, false],
  ["regex missing", { path: "args.q", op: "regex", value: ".*" }, {}, false],
  // contains
  ["contains substring", { path: "args.cmd", op: "contains", value: "rm -rf" }, { cmd: "sudo rm -rf /" }, true],
  ["contains no substring", { path: "args.cmd", op: "contains", value: "rm -rf" }, { cmd: "ls" }, false],
  ["contains element", { path: "args.tags", op: "contains", value: "admin" }, { tags: ["user", "admin"] }, true],
  ["contains element by eq", { path: "args.ids", op: "contains", value: 3 }, { ids: [1, "3"] }, true],
  ["contains no element", { path: "args.tags", op: "contains", value: "admin" }, { tags: ["administrator"] }, false],
  ["contains nested list is not an element", { path: "args.tags", op: "contains", value: "a" }, { tags: [["a"]] }, false],
  ["contains object argument", { path: "args.tags", op: "contains", value: "a" }, { tags: { a: 1 } }, false],
  ["contains missing", { path: "args.tags", op: "contains", value: "a" }, {}, false],
  // paths
  ["nested path", { path: "args.a.b.c", op: "eq", value: 5 }, nested, true],
  ["nested path through a scalar", { path: "args.a.b.c.d", op: "exists", value: true }, nested, false],
  ["nested path through a list index is missing", { path: "args.a.0", op: "exists", value: true }, { a: ["x"] }, false],
  ["list length is missing", { path: "args.a.length", op: "eq", value: 1 }, { a: ["x"] }, false],
  ["string length is missing", { path: "args.a.length", op: "exists", value: true }, { a: "xyz" }, false],
];

describe("conditionHolds", () => {
  test.each(cases)("%s", (_description, condition, args, holds) => {
    expect(conditionHolds(condition, args)).toBe(holds);
  });
});

describe("prototype paths are missing unless sent", () => {
  const inherited = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
  test.each(inherited)("args.%s is missing on {}", (field) => {
    expect(conditionHolds({ path: `args.${field}`, op: "exists", value: true }, {})).toBe(false);
    expect(conditionHolds({ path: `args.${field}`, op: "exists", value: false }, {})).toBe(true);
    expect(conditionHolds({ path: `args.${field}`, op: "neq", value: "x" }, {})).toBe(false);
  });

  test("nested inherited field is missing", () => {
    expect(conditionHolds({ path: "args.a.constructor.name", op: "eq", value: "Object" }, { a: {} })).toBe(false);
  });

  test("an own __proto__ key sent by the agent is a real argument", () => {
    const args = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>;
    expect(conditionHolds({ path: "args.__proto__", op: "eq", value: "x" }, args)).toBe(true);
  });

  test("null-prototype arguments work", () => {
    const args = Object.assign(Object.create(null) as Record<string, unknown>, { env: "prod" });
    expect(conditionHolds({ path: "args.env", op: "eq", value: "prod" }, args)).toBe(true);
  });
});

describe("regex", () => {
  test("the same condition gives the same answer on repeated calls (no lastIndex state)", () => {
    const condition: Condition = { path: "args.q", op: "regex", value: "a" };
    const answers = [1, 2, 3].map(() => conditionHolds(condition, { q: "a" }));
    expect(answers).toEqual([true, true, true]);
  });
});

describe("ruleHolds", () => {
  const a: Condition = { path: "args.a", op: "eq", value: 1 };
  const b: Condition = { path: "args.b", op: "eq", value: 2 };
  test.each<[string, Condition[], Record<string, unknown>, boolean]>([
    ["empty list holds", [], {}, true],
    ["all hold", [a, b], { a: 1, b: 2 }, true],
    ["one fails", [a, b], { a: 1, b: 3 }, false],
    ["first fails", [a, b], { a: 0, b: 2 }, false],
  ])("%s", (_d, conditions, args, holds) => {
    expect(ruleHolds(conditions, args)).toBe(holds);
  });
});

/**
 * The eleven condition operators of POLICY.md, over the arguments of one tools/call.
 *
 * Comparison rules, chosen to fail closed:
 * - A missing path (absent key, or `undefined`) makes every operator but `exists` false; `null`
 *   is present for every operator except `exists`, which treats it as absent (POLICY.md).
 * - `eq` compares two numbers as numbers; a string, number or boolean argument against the policy
 *   value as strings (`String(a) === String(b)`, so `"5"` eq `5` and `true` eq `"true"`).
 *   An object, list or null argument is equal to no policy value. `neq` is exactly "present and
 *   not `eq`": `neq` mostly guards a `deny_if` ("deny if env neq staging"), so an argument of an
 *   unexpected shape must make it true, never open a hole.
 * - `lt` `lte` `gt` `gte` need a number argument: `"20000"` is not greater than `10000`. Authors
 *   who need a number pin the type with a `require` rule such as `gte 0`.
 * - Paths walk own properties of plain objects only: `args.__proto__`, `args.constructor` and
 *   `args.list.length` are missing unless the agent sent such a key itself.
 *
 * Regular expressions are written by operators, not agents, so a pattern is trusted to be sane;
 * a catastrophic pattern over a large argument (bodies are capped at 4 MiB upstream of here) can
 * still burn the request's CPU. Length-capping what `regex` reads was considered and not done:
 * it would change which arguments a `deny_if` sees.
 */
import type { Condition } from "./schema";

type Scalar = string | number | boolean;

/** The argument at `path` ("args.a.b"), or MISSING. */
const MISSING: unique symbol = Symbol("missing");

export function argumentAt(path: string, args: Record<string, unknown>): unknown {
  const fields = path.split(".").slice(1);
  let current: unknown = args;
  for (const field of fields) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return MISSING;
    if (!Object.hasOwn(current, field)) return MISSING;
    current = (current as Record<string, unknown>)[field];
  }
  return current === undefined ? MISSING : current;
}

function equals(argument: unknown, value: Scalar): boolean {
  if (typeof argument === "number" && typeof value === "number") return argument === value;
  if (typeof argument === "string" || typeof argument === "number" || typeof argument === "boolean") {
    return String(argument) === String(value);
  }
  return false;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && !Number.isNaN(v);

/** Compiled once per condition object; parsed policies are frozen, so the key is stable. */
const compiled = new WeakMap<object, RegExp>();

function patternOf(condition: Condition & { op: "regex" }): RegExp {
  let regex = compiled.get(condition);
  if (regex === undefined) {
    // No flags: no `g`/`y`, so `test` keeps no lastIndex state between calls.
    regex = new RegExp(condition.value);
    compiled.set(condition, regex);
  }
  return regex;
}

export function conditionHolds(condition: Condition, args: Record<string, unknown>): boolean {
  const argument = argumentAt(condition.path, args);
  if (condition.op === "exists") {
    const present = argument !== MISSING && argument !== null;
    return present === condition.value;
  }
  if (argument === MISSING) return false;
  switch (condition.op) {
    case "eq":
      return equals(argument, condition.value);
    case "neq":
      return !equals(argument, condition.value);
    case "lt":
      return isNumber(argument) && argument < condition.value;
    case "lte":
      return isNumber(argument) && argument <= condition.value;
    case "gt":
      return isNumber(argument) && argument > condition.value;
    case "gte":
      return isNumber(argument) && argument >= condition.value;
    case "in":
      return condition.value.some((v) => equals(argument, v));
    case "not_in":
      return !condition.value.some((v) => equals(argument, v));
    case "regex":
      return typeof argument === "string" && patternOf(condition).test(argument);
    case "contains":
      if (typeof argument === "string") return argument.includes(String(condition.value));
      if (Array.isArray(argument)) return argument.some((element) => equals(element, condition.value));
      return false;
  }
}

/** A rule's conditions all hold (AND); an empty list always holds. */
export function ruleHolds(conditions: readonly Condition[], args: Record<string, unknown>): boolean {
  return conditions.every((condition) => conditionHolds(condition, args));
}

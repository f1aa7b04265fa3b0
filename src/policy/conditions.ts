/**
 * The eleven condition operators of docs/policy.md, over the arguments of one tools/call.
 *
 * A condition is true, false, or unsettled: the argument is present but cannot be read the way the
 * operator needs (not a number where a numeric `value` needs one; not a string where a string
 * `value` or a pattern needs one; a string too long to match). Unsettled fails closed, whichever
 * list the rule is in: a `deny_if` rule that could hold denies, a `require` rule that cannot be
 * shown to hold fails. Rules combine conditions with AND in three-valued (Kleene) logic: any false
 * condition makes the rule false, because no reading of the unsettled argument could make it hold;
 * otherwise any unsettled one makes the rule unsettled.
 *
 * Comparison rules, chosen to fail closed against upstreams that coerce their arguments:
 * - A missing path (absent key, or `undefined`) makes every operator but `exists` false; `null`
 *   is present for every operator except `exists`, which treats it as absent.
 * - Reading a number: upstreams commonly coerce (`z.coerce.number()`, `Number(x)`), so a string
 *   such as `"2e4"`, `" 1000 "` or `"0x3e8"` is the number an upstream would refund. An argument is
 *   read as a number when it is a finite JSON number, or a string that `Number()` reads as finite
 *   after trimming, except a blank one (`Number("")` is 0). Anything else (a list such as `[20000]`,
 *   which `Number()` would read as 20000, a boolean, null, an object, `"1_000"`, `"Infinity"`) is not
 *   a number, and a condition that needs one is unsettled rather than false.
 * - Reading a string: upstreams coerce strings too (`z.coerce.string()`, `String(x)`, a template
 *   literal, Python's `str()`), and all of them read `["DROP TABLE"]` as "DROP TABLE". A JSON string
 *   is itself; a number or boolean is the text every such coercion gives it (`5` is "5", `true` is
 *   "true"); null, a list and an object are not a string, because coercions disagree on them (or
 *   call an agent-sent `toString` key), and a condition that needs a string is unsettled.
 * - `lt` `lte` `gt` `gte` always need a number. `eq` `neq` `in` `not_in` need a number for a
 *   numeric policy value (and compare numerically: `"1e3"` eq `1000`), and a string for a string or
 *   boolean policy value (and compare the texts: `5` eq `"5"`, `true` eq `"true"`). `regex` always
 *   needs a string, and reads at most MAX_MATCHED_LENGTH code units of it.
 * - `contains` over a list is element membership (each element compared as `eq`). When no element
 *   is equal, the list is still what a string-reading upstream would join into one text
 *   (`String(["rm -rf /"])` is "rm -rf /"); if `value` occurs in that text the condition is
 *   unsettled, so `["rm -rf /"]` cannot pass `deny_if cmd contains "rm -rf"`. Over anything else,
 *   `contains` reads the argument as a string and looks for `value`'s text in it.
 * - `neq` and `not_in` are exactly "present and not `eq`/`in`", unsettled when those are: they
 *   mostly guard a `deny_if` ("deny if env neq staging"), so an argument of an unexpected shape
 *   must never open a hole.
 * - Paths walk own properties of plain objects only: `args.__proto__`, `args.constructor` and
 *   `args.list.length` are missing unless the agent sent such a key itself.
 *
 * Messages for unsettled conditions name the policy's path, never the argument's value.
 */
import { compilePattern, MAX_MATCHED_LENGTH, type Pattern } from "./pattern";
import type { Condition } from "./schema";

type Scalar = string | number | boolean;

/** A condition the argument cannot settle; `message` is what the denied agent is told. */
export interface Unsettled {
  unsettled: string;
}

export type ConditionResult = boolean | Unsettled;

export type RuleResult = { kind: "holds" } | { kind: "fails" } | { kind: "unsettled"; message: string };

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

/**
 * docs/policy.md "Reading a number": a finite JSON number, or a non-blank string that `Number()`
 * reads as finite after trimming; null for anything else. -0 reads as 0.
 */
export function readNumber(value: unknown): number | null {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string") {
    const trimmed = value.trim();
    // Number("") and Number("  ") are 0: a blank string is no number, not zero.
    if (trimmed === "") return null;
    n = Number(trimmed);
  } else return null;
  return Number.isFinite(n) ? n + 0 : null;
}

/**
 * docs/policy.md "Reading a string": a JSON string is itself, a number or boolean is JavaScript's
 * text for it (`String(5)` is "5", `String(-0)` is "0", `String(true)` is "true"); null for
 * anything else. Never calls `String()` on an object or a list: JSON lets an agent send its own
 * `toString` key, and coercions disagree on what such values say anyway.
 */
export function readString(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

const notANumber = (path: string): Unsettled => ({ unsettled: `${path} is not a number` });
const notAString = (path: string): Unsettled => ({ unsettled: `${path} is not a string` });

/**
 * `eq` against one policy value: numerically for a number, as text for a string or boolean;
 * unsettled when the argument cannot be read that way.
 */
function equals(argument: unknown, value: Scalar, path: string): ConditionResult {
  if (typeof value === "number") {
    const n = readNumber(argument);
    return n === null ? notANumber(path) : n === value;
  }
  const text = readString(argument);
  return text === null ? notAString(path) : text === String(value);
}

const not = (result: ConditionResult): ConditionResult => (typeof result === "boolean" ? !result : result);

/** Kleene OR: true if any is true; else the first unsettled; else false. */
function any<T>(items: readonly T[], test: (item: T) => ConditionResult): ConditionResult {
  let unsettled: Unsettled | null = null;
  for (const item of items) {
    const result = test(item);
    if (result === true) return true;
    if (result !== false) unsettled ??= result;
  }
  return unsettled ?? false;
}

function compare(argument: unknown, path: string, holds: (n: number) => boolean): ConditionResult {
  const n = readNumber(argument);
  return n === null ? notANumber(path) : holds(n);
}

/** Compiled once per condition object; parsed policies are frozen, so the key is stable. */
const compiled = new WeakMap<object, Pattern | null>();

function patternOf(condition: Condition & { op: "regex" }): Pattern | null {
  let pattern = compiled.get(condition);
  if (pattern === undefined) {
    // parsePolicy has compiled it once already; null only if that ever stops being true.
    const result = compilePattern(condition.value);
    pattern = result.ok ? result.value : null;
    compiled.set(condition, pattern);
  }
  return pattern;
}

function matches(condition: Condition & { op: "regex" }, argument: unknown): ConditionResult {
  const text = readString(argument);
  if (text === null) return notAString(condition.path);
  if (text.length > MAX_MATCHED_LENGTH) {
    return { unsettled: `${condition.path} is too long to check (over ${MAX_MATCHED_LENGTH} characters)` };
  }
  const pattern = patternOf(condition);
  if (pattern === null) return { unsettled: `the pattern for ${condition.path} cannot be checked` };
  return pattern.test(text);
}

/**
 * `contains`: element membership over a list, a substring search over anything read as a string.
 * A list with no equal element is unsettled when `value` occurs in the text a string-reading
 * upstream makes of it: its elements' texts joined with "," (`String(list)`), since that upstream
 * would see `value` where the gateway saw no element.
 */
function contains(argument: unknown, value: Scalar, path: string): ConditionResult {
  const needle = String(value);
  if (Array.isArray(argument)) {
    const member = any(argument, (element) => equals(element, value, path));
    // Not false: an element is equal, or unreadable. False: every element was read (as a number or
    // a string, as `value` needs), so each has a text.
    if (member !== false) return member;
    const joined = argument.map((element) => readString(element) ?? "").join(",");
    return joined.includes(needle) ? notAString(path) : false;
  }
  const text = readString(argument);
  return text === null ? notAString(path) : text.includes(needle);
}

export function checkCondition(condition: Condition, args: Record<string, unknown>): ConditionResult {
  const argument = argumentAt(condition.path, args);
  if (condition.op === "exists") {
    const present = argument !== MISSING && argument !== null;
    return present === condition.value;
  }
  if (argument === MISSING) return false;
  const { path } = condition;
  switch (condition.op) {
    case "eq":
      return equals(argument, condition.value, path);
    case "neq":
      return not(equals(argument, condition.value, path));
    case "lt":
      return compare(argument, path, (n) => n < condition.value);
    case "lte":
      return compare(argument, path, (n) => n <= condition.value);
    case "gt":
      return compare(argument, path, (n) => n > condition.value);
    case "gte":
      return compare(argument, path, (n) => n >= condition.value);
    case "in":
      return any(condition.value, (v) => equals(argument, v, path));
    case "not_in":
      return not(any(condition.value, (v) => equals(argument, v, path)));
    case "regex":
      return matches(condition, argument);
    case "contains":
      return contains(argument, condition.value, path);
  }
}

/** A rule's conditions combined with AND (Kleene); an empty list always holds. */
export function checkRule(conditions: readonly Condition[], args: Record<string, unknown>): RuleResult {
  let unsettled: Unsettled | null = null;
  for (const condition of conditions) {
    const result = checkCondition(condition, args);
    if (result === false) return { kind: "fails" };
    if (result !== true) unsettled ??= result;
  }
  return unsettled === null ? { kind: "holds" } : { kind: "unsettled", message: unsettled.unsettled };
}

/**
 * A second evaluator, written straight from docs/policy.md over the raw JSON document, checked
 * against `evaluateToolCall` on random documents and arguments. The property the issue asks for:
 * the reference never denies a call that `evaluateToolCall` allows. It is checked in its stronger
 * form too: both agree on every decision, its code, its rule, and the message of a require or
 * deny_if denial (the rule's on_deny, or why the argument could not be checked). Its `regex` is
 * JavaScript's RegExp, the meaning docs/policy.md promises for the generated patterns.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkCondition } from "../../../src/policy/conditions";
import { evaluateToolCall } from "../../../src/policy/evaluate";
import { formatPolicyErrors, parsePolicy, type Condition } from "../../../src/policy/schema";
import { calledToolNames, conditionInput, policyInput, rulesOfReadInput, toolArguments } from "./arbitraries";

type Json = any; // the reference reads the raw document the way the spec's prose does

interface Decision {
  kind: "allow" | "deny";
  code?: string;
  rule?: string | null;
  /** Compared for require and deny_if only: the other steps word their own messages. */
  message?: string;
  costs?: number[];
}

const has = (o: unknown, k: string) => o !== null && typeof o === "object" && !Array.isArray(o) && Object.hasOwn(o, k);
const esc = (s: string) => s.split("~").join("~0").split("/").join("~1");

/** undefined = missing */
function lookup(args: Json, path: string): unknown {
  let at: unknown = args;
  for (const field of path.slice("args.".length).split(".")) {
    if (!has(at, field)) return undefined;
    at = (at as Json)[field];
  }
  return at;
}

/** "Reading a number": a JSON number, or a string Number() reads as finite, unless blank; else undefined. */
function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v !== "string" || /^\s*$/.test(v)) return undefined;
  return Number.isFinite(Number(v)) ? Number(v) : undefined;
}

/** "Reading a string": a JSON string, or a number or boolean spelled as a template literal would; else undefined. */
function asString(v: unknown): string | undefined {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? `${v}` : undefined;
}

/** A condition is true, false, or "cannot tell" (fails closed), carrying what the agent is told. */
type Truth = true | false | { cannotTell: string };

const notAString = (path: string) => ({ cannotTell: `${path} is not a string` });

/** A numeric policy value reads the argument as a number, any other as a string. */
function same(a: unknown, b: unknown, path: string): Truth {
  if (typeof b === "number") {
    const n = asNumber(a);
    return n === undefined ? { cannotTell: `${path} is not a number` } : n === b;
  }
  const text = asString(a);
  return text === undefined ? notAString(path) : text === `${b as string}`;
}

/** A list has the value as an element; or else, if a string-reading upstream's `String(list)` contains it, cannot tell. */
function listContains(list: unknown[], value: unknown, path: string): Truth {
  const member = someOf(list, (x) => same(x, value, path));
  if (member !== false) return member;
  return list
    .map((x) => asString(x))
    .join(",")
    .indexOf(`${value as string}`) !== -1
    ? notAString(path)
    : false;
}

const negate = (t: Truth): Truth => (t === true ? false : t === false ? true : t);

function someOf(list: unknown[], test: (x: unknown) => Truth): Truth {
  const results = list.map(test);
  if (results.includes(true)) return true;
  return results.find((r) => r !== false) ?? false;
}

function holds(c: Json, args: Json): Truth {
  const v = lookup(args, c.path);
  if (c.op === "exists") return c.value ? v !== undefined && v !== null : v === undefined || v === null;
  if (v === undefined) return false;
  const n = asNumber(v);
  const compare = (ok: (n: number) => boolean): Truth => (n === undefined ? { cannotTell: `${c.path} is not a number` } : ok(n));
  switch (c.op) {
    case "eq":
      return same(v, c.value, c.path);
    case "neq":
      return negate(same(v, c.value, c.path));
    case "lt":
      return compare((x) => x < c.value);
    case "lte":
      return compare((x) => x <= c.value);
    case "gt":
      return compare((x) => x > c.value);
    case "gte":
      return compare((x) => x >= c.value);
    case "in":
      return someOf(c.value, (x) => same(v, x, c.path));
    case "not_in":
      return negate(someOf(c.value, (x) => same(v, x, c.path)));
    case "regex": {
      const text = asString(v);
      if (text === undefined) return notAString(c.path);
      if (text.length > 65536) return { cannotTell: `${c.path} is too long to check (over 65536 characters)` };
      return new RegExp(c.value).test(text);
    }
    case "contains": {
      if (Array.isArray(v)) return listContains(v, c.value, c.path);
      const text = asString(v);
      return text === undefined ? notAString(c.path) : text.indexOf(String(c.value)) !== -1;
    }
  }
  throw new Error(`unknown op ${c.op}`);
}

/** All conditions hold: false if any is false, else "cannot tell" if any is, else true. */
function allHold(conditions: Json[], args: Json): Truth {
  const results = conditions.map((c) => holds(c, args));
  if (results.includes(false)) return false;
  return results.find((r) => r !== true) ?? true;
}

function reference(doc: Json | null, tool: string, args: Json): Decision {
  if (doc === null) return { kind: "deny", code: "no_policy", rule: null };
  const hide: string[] = doc.hide ?? [];
  for (let i = 0; i < hide.length; i++) if (hide[i] === "*" || hide[i] === tool) return { kind: "deny", code: "hidden", rule: `/hide/${i}` };
  const listed = has(doc.tools, tool);
  if (!listed && !/^[A-Za-z0-9_.-]{1,128}$/.test(tool)) return { kind: "deny", code: "invalid_name", rule: null };
  if (!listed && doc.default === "deny") return { kind: "deny", code: "not_permitted", rule: "/default" };
  const t = listed ? doc.tools[tool] : {};
  const require: Json[] = t.require ?? [];
  // Fail closed: a rule that cannot be told denies from either list, saying why.
  for (let i = 0; i < require.length; i++) {
    const r = allHold(require[i].conditions, args);
    if (r !== true)
      return { kind: "deny", code: "require", rule: `/tools/${esc(tool)}/require/${i}`, message: r === false ? require[i].on_deny : r.cannotTell };
  }
  const denyIf: Json[] = t.deny_if ?? [];
  for (let i = 0; i < denyIf.length; i++) {
    const r = allHold(denyIf[i].conditions, args);
    if (r !== false) return { kind: "deny", code: "deny_if", rule: `/tools/${esc(tool)}/deny_if/${i}`, message: r === true ? denyIf[i].on_deny : r.cannotTell };
  }
  const costs: number[] = [];
  const limits: [Json, string][] = [
    ...((t.limits ?? []) as Json[]).map((l, i): [Json, string] => [l, `/tools/${esc(tool)}/limits/${i}`]),
    ...((doc.all_tools?.limits ?? []) as Json[]).map((l, i): [Json, string] => [l, `/all_tools/limits/${i}`]),
  ];
  for (const [l, rule] of limits) {
    if (l.cost === undefined) {
      costs.push(1);
      continue;
    }
    const v = asNumber(lookup(args, l.cost));
    if (v === undefined || v < 0) return { kind: "deny", code: "invalid_cost", rule };
    costs.push(v === 0 ? 0 : v);
  }
  return { kind: "allow", costs };
}

function actual(doc: Json | null, tool: string, args: Record<string, unknown>): Decision {
  let policy = null;
  if (doc !== null) {
    const parsed = parsePolicy(doc);
    if (!parsed.ok) throw new Error(formatPolicyErrors(parsed.error));
    policy = parsed.value;
  }
  const e = evaluateToolCall(policy, tool, args);
  if (e.kind === "allow") return { kind: "allow", costs: e.limits.map((l) => l.cost) };
  // A hidden tool under default allow is denied too; it is only answered by asking the upstream.
  if (e.kind === "conceal") return { kind: "deny", code: "hidden", rule: e.rule };
  // The generated documents carry no approve or approve_if (test/unit/policy/evaluate.test.ts covers them).
  if (e.kind === "approve") throw new Error("a generated document asked for approval");
  const decision: Decision = { kind: "deny", code: e.code, rule: e.rule };
  if (e.code === "require" || e.code === "deny_if") decision.message = e.message;
  return decision;
}

const documents = fc.option(policyInput, { nil: null, freq: 10 });
/** Documents and calls that always reach require and deny_if: the tool "read" with random rules. */
const ruleCases = fc.tuple(rulesOfReadInput, fc.constant("read"), toolArguments);
const tools = fc.constantFrom(...calledToolNames);

describe("evaluateToolCall against a reference evaluator written from docs/policy.md", () => {
  test("the reference never denies a call that evaluateToolCall allows", () => {
    fc.assert(
      fc.property(documents, tools, toolArguments, (doc, tool, args) => {
        if (actual(doc, tool, args).kind === "allow") expect(reference(doc, tool, args).kind).toBe("allow");
      }),
      { numRuns: 3000 },
    );
  });

  test("both agree on every decision, code, rule and cost", () => {
    fc.assert(
      fc.property(documents, tools, toolArguments, (doc, tool, args) => {
        expect(actual(doc, tool, args)).toEqual(reference(doc, tool, args));
      }),
      { numRuns: 3000 },
    );
  });

  test("both agree on every decision that reaches the rules", () => {
    fc.assert(
      fc.property(ruleCases, ([doc, tool, args]) => {
        expect(actual(doc, tool, args)).toEqual(reference(doc, tool, args));
      }),
      { numRuns: 3000 },
    );
  });

  test("both agree on every condition, operator by operator", () => {
    fc.assert(
      fc.property(conditionInput, toolArguments, (c, args) => {
        const result = checkCondition(c as Condition, args);
        const expected = holds(c, args);
        expect(typeof result === "boolean" ? result : { cannotTell: result.unsettled }).toEqual(expected);
      }),
      { numRuns: 20_000 },
    );
  });

  test("the generators reach arguments that cannot be checked, under require and deny_if", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(ruleCases, ([doc, tool, args]) => {
        const d = actual(doc, tool, args);
        if (d.message?.endsWith("is not a number")) seen.add(`${d.code} not a number`);
        if (d.message?.endsWith("is not a string")) seen.add(`${d.code} not a string`);
        if (d.message?.includes("is too long to check")) seen.add(`${d.code} too long`);
      }),
      { numRuns: 10_000, seed: 1 },
    );
    expect([...seen].sort()).toEqual([
      "deny_if not a number",
      "deny_if not a string",
      "deny_if too long",
      "require not a number",
      "require not a string",
      "require too long",
    ]);
  });

  test("the generators reach every kind of decision", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(documents, tools, toolArguments, (doc, tool, args) => {
        const d = actual(doc, tool, args);
        seen.add(d.kind === "allow" ? "allow" : (d.code ?? ""));
      }),
      { numRuns: 3000, seed: 1 },
    );
    expect([...seen].sort()).toEqual(["allow", "deny_if", "hidden", "invalid_cost", "invalid_name", "no_policy", "not_permitted", "require"].sort());
  });
});

/**
 * A second evaluator, written straight from POLICY.md over the raw JSON document, checked against
 * `evaluateToolCall` on random documents and arguments. The property the issue asks for: the
 * reference never denies a call that `evaluateToolCall` allows. It is checked in its stronger form
 * too: both agree on every decision, its code and its rule.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { evaluateToolCall } from "../../../src/policy/evaluate";
import { formatPolicyErrors, parsePolicy } from "../../../src/policy/schema";
import { calledToolNames, policyInput, toolArguments } from "./arbitraries";

type Json = any; // the reference reads the raw document the way the spec's prose does

interface Decision {
  kind: "allow" | "deny";
  code?: string;
  rule?: string | null;
  costs?: number[];
}

const has = (o: unknown, k: string) => o !== null && typeof o === "object" && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, k);
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

/** "numbers compare as numbers, otherwise as strings"; objects, lists and null equal nothing. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (a === null || typeof a === "object") return false;
  return `${a as string}` === `${b as string}`;
}

function holds(c: Json, args: Json): boolean {
  const v = lookup(args, c.path);
  if (c.op === "exists") return c.value ? v !== undefined && v !== null : v === undefined || v === null;
  if (v === undefined) return false;
  const num = typeof v === "number";
  switch (c.op) {
    case "eq": return same(v, c.value);
    case "neq": return !same(v, c.value);
    case "lt": return num && (v as number) < c.value;
    case "lte": return num && (v as number) <= c.value;
    case "gt": return num && (v as number) > c.value;
    case "gte": return num && (v as number) >= c.value;
    case "in": return (c.value as unknown[]).some((x) => same(v, x));
    case "not_in": return !(c.value as unknown[]).some((x) => same(v, x));
    case "regex": return typeof v === "string" && new RegExp(c.value).test(v);
    case "contains":
      return typeof v === "string" ? v.indexOf(String(c.value)) !== -1 : Array.isArray(v) && v.some((x) => same(x, c.value));
  }
  throw new Error(`unknown op ${c.op}`);
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
  for (let i = 0; i < require.length; i++)
    if (!require[i].conditions.every((c: Json) => holds(c, args))) return { kind: "deny", code: "require", rule: `/tools/${esc(tool)}/require/${i}` };
  const denyIf: Json[] = t.deny_if ?? [];
  for (let i = 0; i < denyIf.length; i++)
    if (denyIf[i].conditions.every((c: Json) => holds(c, args))) return { kind: "deny", code: "deny_if", rule: `/tools/${esc(tool)}/deny_if/${i}` };
  const costs: number[] = [];
  const limits: [Json, string][] = [
    ...((t.limits ?? []) as Json[]).map((l, i): [Json, string] => [l, `/tools/${esc(tool)}/limits/${i}`]),
    ...((doc.all_tools?.limits ?? []) as Json[]).map((l, i): [Json, string] => [l, `/all_tools/limits/${i}`]),
  ];
  for (const [l, rule] of limits) {
    if (l.cost === undefined) { costs.push(1); continue; }
    const v = lookup(args, l.cost);
    if (typeof v !== "number" || !(v >= 0) || v === Infinity) return { kind: "deny", code: "invalid_cost", rule };
    costs.push(v);
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
  return { kind: "deny", code: e.code, rule: e.rule };
}

const documents = fc.option(policyInput, { nil: null, freq: 10 });
const tools = fc.constantFrom(...calledToolNames);

describe("evaluateToolCall against a reference evaluator written from POLICY.md", () => {
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

  test("the generators reach every kind of decision", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(documents, tools, toolArguments, (doc, tool, args) => {
        const d = actual(doc, tool, args);
        seen.add(d.kind === "allow" ? "allow" : d.code ?? "");
      }),
      { numRuns: 3000, seed: 1 },
    );
    expect([...seen].sort()).toEqual(
      ["allow", "deny_if", "hidden", "invalid_cost", "invalid_name", "no_policy", "not_permitted", "require"].sort(),
    );
  });
});

/**
 * How a policy's problems are worded: one error per problem, each at a JSON pointer into the
 * document, in words an operator can act on (docs/policy.md, "Errors when saving").
 */
import type { z } from "zod";

export interface PolicyError {
  /** JSON pointer (RFC 6901) to the offending value, e.g. `/tools/run/limits/0/window`. */
  path: string;
  message: string;
}

/** RFC 6901: "~" becomes "~0" and "/" becomes "~1", in that order. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${pointerSegment(s)}`).join("");
}

export function formatPolicyErrors(errors: PolicyError[]): string {
  // The empty pointer is the whole document.
  return errors.map((e) => `${e.path === "" ? "(document)" : e.path}: ${e.message}`).join("\n");
}

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

export function toPolicyErrors(issue: Issue): PolicyError[] {
  const at = issue.path.filter((s): s is string | number => typeof s !== "symbol");
  // One error per unknown key, pointing at the key itself, so the path names the typo.
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: pointer([...at, key]), message: unknownKeyMessage(key) }));
  }
  if (issue.code === "invalid_key") {
    const inner = issue.issues[0];
    return [{ path: pointer(at), message: inner ? inner.message : "invalid key" }];
  }
  return [{ path: pointer(at), message: issue.message }];
}

/** Messages for the cases no schema above words itself; zod's defaults read like type theory. */
export function readableIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      return `expected ${issue.expected === "object" ? "an object" : issue.expected === "array" ? "a list" : issue.expected}, got ${describe(issue.input)}`;
    case "invalid_value":
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}`;
    default:
      return undefined;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : typeof value;
}

/** Every key a policy document may hold, in the order docs/policy.md introduces them. */
export const POLICY_KEYS = [
  "$schema",
  "version",
  "default",
  "mode",
  "pin_tools",
  "hide",
  "all_tools",
  "tools",
  "require",
  "deny_if",
  "approve_if",
  "approve",
  "approval_timeout",
  "limits",
  "conditions",
  "on_deny",
  "path",
  "op",
  "value",
  "counter",
  "window",
  "max",
  "scope",
  "cost",
] as const;

function unknownKeyMessage(key: string): string {
  const near = POLICY_KEYS.find((known) => editDistance(known, key) <= 2 && known !== key);
  return near ? `unknown key "${key}" (did you mean "${near}"?)` : `unknown key "${key}"`;
}

/** Levenshtein distance, or 3 for anything further than two edits (all the suggestions need). */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * `policy diff` and `policy push`: what a file changes against the policy a gateway enforces. Pure.
 *
 * Both sides are documents as the gateway stores them (parsed by parsePolicy, so defaults such as
 * `mode: "enforce"` are filled in) and are printed the same way before the line diff: two-space
 * JSON, keys in the policy reference's order, tool names sorted. Moving a tool within the file or
 * reformatting it is therefore no change; changing a rule is. The line diff (jsdiff's Myers diff)
 * is what a reviewer reads; `changes` lists the same difference by JSON pointer, for scripts.
 */
import { structuredPatch, type StructuredPatchHunk } from "diff";
import { POLICY_KEYS } from "../policy/errors";
import { pointer, type PolicyDocument } from "../policy/schema";
import type { Palette } from "./style";

export interface PolicyChange {
  op: "add" | "remove" | "replace";
  /** JSON pointer (RFC 6901) into the document. */
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface PolicyDiff {
  changed: boolean;
  changes: PolicyChange[];
  hunks: StructuredPatchHunk[];
}

/** Keys in the order docs/policy.md introduces them; anything else (tool names) sorted after. */
const KEY_ORDER: readonly string[] = POLICY_KEYS;

function ordered(value: unknown, inTools = false): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item));
  if (typeof value !== "object" || value === null) return value;
  const rank = (key: string) => (inTools ? -1 : KEY_ORDER.indexOf(key));
  const keys = Object.keys(value).sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    if (ra !== rb) return ra < 0 ? 1 : rb < 0 ? -1 : ra - rb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  // Null prototype: a key named "__proto__" stays an ordinary key (the schema refuses such a tool,
  // but printing should not depend on that).
  const out: Record<string, unknown> = Object.create(null);
  for (const key of keys) out[key] = ordered((value as Record<string, unknown>)[key], !inTools && key === "tools");
  return out;
}

/** The document as both sides of a diff show it, and as `policy pull` writes it. */
export const policyText = (document: PolicyDocument | unknown): string => `${JSON.stringify(ordered(document), null, 2)}\n`;

export function diffPolicies(live: unknown | null, local: PolicyDocument): PolicyDiff {
  const changes = live === null ? [{ op: "add" as const, path: "", to: local }] : structuralChanges(live, local, []);
  const patch = structuredPatch("live", "file", live === null ? "" : policyText(live), policyText(local), undefined, undefined, { context: 3 });
  return { changed: changes.length > 0, changes, hunks: patch.hunks };
}

function structuralChanges(from: unknown, to: unknown, at: (string | number)[]): PolicyChange[] {
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.flatMap((key) => {
      if (!Object.hasOwn(to, key)) return [{ op: "remove" as const, path: pointer([...at, key]), from: from[key] }];
      if (!Object.hasOwn(from, key)) return [{ op: "add" as const, path: pointer([...at, key]), to: to[key] }];
      return structuralChanges(from[key], to[key], [...at, key]);
    });
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const changes: PolicyChange[] = [];
    for (let i = 0; i < Math.max(from.length, to.length); i++) {
      if (i >= to.length) changes.push({ op: "remove", path: pointer([...at, i]), from: from[i] });
      else if (i >= from.length) changes.push({ op: "add", path: pointer([...at, i]), to: to[i] });
      else changes.push(...structuralChanges(from[i], to[i], [...at, i]));
    }
    return changes;
  }
  return Object.is(from, to) ? [] : [{ op: "replace", path: pointer(at), from, to }];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A unified diff, git style, coloured when the palette is. */
export function renderPatch(diff: PolicyDiff, labels: { from: string; to: string }, colours: Palette): string {
  const lines = [colours.bold(`--- ${labels.from}`), colours.bold(`+++ ${labels.to}`)];
  for (const hunk of diff.hunks) {
    // As diff(1) and git write it: an empty range starts at the line before it (0 for a new file).
    const range = (start: number, count: number) => `${count === 0 ? start - 1 : start},${count}`;
    lines.push(colours.cyan(`@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`));
    for (const line of hunk.lines) {
      if (line.startsWith("+")) lines.push(colours.green(line));
      else if (line.startsWith("-")) lines.push(colours.red(line));
      else if (!line.startsWith("\\")) lines.push(line);
    }
  }
  return `${lines.join("\n")}\n`;
}

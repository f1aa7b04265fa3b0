import { describe, expect, it } from "vitest";
import { parsePolicy, type PolicyDocument } from "../../../src/policy/schema";
import { diffPolicies, policyText, renderPatch } from "../../../src/cli/policy-diff";
import { palette } from "../../../src/cli/style";

const policy = (document: unknown): PolicyDocument => {
  const parsed = parsePolicy(document);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
};

describe("diffPolicies", () => {
  const live = policy({ version: "1", default: "deny", tools: { b: {}, "fs/rm": { limits: [{ counter: "c", window: "minute", max: 5 }] } } });

  it("sees no change in a reordered, reformatted document", () => {
    const same = policy({ tools: { "fs/rm": { limits: [{ max: 5, window: "minute", counter: "c" }] }, b: {} }, default: "deny", version: "1" });
    expect(diffPolicies(live, same)).toEqual({ changed: false, changes: [], hunks: [] });
  });

  it("lists changes by JSON pointer and renders a unified diff", () => {
    const next = policy({ version: "1", default: "allow", tools: { "fs/rm": { limits: [{ counter: "c", window: "minute", max: 9 }] }, a: {} } });
    const diff = diffPolicies(live, next);
    expect(diff.changes).toEqual([
      { op: "replace", path: "/default", from: "deny", to: "allow" },
      { op: "add", path: "/tools/a", to: {} },
      { op: "remove", path: "/tools/b", from: {} },
      { op: "replace", path: "/tools/fs~1rm/limits/0/max", from: 5, to: 9 },
    ]);
    const patch = renderPatch(diff, { from: "live", to: "file" }, palette(false));
    expect(patch).toMatch(/^--- live\n\+\+\+ file\n@@ -1,\d+ \+1,\d+ @@\n/);
    expect(patch).toContain('-  "default": "deny",\n+  "default": "allow",');
    expect(renderPatch(diff, { from: "live", to: "file" }, palette(true))).toContain('\u001b[32m+  "default": "allow",\u001b[39m');
  });

  it("treats a policy that does not exist yet as all new", () => {
    const diff = diffPolicies(null, live);
    expect(diff.changes).toEqual([{ op: "add", path: "", to: live }]);
    expect(renderPatch(diff, { from: "/dev/null", to: "file" }, palette(false))).toContain("@@ -0,0 +1,");
  });
});

describe("policyText", () => {
  it("prints keys in the reference's order and tools sorted", () => {
    const text = policyText(policy({ tools: { z: {}, a: { deny_if: [{ on_deny: "no", conditions: [] }] } }, default: "deny", version: "1", $schema: "s" }));
    expect(Object.keys(JSON.parse(text))).toEqual(["$schema", "version", "default", "mode", "tools"]);
    expect(Object.keys(JSON.parse(text).tools)).toEqual(["a", "z"]);
    expect(text).toMatch(/"conditions": \[\],\n\s+"on_deny": "no"/);
  });
});

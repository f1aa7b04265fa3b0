import { describe, expect, test } from "vitest";
import { CATEGORIES } from "../../../src/catalogue/classify";
import { explanationsOf, recommendedPolicy, recommendForTool } from "../../../src/catalogue/recommend";
import { formatPolicyErrors, parsePolicy } from "../../../src/policy/schema";
import { evaluateToolCall } from "../../../src/policy/evaluate";

const mustParse = (document: unknown) => {
  const parsed = parsePolicy(document);
  if (!parsed.ok) throw new Error(formatPolicyErrors(parsed.error));
  return parsed.value;
};

describe("one tool's recommended policy", () => {
  test("an execute tool `run` gets exactly the documented policy, keys in order", () => {
    const policy = recommendedPolicy([recommendForTool("run", "execute")]);
    expect(JSON.stringify(policy)).toBe(
      '{"version":"1","default":"deny","tools":{"run":{"limits":[{"counter":"run_rate","window":"minute","max":10,"scope":"grant"}]}}}',
    );
    mustParse(policy);
  });

  test.each([
    ["read", 60],
    ["write", 30],
    ["execute", 10],
  ] as const)("a %s tool is allowed at %i a minute per grant", (category, max) => {
    const recommendation = recommendForTool("tool_x", category);
    expect(recommendation.rules).toEqual({ limits: [{ counter: "tool_x_rate", window: "minute", max, scope: "grant" }] });
    expect(recommendation.explanation).toMatch(new RegExp(`^tool_x stays usable.* at ${max} calls a minute per grant: .+\\.$`));
  });

  test.each(["destructive", "financial"] as const)("a %s tool is left out, so default deny refuses it", (category) => {
    const recommendation = recommendForTool("delete_repo", category);
    expect(recommendation.rules).toBeNull();
    const policy = mustParse(recommendedPolicy([recommendation]));
    expect(policy.tools).toEqual({});
    expect(recommendation.explanation).toMatch(/^delete_repo is denied: .+ default "deny" refuses it; list it yourself to allow it\.$/);
  });

  test("the execute explanation says why in one sentence", () => {
    expect(recommendForTool("run", "execute").explanation).toBe(
      "run stays usable but rate-capped at 10 calls a minute per grant: a runaway agent cannot fire it dozens of times a minute.",
    );
  });

  test("a name outside MCP's tool-name characters, or __proto__, is never listed", () => {
    for (const name of ["bad name", "x/y", "__proto__", "ü", "a".repeat(129)]) {
      const recommendation = recommendForTool(name, "read");
      expect(recommendation.rules).toBeNull();
      expect(recommendation.explanation).toMatch(/is denied/);
      mustParse(recommendedPolicy([recommendation]));
    }
  });
});

describe("a server's recommended policy", () => {
  const recommendations = [
    recommendForTool("list_customers", "read"),
    recommendForTool("create_note", "write"),
    recommendForTool("run", "execute"),
    recommendForTool("delete_account", "destructive"),
    recommendForTool("create_refund", "financial"),
  ];

  test("default deny plus every allowed tool; validates; explanations for every tool", () => {
    const policy = recommendedPolicy(recommendations);
    expect(Object.keys(policy)).toEqual(["version", "default", "tools"]);
    expect(Object.keys(policy.tools)).toEqual(["list_customers", "create_note", "run"]);
    mustParse(policy);
    expect(Object.keys(explanationsOf(recommendations))).toEqual(recommendations.map((r) => r.tool));
  });

  test("it means what it says: evaluated, the allowed tools pass and the others are denied", () => {
    const policy = mustParse(recommendedPolicy(recommendations));
    for (const r of recommendations) {
      const decision = evaluateToolCall(policy, r.tool, {});
      expect(decision.kind, r.tool).toBe(r.rules === null ? "deny" : "allow");
    }
  });

  test("every category has a rule", () => {
    for (const category of CATEGORIES) expect(recommendForTool("t", category).explanation.length).toBeGreaterThan(10);
  });
});

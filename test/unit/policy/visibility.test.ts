import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { DenyCode } from "../../../src/policy/decision";
import { evaluateToolCall, hiddenAt } from "../../../src/policy/evaluate";
import { formatPolicyErrors, parsePolicy, type PolicyDocument } from "../../../src/policy/schema";
import { isToolVisible, toolVisibility } from "../../../src/policy/visibility";
import { calledToolNames, policyInput, toolArguments } from "./arbitraries";
import { EXAMPLE_POLICY } from "./example";

function policyOf(input: unknown): PolicyDocument {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(formatPolicyErrors(parsed.error));
  return parsed.value;
}

describe("toolVisibility", () => {
  test("reduces a policy to its default, hide list and listed names", () => {
    expect(toolVisibility(policyOf(EXAMPLE_POLICY))).toEqual({
      default: "deny",
      hide: ["delete_account"],
      listed: ["list_customers", "create_refund"],
    });
  });

  test("no policy: nothing is visible", () => {
    const v = toolVisibility(null);
    expect(["read", "list_customers", "*", ""].filter((name) => isToolVisible(v, name))).toEqual([]);
  });

  test("the result does not share arrays with the frozen policy", () => {
    const v = toolVisibility(policyOf(EXAMPLE_POLICY));
    v.hide.push("x");
    expect(v.hide).toEqual(["delete_account", "x"]);
  });
});

describe("isToolVisible", () => {
  const example = toolVisibility(policyOf(EXAMPLE_POLICY));
  const allow = toolVisibility(policyOf({ version: "1", default: "allow", hide: ["secret"], tools: { ünïcode: {} } }));
  const hideAll = toolVisibility(policyOf({ version: "1", default: "allow", hide: ["*"], tools: { read: {} } }));

  test.each<[string, ReturnType<typeof toolVisibility>, string, boolean]>([
    ["listed under default deny", example, "create_refund", true],
    ["unlisted under default deny", example, "drop_database", false],
    ["hidden", example, "delete_account", false],
    ["inherited name is not listed", example, "constructor", false],
    ["unlisted under default allow", allow, "read", true],
    ["hidden under default allow", allow, "secret", false],
    ["bidi name under default allow", allow, "\u202Eterces", false],
    ["confusable name under default allow", allow, "s\u0435cret", false],
    ["listed non-charset name", allow, "ünïcode", true],
    ["hide * hides listed tools", hideAll, "read", false],
  ])("%s", (_d, v, name, visible) => {
    expect(isToolVisible(v, name)).toBe(visible);
  });
});

describe("isToolVisible agrees with evaluateToolCall on steps 1-3", () => {
  const refusedOutright: DenyCode[] = ["no_policy", "hidden", "invalid_name", "not_permitted"];

  test("visible exactly when evaluation does not refuse the tool outright, for any arguments", () => {
    fc.assert(
      fc.property(fc.option(policyInput, { nil: null, freq: 10 }), fc.constantFrom(...calledToolNames), toolArguments, (input, name, args) => {
        const policy = input === null ? null : policyOf(input);
        const e = evaluateToolCall(policy, name, args);
        // A hidden tool under default allow is evaluated as a missing one (all_tools may still refuse it).
        const hidden = policy !== null && hiddenAt(policy.hide, name) >= 0;
        const refused = hidden || e.kind === "conceal" || (e.kind === "deny" && refusedOutright.includes(e.code));
        expect(isToolVisible(toolVisibility(policy), name)).toBe(!refused);
      }),
      { numRuns: 3000 },
    );
  });
});

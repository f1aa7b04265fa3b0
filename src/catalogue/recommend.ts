/**
 * Recommended policies: for each tool's category, the rule an operator can start from, as a
 * policy document (docs/policy.md) that `parsePolicy` accepts and the admin API saves unchanged.
 *
 * | category    | recommendation                                              |
 * |-------------|-------------------------------------------------------------|
 * | read        | allowed, at most 60 calls a minute per grant                |
 * | write       | allowed, at most 30 calls a minute per grant                |
 * | execute     | allowed, at most 10 calls a minute per grant                |
 * | destructive | not listed, so denied under `default: "deny"`               |
 * | financial   | not listed, so denied under `default: "deny"`               |
 *
 * Each category maps to a `RecommendedRule`; `toolRules` turns one into the policy's rule object.
 * Destructive and financial stay denied rather than held for approval: a hold needs someone
 * watching the inbox, so the operator adds `approve_if` where they want it (docs/catalogue.md).
 */
import type { Category } from "./classify";
import { isSpecToolName } from "./definition";

export type RecommendedRule = { kind: "rate_limit"; perMinute: number } | { kind: "deny" };

export const RECOMMENDED_RULES: Readonly<Record<Category, RecommendedRule>> = {
  read: { kind: "rate_limit", perMinute: 60 },
  write: { kind: "rate_limit", perMinute: 30 },
  execute: { kind: "rate_limit", perMinute: 10 },
  destructive: { kind: "deny" },
  financial: { kind: "deny" },
};

/** A limit exactly as the recommendation writes it; key order is the documented one. */
export interface RecommendedLimit {
  counter: string;
  window: "minute";
  max: number;
  scope: "grant";
}

export interface RecommendedToolRules {
  limits: RecommendedLimit[];
}

/** The recommended policy document: `version`, `default`, `tools`, in that order. */
export interface RecommendedPolicy {
  version: "1";
  default: "deny";
  tools: Record<string, RecommendedToolRules>;
}

export interface ToolRecommendation {
  tool: string;
  category: Category;
  /** The tool's rules in the policy, or null when it is left out (denied by default). */
  rules: RecommendedToolRules | null;
  /** One sentence: why. */
  explanation: string;
}

/** Why a name can never be listed in a policy, or null when it can. */
function unlistableName(tool: string): string | null {
  if (!isSpecToolName(tool)) return "its name is not a valid MCP tool name (A-Z, a-z, 0-9, _, - and ., at most 128), so no policy names it";
  // The policy schema refuses this key (a JavaScript object cannot hold it as a plain member).
  if (tool === "__proto__") return 'a policy cannot name a tool "__proto__"';
  return null;
}

export function recommendForTool(tool: string, category: Category): ToolRecommendation {
  const unlistable = unlistableName(tool);
  if (unlistable !== null) return { tool, category, rules: null, explanation: `${tool} is denied: ${unlistable}.` };
  const rule = RECOMMENDED_RULES[category];
  return { tool, category, rules: toolRules(tool, rule), explanation: explain(tool, category, rule) };
}

function toolRules(tool: string, rule: RecommendedRule): RecommendedToolRules | null {
  switch (rule.kind) {
    case "rate_limit":
      return { limits: [{ counter: `${tool}_rate`, window: "minute", max: rule.perMinute, scope: "grant" }] };
    case "deny":
      return null;
  }
}

const WHY_CAPPED: Readonly<Record<Category, string>> = {
  read: "it only reads, and the cap keeps a runaway agent from scraping without bound",
  write: "it changes data, so a runaway agent's changes stay few enough to review and undo",
  execute: "a runaway agent cannot fire it dozens of times a minute",
  destructive: "it destroys data that may not be recoverable",
  financial: "it moves money",
};

function explain(tool: string, category: Category, rule: RecommendedRule): string {
  switch (rule.kind) {
    case "rate_limit": {
      const stays = category === "execute" ? "stays usable but rate-capped" : "stays usable";
      return `${tool} ${stays} at ${rule.perMinute} calls a minute per grant: ${WHY_CAPPED[category]}.`;
    }
    case "deny":
      return `${tool} is denied: ${WHY_CAPPED[category]}, so it is left out of the policy and default "deny" refuses it; list it yourself to allow it.`;
  }
}

/** The policy of a set of recommendations: default "deny" plus the rules of every allowed tool. */
export function recommendedPolicy(recommendations: readonly ToolRecommendation[]): RecommendedPolicy {
  // Object.fromEntries defines own properties, so no tool name can reach a prototype.
  const tools = Object.fromEntries(recommendations.flatMap((r): [string, RecommendedToolRules][] => (r.rules === null ? [] : [[r.tool, r.rules]])));
  return { version: "1", default: "deny", tools };
}

/** `{ tool: sentence }` for every recommendation, in order. */
export function explanationsOf(recommendations: readonly ToolRecommendation[]): Record<string, string> {
  return Object.fromEntries(recommendations.map((r) => [r.tool, r.explanation]));
}

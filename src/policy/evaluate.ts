/**
 * The decision for one tools/call, in the order of docs/policy.md; the first denial wins:
 *   1 no policy · 2 hidden · 2b name outside the MCP charset · 3 not permitted by default deny ·
 *   4 require · 5 deny_if · 6 the limits to reserve (counted by the grant's Durable Object) ·
 *   7 approve / approve_if: whether a person must approve the call first. Approval comes last, so
 *   nobody is asked about a call that would be denied anyway.
 *
 * Tool names match byte for byte: no Unicode normalization, no case folding, so a Cyrillic "е"
 * in "dеlete" is a different tool from "delete" and gets none of its rules. Names outside the
 * spec's charset are refused unless a policy lists them exactly, which closes that gap for
 * `default: "allow"` policies.
 *
 * Monitor mode is not applied here: this always reports the real decision, and the Durable
 * Object decides whether to enforce it.
 */
import { argumentAt, checkRule, readNumber } from "./conditions";
import type { DenyCode } from "./decision";
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS, durationSeconds } from "./duration";
import { pointer, type Limit, type PolicyDocument, type ToolRules } from "./schema";
import { windowSeconds } from "./windows";

export interface LimitRequest {
  /** JSON pointer of the limit, e.g. /tools/create_refund/limits/0 or /all_tools/limits/0. */
  rule: string;
  /** Limits naming the same counter share one count. */
  counter: string;
  windowSeconds: number;
  max: number;
  /** What this call adds to the counter: 1, or the argument named by `cost`. */
  cost: number;
  /** "grant": counted by the grant's Durable Object; "server": by the server's, for all its grants. */
  scope: "grant" | "server";
}

/** Why a call needs a person's approval, and for how long its request stays open. */
export interface ApprovalNeed {
  /** JSON pointer of the rule: /tools/<name>/approve or /tools/<name>/approve_if/<i>. */
  rule: string;
  /** The rule's on_deny: what the agent is told if the approver rejects without a reason. */
  message: string;
  timeoutSeconds: number;
}

export type Evaluation =
  | { kind: "allow"; limits: LimitRequest[] }
  /** Allowed once a person approves it; `limits` are reserved only when it is finally forwarded. */
  | { kind: "approve"; limits: LimitRequest[]; approval: ApprovalNeed }
  /**
   * A hidden tool under `default: "allow"`: answered exactly as a tool that does not exist, which
   * under that default reaches the upstream and counts against `all_tools`. `asMissing` is how a
   * missing tool's call would be evaluated; `rule` is the `hide` entry. The hidden tool never runs.
   */
  | { kind: "conceal"; rule: string; asMissing: Extract<Evaluation, { kind: "allow" | "deny" }> }
  | { kind: "deny"; code: DenyCode; rule: string | null; message: string };

/** MCP 2025-11-25 tool names: `[A-Za-z0-9_.-]{1,128}`. */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** `tools[name]`, own properties only: "constructor" or "toString" are not listed by accident. */
export function listedTool(policy: PolicyDocument, tool: string) {
  const tools = policy.tools;
  return tools !== undefined && Object.hasOwn(tools, tool) ? tools[tool] : undefined;
}

/** The index in `hide` that hides `tool` ("*" or the exact name), or -1. */
export function hiddenAt(hide: readonly string[] | undefined, tool: string): number {
  return hide === undefined ? -1 : hide.findIndex((entry) => entry === "*" || entry === tool);
}

export function evaluateToolCall(policy: PolicyDocument | null, tool: string, args: Record<string, unknown>): Evaluation {
  if (policy === null) {
    return { kind: "deny", code: "no_policy", rule: null, message: "No policy is attached to this grant" };
  }

  // Hidden and badly named tools get the upstream's answer for a tool that does not exist, so the
  // message is that answer's; the code keeps the real reason for the audit record.
  const notFound = `Tool ${tool} not found`;
  const hidden = hiddenAt(policy.hide, tool);
  if (hidden >= 0) {
    const rule = pointer(["hide", hidden]);
    // A name outside the charset is refused like any unlisted odd name (below), hidden or not.
    if (policy.default !== "allow" || !TOOL_NAME.test(tool)) return { kind: "deny", code: "hidden", rule, message: notFound };
    const limits = limitRequests(policy.all_tools?.limits ?? [], (i) => pointer(["all_tools", "limits", i]), args);
    return { kind: "conceal", rule, asMissing: "code" in limits ? limits : { kind: "allow", limits } };
  }

  const rules = listedTool(policy, tool);
  if (!TOOL_NAME.test(tool) && rules === undefined) {
    return { kind: "deny", code: "invalid_name", rule: null, message: notFound };
  }

  if (rules === undefined && policy.default === "deny") {
    return {
      kind: "deny",
      code: "not_permitted",
      rule: "/default",
      message: notPermittedMessage(tool),
    };
  }

  // An unsettled rule (an argument present but unreadable as the rule needs it) denies under
  // either list, with a message naming the path: the rule's on_deny would tell the agent the
  // wrong thing ("Refund exceeds the policy limit" for an amount that is not a number).
  for (const [i, rule] of (rules?.require ?? []).entries()) {
    const result = checkRule(rule.conditions, args);
    if (result.kind !== "holds") {
      const message = result.kind === "unsettled" ? result.message : rule.on_deny;
      return { kind: "deny", code: "require", rule: pointer(["tools", tool, "require", i]), message };
    }
  }
  for (const [i, rule] of (rules?.deny_if ?? []).entries()) {
    const result = checkRule(rule.conditions, args);
    if (result.kind !== "fails") {
      const message = result.kind === "unsettled" ? result.message : rule.on_deny;
      return { kind: "deny", code: "deny_if", rule: pointer(["tools", tool, "deny_if", i]), message };
    }
  }

  const own = limitRequests(rules?.limits ?? [], (i) => pointer(["tools", tool, "limits", i]), args);
  if ("code" in own) return own;
  const shared = limitRequests(policy.all_tools?.limits ?? [], (i) => pointer(["all_tools", "limits", i]), args);
  if ("code" in shared) return shared;
  const approval = rules === undefined ? null : approvalNeed(rules, tool, args);
  return approval === null ? { kind: "allow", limits: [...own, ...shared] } : { kind: "approve", limits: [...own, ...shared], approval };
}

/**
 * Whether a person must approve the call: `approve: true`, or the first `approve_if` rule that holds.
 * An unsettled rule (an argument it cannot read) needs approval too, with a message naming the
 * path: a person looking at the value decides, rather than the gateway guessing.
 */
function approvalNeed(rules: ToolRules, tool: string, args: Record<string, unknown>): ApprovalNeed | null {
  if (rules.approve === true) {
    return {
      rule: pointer(["tools", tool, "approve"]),
      message: `A person rejected this call of ${JSON.stringify(tool)}`,
      timeoutSeconds: approvalTimeout(rules),
    };
  }
  for (const [i, rule] of (rules.approve_if ?? []).entries()) {
    const result = checkRule(rule.conditions, args);
    if (result.kind === "fails") continue;
    const message = result.kind === "unsettled" ? result.message : rule.on_deny;
    return { rule: pointer(["tools", tool, "approve_if", i]), message, timeoutSeconds: approvalTimeout(rules) };
  }
  return null;
}

/** How long a held call waits for a person; read only once a call needs approval (most calls do not). */
const approvalTimeout = (rules: ToolRules): number =>
  (rules.approval_timeout === undefined ? null : durationSeconds(rules.approval_timeout)) ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;

/**
 * The JSON pointer of each limit, built once per limit object (policies are frozen, so a limit
 * object stays at one place in one document).
 */
const limitPointers = new WeakMap<Limit, string>();

function limitPointer(limit: Limit, pointerOf: (i: number) => string, i: number): string {
  let rule = limitPointers.get(limit);
  if (rule === undefined) {
    rule = pointerOf(i);
    limitPointers.set(limit, rule);
  }
  return rule;
}

/** The limits a call must fit, with what it costs on each; an invalid cost denies the call. */
function limitRequests(
  list: readonly Limit[],
  pointerOf: (i: number) => string,
  args: Record<string, unknown>,
): LimitRequest[] | Extract<Evaluation, { kind: "deny" }> {
  const limits: LimitRequest[] = [];
  for (const [i, limit] of list.entries()) {
    const rule = limitPointer(limit, pointerOf, i);
    // A cost is read as a number the way conditions read one: a coercing upstream charges 5
    // for "5", so the counter must too.
    const cost = limit.cost === undefined ? 1 : readNumber(argumentAt(limit.cost, args));
    if (cost === null || cost < 0) {
      // Never echo the value: argument values stay out of messages and audit records.
      return {
        kind: "deny",
        code: "invalid_cost",
        rule,
        message: `This call must give ${limit.cost} as a number of at least 0 (it is counted against "${limit.counter}")`,
      };
    }
    limits.push({ rule, counter: limit.counter, windowSeconds: windowSeconds(limit.window), max: limit.max, cost, scope: limit.scope ?? "grant" });
  }
  return limits;
}

/** docs/policy.md step 3's message; also what a hidden tool gets under `default: "deny"`, so the two look alike. */
export function notPermittedMessage(tool: string): string {
  return `Tool ${JSON.stringify(tool)} is not permitted by policy`;
}

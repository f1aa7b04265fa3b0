/**
 * The pure part of `GrantObject.gate()`: token comparison, and the decision for one JSON-RPC
 * message (evaluate the policy, reserve quota, apply monitor mode) together with the audit fields
 * that describe it. The Durable Object supplies the counters' current events, the tasks it holds
 * and the time, then writes what this returns.
 */
import { constantTimeEqual } from "../digest";
import type { Denial, DenyCode } from "../policy/decision";
import { evaluateToolCall, type Evaluation, type LimitRequest } from "../policy/evaluate";
import type { PolicyDocument } from "../policy/schema";
import { windowSeconds } from "../policy/windows";
import { decideApproval, type ApprovalChange, type ApprovalContext, type ApprovalRef } from "./approvals";
import { reserve, type CountedEvent, type CounterTake } from "./counters";
import type { MessageDecision, MessageSummary } from "./protocol";
import { argKeysOf, boundedId, boundedText } from "./records";

/** Compares SHA-256 hex digests in constant time, so timing does not reveal how much of a guess was right. */
export const tokenHashMatches = (presented: string, stored: string): boolean => constantTimeEqual(presented, stored);

/** The audit fields that describe one message's decision (the shell adds seq, time, grant, chain). */
export interface DecisionFields {
  rpcMethod: string | null;
  rpcId: string | number | null;
  tool: string | null;
  argKeys: string[] | null;
  /** "allow", "deny", or "monitor_deny" (forwarded by a policy in monitor mode that would deny it). */
  decision: "allow" | "deny" | "monitor_deny";
  code: DenyCode | null;
  rule: string | null;
  message: string | null;
  /** The approval request a call needs, or the approved one it consumed. */
  approval?: ApprovalRef;
}

export interface MessagePlan {
  decision: MessageDecision;
  audit: DecisionFields;
  /** What to add to the counters; non-empty only for a forwarded tools/call with limits. */
  take: CounterTake[];
  /** Approval requests this message opens, consumes or finds expired (docs/approvals.md). */
  approvals?: ApprovalChange[];
}

/** The approval requests of this grant, as a call that needs approval reads them. */
export type ApprovalLookup = Omit<ApprovalContext, "eventsFor" | "now"> & { requestId: string };

/** What a decision reads besides the policy and the message. */
export interface DecisionContext {
  eventsFor: (counter: string) => readonly CountedEvent[];
  /** Tools of the server whose definition changed since it was approved (tool pinning). */
  quarantined: ReadonlySet<string>;
  /** Whether a task id was created through this grant. */
  taskBound: (taskId: string) => boolean;
  now: number;
  approvals: ApprovalLookup;
}

type Forward = Extract<MessageDecision, { outcome: "forward" }>;
const FORWARD: Forward = { outcome: "forward", monitored: null };
/** Methods whose `params.taskId` must name a task of this grant (MCP 2025-11-25 "Tasks"). */
export const TASK_METHODS: ReadonlySet<string> = new Set(["tasks/get", "tasks/result", "tasks/cancel"]);

/**
 * Decides one message. Only tools/call is evaluated against the policy; task requests are checked
 * against the grant's own tasks; every other request, notification and response passes through
 * (the gateway filters tools/list itself using the grant's visibility).
 */
export function decideMessage(policy: PolicyDocument | null, message: MessageSummary, context: DecisionContext): MessagePlan {
  switch (message.kind) {
    case "invalid":
      // The gateway has already answered this message; it is recorded, never forwarded, and
      // monitor mode does not apply because no policy was consulted.
      return {
        decision: { outcome: "deny", code: "invalid_message", rule: null, message: message.reason },
        audit: fields(null, null, null, null, { code: "invalid_message", rule: null, message: message.reason }, "deny"),
        take: [],
      };
    case "notification":
      return { decision: FORWARD, audit: fields(message.method, null, null, null, null, "allow"), take: [] };
    case "response":
      return { decision: FORWARD, audit: fields(null, message.id, null, null, null, "allow"), take: [] };
    case "request":
      if (message.method === "tools/call") return decideToolCall(policy, message, context);
      if (message.taskId !== undefined && TASK_METHODS.has(message.method) && !context.taskBound(message.taskId)) {
        // Another grant's task (or none at all) on a shared upstream: answered as a task that does not exist.
        const audit = fields(message.method, message.id, null, null, FOREIGN_TASK, "deny");
        return { decision: { outcome: "forward", monitored: null, conceal: "task" }, audit, take: [] };
      }
      return { decision: FORWARD, audit: fields(message.method, message.id, null, null, null, "allow"), take: [] };
  }
}

const FOREIGN_TASK: Denial = {
  code: "unknown_task",
  rule: null,
  message: "The task was not created through this grant; it was answered as a task that does not exist",
};

function decideToolCall(policy: PolicyDocument | null, message: Extract<MessageSummary, { kind: "request" }>, context: DecisionContext): MessagePlan {
  const tool = message.tool ?? "";
  const args = message.args ?? {};
  const argKeys = argKeysOf(args);
  const describe = (denial: Denial | null, decision: DecisionFields["decision"]) =>
    fields("tools/call", message.id, message.tool ?? null, argKeys, denial, decision);

  const evaluation = evaluateToolCall(policy, tool, args);
  const monitor = policy?.mode === "monitor";
  if (evaluation.kind === "conceal" && !monitor) return concealed(evaluation, describe, context);
  let denial: Denial;
  if (evaluation.kind === "deny") {
    denial = { code: evaluation.code, rule: evaluation.rule, message: evaluation.message };
  } else if (evaluation.kind === "conceal") {
    denial = { code: "hidden", rule: evaluation.rule, message: `Tool ${tool} not found` };
  } else if (policy?.pin_tools === true && context.quarantined.has(tool)) {
    denial = { code: "tool_changed", rule: "/pin_tools", message: `Tool ${JSON.stringify(tool)} changed since it was approved; an operator must review it` };
  } else if (evaluation.kind === "approve" && !monitor) {
    return approvalPlan(evaluation, tool, args, argKeys, context, describe);
  } else if (evaluation.kind === "approve") {
    // Monitor mode: nobody is asked and nothing waits; the record says a person would have been.
    denial = { code: "approval_required", rule: evaluation.approval.rule, message: `Would need a person's approval: ${evaluation.approval.message}` };
  } else {
    const reservation = reserve(grantScoped(evaluation.limits), context.eventsFor, context.now);
    if (reservation.ok) return { decision: forwardWith(evaluation.limits, monitor), audit: describe(null, "allow"), take: reservation.take };
    denial = { code: "rate_limited", rule: reservation.rule, message: reservation.message };
    if (reservation.retryAfter !== null) denial.retryAfter = reservation.retryAfter;
  }

  if (monitor) {
    // Monitor mode: decide and record everything, block nothing. A call over a limit is
    // forwarded without being counted, so the counters keep showing what enforcement would allow.
    return { decision: { outcome: "forward", monitored: denial }, audit: describe(denial, "monitor_deny"), take: [] };
  }
  return { decision: { outcome: "deny", ...denial }, audit: describe(denial, "deny"), take: [] };
}

/** The limits this grant's object counts; `scope: "server"` ones are the server's (docs/policy.md). */
const grantScoped = (limits: readonly LimitRequest[]): LimitRequest[] => limits.filter((limit) => limit.scope === "grant");

/**
 * Forward, and have the server's Durable Object count the server-wide limits first. Monitor mode
 * blocks nothing and leaves server-wide counters alone.
 */
function forwardWith(limits: readonly LimitRequest[], monitor: boolean): Forward {
  const server = monitor ? [] : limits.filter((limit) => limit.scope === "server" && limit.cost > 0);
  return server.length === 0 ? FORWARD : { outcome: "forward", monitored: null, server };
}

/** A call that needs approval: consume an approved request and forward, or answer why not (src/grant/approvals.ts). */
function approvalPlan(
  evaluation: Extract<Evaluation, { kind: "approve" }>,
  tool: string,
  args: Record<string, unknown>,
  argKeys: string[],
  context: DecisionContext,
  describe: (denial: Denial | null, decision: DecisionFields["decision"]) => DecisionFields,
): MessagePlan {
  const { requestId, ...lookup } = context.approvals;
  const call = { tool, args, argKeys, requestId };
  const decided = decideApproval(evaluation.approval, grantScoped(evaluation.limits), call, { ...lookup, eventsFor: context.eventsFor, now: context.now });
  if (decided.kind === "forward") {
    return {
      decision: forwardWith(evaluation.limits, false),
      audit: { ...describe(null, "allow"), approval: decided.approval },
      take: decided.take,
      approvals: decided.changes,
    };
  }
  const audit = describe(decided.denial, "deny");
  if (decided.approval !== null) audit.approval = decided.approval;
  return { decision: { outcome: "deny", ...decided.denial }, audit, take: [], approvals: decided.changes };
}

const CONCEALED = "Hidden tool: the upstream was asked for a tool that does not exist in its place, and its answer relayed";

/**
 * A hidden tool under default allow gets exactly what a missing tool would: a stand-in forwarded
 * and counted against all_tools, or the same refusal. The record keeps the real reason.
 */
function concealed(
  evaluation: Extract<Evaluation, { kind: "conceal" }>,
  describe: (denial: Denial | null, decision: DecisionFields["decision"]) => DecisionFields,
  context: DecisionContext,
): MessagePlan {
  const hidden = (message: string) => describe({ code: "hidden", rule: evaluation.rule, message }, "deny");
  const missing = evaluation.asMissing;
  if (missing.kind === "deny") {
    const denial = { code: missing.code, rule: missing.rule, message: missing.message };
    return { decision: { outcome: "deny", ...denial }, audit: hidden(`Hidden tool, refused as a missing tool would be: ${missing.message}`), take: [] };
  }
  const reservation = reserve(grantScoped(missing.limits), context.eventsFor, context.now);
  if (reservation.ok) return { decision: { ...forwardWith(missing.limits, false), conceal: "tool" }, audit: hidden(CONCEALED), take: reservation.take };
  const denial: Denial = { code: "rate_limited", rule: reservation.rule, message: reservation.message };
  if (reservation.retryAfter !== null) denial.retryAfter = reservation.retryAfter;
  return { decision: { outcome: "deny", ...denial }, audit: hidden(`Hidden tool, refused as a missing tool would be: ${reservation.message}`), take: [] };
}

function fields(
  rpcMethod: string | null,
  rpcId: string | number | null,
  tool: string | null,
  argKeys: string[] | null,
  denial: Denial | null,
  decision: DecisionFields["decision"],
): DecisionFields {
  return {
    rpcMethod: rpcMethod === null ? null : boundedText(rpcMethod),
    rpcId: boundedId(rpcId),
    tool: tool === null ? null : boundedText(tool),
    argKeys,
    decision,
    code: denial?.code ?? null,
    rule: denial?.rule ?? null,
    message: denial?.message ?? null,
  };
}

/** The longest window any limit of the policy counts over, in seconds: older counted events can be forgotten. */
export function retentionSeconds(policy: PolicyDocument): number {
  const limits = [...(policy.all_tools?.limits ?? []), ...Object.values(policy.tools ?? {}).flatMap((rules) => rules.limits ?? [])];
  let longest = 0;
  for (const { window } of limits) longest = Math.max(longest, windowSeconds(window));
  return longest;
}

/** Whether the gateway needs the grant's tool visibility to answer this request. */
export function needsVisibility(policy: PolicyDocument | null, messages: readonly MessageSummary[], decisions: readonly MessageDecision[]): boolean {
  return (
    policy === null ||
    messages.some((m) => m.kind === "request" && m.method === "tools/list") ||
    // A hidden tool is answered as a tool that does not exist, which depends on `default`.
    decisions.some((d) => d.outcome === "deny" && (d.code === "hidden" || d.code === "invalid_name"))
  );
}

/**
 * Refused requests recorded one by one per minute and grant. Anyone who knows a grant id can send
 * it bad tokens, so without a bound they could grow its audit log at will; past the bound the
 * refusals are counted, and the count is reported on the next refusal that is recorded.
 */
export const RECORDED_REFUSALS_PER_MINUTE = 60;

export interface RefusalWindow {
  /** Start of the current minute (epoch ms). */
  start: number;
  recorded: number;
  /** Refusals not recorded one by one, in this window and earlier ones not yet reported. */
  unreported: number;
}

/** Whether this refusal gets its own record; if so, how many earlier ones went unrecorded. */
export function admitRefusal(window: RefusalWindow, now: number): { record: false } | { record: true; unreported: number } {
  if (now - window.start >= 60_000 || now < window.start) {
    window.start = now;
    window.recorded = 0;
  }
  if (window.recorded >= RECORDED_REFUSALS_PER_MINUTE) {
    window.unreported++;
    return { record: false };
  }
  window.recorded++;
  const unreported = window.unreported;
  window.unreported = 0;
  return { record: true, unreported };
}

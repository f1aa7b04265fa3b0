/**
 * The pure part of `GrantObject.gate()`: token comparison, and the decision for one JSON-RPC
 * message (evaluate the policy, reserve quota, apply monitor mode) together with the audit fields
 * that describe it. The Durable Object supplies the counters' current events and the time, then
 * writes what this returns.
 */
import { evaluateToolCall } from "../policy/evaluate";
import type { PolicyDocument } from "../policy/schema";
import { argKeysOf } from "./audit";
import { reserve, type CountedEvent, type CounterTake } from "./counters";
import type { DenyCode, MessageDecision, MessageSummary } from "./protocol";

/**
 * Compares two SHA-256 hex digests in time independent of where they differ, so response timing
 * does not reveal how much of a guessed token hash was right.
 */
export function tokenHashMatches(presented: string, stored: string): boolean {
  let difference = presented.length ^ stored.length;
  for (let i = 0; i < stored.length; i++) {
    difference |= (presented.charCodeAt(i) | 0) ^ stored.charCodeAt(i);
  }
  return difference === 0;
}

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
}

export interface MessagePlan {
  decision: MessageDecision;
  audit: DecisionFields;
  /** What to add to the counters; non-empty only for an allowed tools/call with limits. */
  take: CounterTake[];
}

interface Denial {
  code: DenyCode;
  rule: string | null;
  message: string;
  retryAfter?: number;
}

const FORWARD: MessageDecision = { outcome: "forward", monitored: null };

/**
 * Decides one message. Only tools/call is evaluated; every other request, notification and
 * response passes through (the gateway filters tools/list itself using the grant's visibility).
 */
export function decideMessage(
  policy: PolicyDocument | null,
  message: MessageSummary,
  eventsFor: (counter: string) => readonly CountedEvent[],
  now: number,
): MessagePlan {
  switch (message.kind) {
    case "invalid":
      // The gateway has already answered this message; it is recorded, never forwarded, and
      // monitor mode does not apply because no policy was consulted.
      return {
        decision: { outcome: "deny", code: "invalid_message", rule: null, message: message.reason },
        audit: fields(null, null, null, null, { code: "invalid_message", rule: null, message: message.reason }, false),
        take: [],
      };
    case "notification":
      return { decision: FORWARD, audit: fields(message.method, null, null, null, null, false), take: [] };
    case "response":
      return { decision: FORWARD, audit: fields(null, message.id, null, null, null, false), take: [] };
    case "request":
      break;
  }
  if (message.method !== "tools/call") {
    return { decision: FORWARD, audit: fields(message.method, message.id, null, null, null, false), take: [] };
  }

  const tool = message.tool ?? "";
  const args = message.args ?? {};
  const argKeys = argKeysOf(args);
  const describe = (denial: Denial | null, monitored: boolean) =>
    fields("tools/call", message.id, message.tool ?? null, argKeys, denial, monitored);

  const evaluation = evaluateToolCall(policy, tool, args);
  let denial: Denial;
  if (evaluation.kind === "deny") {
    denial = { code: evaluation.code, rule: evaluation.rule, message: evaluation.message };
  } else {
    const reservation = reserve(evaluation.limits, eventsFor, now);
    if (reservation.ok) return { decision: FORWARD, audit: describe(null, false), take: reservation.take };
    denial = { code: "rate_limited", rule: reservation.rule, message: reservation.message };
    if (reservation.retryAfter !== null) denial.retryAfter = reservation.retryAfter;
  }

  if (policy?.mode === "monitor") {
    // Monitor mode: decide and record everything, block nothing. A call over a limit is
    // forwarded without being counted, so the counters keep showing what enforcement would allow.
    const monitored = { code: denial.code, rule: denial.rule, message: denial.message };
    return { decision: { outcome: "forward", monitored }, audit: describe(denial, true), take: [] };
  }
  return { decision: { outcome: "deny", ...denial }, audit: describe(denial, false), take: [] };
}

function fields(
  rpcMethod: string | null,
  rpcId: string | number | null,
  tool: string | null,
  argKeys: string[] | null,
  denial: Denial | null,
  monitored: boolean,
): DecisionFields {
  return {
    rpcMethod,
    rpcId,
    tool,
    argKeys,
    decision: denial === null ? "allow" : monitored ? "monitor_deny" : "deny",
    code: denial?.code ?? null,
    rule: denial?.rule ?? null,
    message: denial?.message ?? null,
  };
}

/**
 * The longest window any limit of the policy counts over, in seconds: counted events older than
 * that can be forgotten. (Mirrors the window names of evaluate.ts.)
 */
export function retentionSeconds(policy: PolicyDocument): number {
  const limits = [
    ...(policy.all_tools?.limits ?? []),
    ...Object.values(policy.tools ?? {}).flatMap((rules) => rules.limits ?? []),
  ];
  let longest = 0;
  for (const { window } of limits) {
    longest = Math.max(longest, typeof window === "number" ? window : WINDOW_SECONDS[window]);
  }
  return longest;
}

const WINDOW_SECONDS = { minute: 60, hour: 3600, day: 86400 } as const;

/** Whether the gateway needs the grant's tool visibility to answer this request. */
export function needsVisibility(
  policy: PolicyDocument | null,
  messages: readonly MessageSummary[],
  decisions: readonly MessageDecision[],
): boolean {
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

/**
 * Approvals, pure (docs/approvals.md): what a call that needs a person's approval gets, given the
 * latest approval request for exactly that call; what an approver's verdict changes; and the
 * audit records of each step. The grant's Durable Object supplies the stored requests and the
 * time, and writes what this returns in the same storage step as the call's decision.
 *
 * An approval request is bound to one call: the grant (it lives in the grant's object), the tool,
 * the SHA-256 of the arguments' canonical JSON and the policy version (name, number and digest).
 * An approved request lets exactly one such call through before it expires; consuming it is part
 * of the synchronous gate() step, so concurrent identical calls cannot both take it.
 *
 * Argument values are kept in the request while it is pending, for the approver, and erased when
 * it is decided or expires; audit records carry only the hash.
 */
import { z } from "zod";
import { canonicalJson } from "../canonical-json";
import { isoTime } from "../clock";
import { sha256Hex } from "../digest";
import type { ApprovalNotice, Denial } from "../policy/decision";
import type { ApprovalNeed, LimitRequest } from "../policy/evaluate";
import { reserve, type CountedEvent, type CounterTake } from "./counters";
import type { PolicyRef } from "./protocol";

export const APPROVAL_STATUSES = ["pending", "approved", "rejected", "expired", "consumed"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
/** A stored or requested status: one of APPROVAL_STATUSES, nothing else. */
export const approvalStatusSchema = z.enum(APPROVAL_STATUSES);

/** How audit records name an approval request: never its argument values. */
export interface ApprovalRef {
  id: string;
  argsSha256: string;
  /** Who decided, on approved and rejected records: "admin" for the admin token. */
  by?: string;
}

/** One approval request as the grant's object stores it. Times are epoch ms. */
export interface StoredApproval {
  id: string;
  tool: string;
  argsSha256: string;
  /** The arguments' canonical JSON while pending; null once decided or expired. */
  args: string | null;
  policy: PolicyRef;
  /** The rule that asked for approval, and its on_deny. */
  rule: string;
  message: string;
  status: ApprovalStatus;
  requested: number;
  expires: number;
  decided: number | null;
  decidedBy: string | null;
  reason: string | null;
  /** The request whose call opened it. */
  requestId: string;
  /** Where an approver reads it (the admin API), when the gateway's origin was known. */
  link: string | null;
}

/** What a gate() step changes about approval requests; each change is also an audit record. */
export type ApprovalChange =
  | { kind: "open"; approval: StoredApproval; argKeys: string[] }
  | { kind: "consume"; approval: StoredApproval; requestId: string }
  | { kind: "expire"; approval: StoredApproval; why: string };

/** The longest argument text an approver is shown; a larger call cannot be approved (fail closed). */
export const MAX_APPROVAL_ARGUMENT_CHARS = 256 * 1024;
/** The longest `retryAfter` suggested to a waiting agent, in seconds. */
const RETRY_AFTER_SECONDS = 30;

export const refOf = (a: StoredApproval, by?: string): ApprovalRef =>
  by === undefined ? { id: a.id, argsSha256: a.argsSha256 } : { id: a.id, argsSha256: a.argsSha256, by };

const samePolicy = (a: PolicyRef, b: PolicyRef | null): boolean => b !== null && a.name === b.name && a.version === b.version && a.sha256 === b.sha256;

/**
 * The request's status now, and why an open one no longer stands: it expired, or the policy it
 * was made under is no longer the grant's (a new version needs a new approval).
 */
export function currentStatus(a: StoredApproval, now: number, policy: PolicyRef | null): { status: ApprovalStatus; why: string | null } {
  if (a.status !== "pending" && a.status !== "approved") return { status: a.status, why: null };
  if (!samePolicy(a.policy, policy)) {
    return {
      status: "expired",
      why: policy === null ? "the grant no longer has a policy" : `the policy changed (now ${policy.name} version ${policy.version})`,
    };
  }
  if (now >= a.expires)
    return {
      status: "expired",
      why: a.status === "approved" ? `approved but not used before ${isoTime(a.expires)}` : `nobody decided before ${isoTime(a.expires)}`,
    };
  return { status: a.status, why: null };
}

/** What one tools/call that needs approval reads and adds. */
export interface ApprovalCall {
  tool: string;
  args: Record<string, unknown>;
  argKeys: string[];
  requestId: string;
}

/** What the grant's object supplies to decide an approval call. */
export interface ApprovalContext {
  /** The latest request for this tool and argument hash, including this step's own changes. */
  latest(tool: string, argsSha256: string): StoredApproval | null;
  newId(): string;
  policy: PolicyRef | null;
  /** The gateway's origin, for the approver's link. */
  origin: string | null;
  eventsFor: (counter: string) => readonly CountedEvent[];
  now: number;
}

export type ApprovalDecision =
  /** An approved request was consumed and the limits reserved: forward. */
  | { kind: "forward"; take: CounterTake[]; approval: ApprovalRef; changes: ApprovalChange[] }
  | { kind: "deny"; denial: Denial; approval: ApprovalRef | null; changes: ApprovalChange[] };

/**
 * Decides a call that needs approval (docs/approvals.md, "Retrying"): consume an approved request
 * if the limits fit (if not, the approval stays for a later call); answer a pending or rejected
 * one; otherwise open a new request (after marking an expired or void one so).
 */
export function decideApproval(need: ApprovalNeed, limits: readonly LimitRequest[], call: ApprovalCall, context: ApprovalContext): ApprovalDecision {
  const text = canonicalJson(call.args);
  if (text.length > MAX_APPROVAL_ARGUMENT_CHARS) {
    const message = `The arguments are too large to be shown to an approver (over ${MAX_APPROVAL_ARGUMENT_CHARS} characters); this call cannot be approved`;
    return { kind: "deny", denial: { code: "approval_too_large", rule: need.rule, message }, approval: null, changes: [] };
  }
  const argsSha256 = sha256Hex(text);
  const latest = context.latest(call.tool, argsSha256);
  const { now, policy } = context;
  const standing = latest === null ? null : currentStatus(latest, now, policy);
  const live = latest !== null && standing !== null && samePolicy(latest.policy, policy) && now < latest.expires;

  if (latest !== null && live && standing?.status === "approved") {
    const reservation = reserve(limits, context.eventsFor, now);
    if (!reservation.ok) {
      const denial: Denial = { code: "rate_limited", rule: reservation.rule, message: reservation.message };
      if (reservation.retryAfter !== null) denial.retryAfter = reservation.retryAfter;
      return { kind: "deny", denial, approval: refOf(latest), changes: [] };
    }
    return { kind: "forward", take: reservation.take, approval: refOf(latest), changes: [{ kind: "consume", approval: latest, requestId: call.requestId }] };
  }
  if (latest !== null && live && standing?.status === "pending") {
    return { kind: "deny", denial: pendingDenial(latest, now), approval: refOf(latest), changes: [] };
  }
  if (latest !== null && live && standing?.status === "rejected") {
    const denial: Denial = { code: "approval_rejected", rule: latest.rule, message: latest.reason ?? latest.message, approval: notice(latest) };
    return { kind: "deny", denial, approval: refOf(latest), changes: [] };
  }
  return openRequest(need, call, argsSha256, text, latest, standing, context);
}

function openRequest(
  need: ApprovalNeed,
  call: ApprovalCall,
  argsSha256: string,
  text: string,
  latest: StoredApproval | null,
  standing: { status: ApprovalStatus; why: string | null } | null,
  context: ApprovalContext,
): ApprovalDecision {
  const changes: ApprovalChange[] = [];
  // A request that was open until now is marked expired before its replacement opens.
  const lapsed = latest !== null && (latest.status === "pending" || latest.status === "approved") && standing?.status === "expired" ? latest : null;
  if (lapsed !== null) changes.push({ kind: "expire", approval: lapsed, why: standing?.why ?? "expired" });
  const id = context.newId();
  const opened: StoredApproval = {
    id,
    tool: call.tool,
    argsSha256,
    args: text,
    // Only reached with a policy: without one the call was denied before approval was considered.
    policy: context.policy!,
    rule: need.rule,
    message: need.message,
    status: "pending",
    requested: context.now,
    expires: context.now + need.timeoutSeconds * 1000,
    decided: null,
    decidedBy: null,
    reason: null,
    requestId: call.requestId,
    link: context.origin === null ? null : `${context.origin}/admin/approvals/${id}`,
  };
  changes.push({ kind: "open", approval: opened, argKeys: call.argKeys });
  const replaced = lapsed?.id ?? (latest !== null && latest.status === "expired" ? latest.id : undefined);
  return { kind: "deny", denial: pendingDenial(opened, context.now, replaced), approval: refOf(opened), changes };
}

function notice(a: StoredApproval, replaced?: string): ApprovalNotice {
  return replaced === undefined ? { id: a.id, expiresAt: isoTime(a.expires) } : { id: a.id, expiresAt: isoTime(a.expires), replaced };
}

/** docs/approvals.md: the answer to a call whose request is still open. */
export function pendingDenial(a: StoredApproval, now: number, replaced?: string): Denial {
  const earlier = replaced === undefined ? "" : `; the earlier request ${replaced} expired`;
  return {
    code: "approval_pending",
    rule: a.rule,
    message: `Waiting for approval (${a.id}${earlier}). Call again with the same arguments once it is approved.`,
    retryAfter: Math.max(1, Math.min(RETRY_AFTER_SECONDS, Math.ceil((a.expires - now) / 1000))),
    approval: notice(a, replaced),
  };
}

/** The answer when the request a call waited on expired while it waited. */
export function expiredDenial(id: string, rule: string | null, expiresAt: string): Denial {
  return {
    code: "approval_expired",
    rule,
    message: `The approval request ${id} expired before anyone approved it. Call again with the same arguments to open a new request.`,
    approval: { id, expiresAt },
  };
}

export type ApprovalVerdict = "approve" | "reject";

export type ApprovalError =
  | { code: "not_found" }
  /** The first decision won; `approval` shows it. */
  | { code: "decided"; approval: ApprovalView }
  | { code: "expired"; approval: ApprovalView };

/** An approval request as the admin API shows it. `arguments` only while pending, and only when asked for. */
export interface ApprovalView {
  id: string;
  grantId: string;
  grantLabel: string;
  serverId: string;
  tool: string;
  status: ApprovalStatus;
  argsSha256: string;
  /** The call's arguments (a JSON object; typed shallowly so the object's RPC can return it). */
  arguments?: Record<string, string | number | boolean | null | object>;
  policy: PolicyRef;
  rule: string;
  message: string;
  requested: string;
  expires: string;
  decided: string | null;
  decidedBy: string | null;
  reason: string | null;
  link: string | null;
}

export function approvalView(
  a: StoredApproval,
  grant: { grantId: string; label: string; serverId: string },
  status: ApprovalStatus,
  withValues: boolean,
): ApprovalView {
  const view: ApprovalView = {
    id: a.id,
    grantId: grant.grantId,
    grantLabel: grant.label,
    serverId: grant.serverId,
    tool: a.tool,
    status,
    argsSha256: a.argsSha256,
    policy: a.policy,
    rule: a.rule,
    message: a.message,
    requested: isoTime(a.requested),
    expires: isoTime(a.expires),
    decided: a.decided === null ? null : isoTime(a.decided),
    decidedBy: a.decidedBy,
    reason: a.reason,
    link: a.link,
  };
  if (withValues && status === "pending" && a.args !== null) view.arguments = JSON.parse(a.args) as Record<string, object>;
  return view;
}

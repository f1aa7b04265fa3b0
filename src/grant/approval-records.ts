/**
 * The approver's side of an approval request, pure: what a verdict changes, and the audit record
 * of every step of a request's life (requested, approved, rejected, expired, consumed, restored). Each record
 * names the request by id and argument hash, never by its values (docs/approvals.md, "Audit").
 */
import { isoTime } from "../clock";
import { err, ok, type Result } from "../result";
import type { AuditDraft } from "./audit";
import { currentStatus, refOf, type ApprovalChange, type ApprovalVerdict, type StoredApproval } from "./approvals";
import type { PolicyRef } from "./protocol";
import { boundedText, draftRecord, type RecordSubject } from "./records";

/** The longest reason an approver may give; it is shown to the agent and kept in the log. */
export const MAX_REASON_CHARS = 1000;

export type VerdictPlan = Result<
  { next: StoredApproval },
  /** `lapsed`: the request was still marked open and must be recorded as expired, with why. */
  { code: "decided" } | { code: "expired"; lapsed: string | null }
>;

/** The first decision wins; an expired request (or one made under an older policy) cannot be decided. */
export function planVerdict(
  a: StoredApproval,
  verdict: ApprovalVerdict,
  now: number,
  policy: PolicyRef | null,
  by: string,
  reason: string | null,
): VerdictPlan {
  const standing = currentStatus(a, now, policy);
  if (standing.status === "expired") return err({ code: "expired", lapsed: a.status === "pending" || a.status === "approved" ? standing.why : null });
  if (a.status !== "pending") return err({ code: "decided" });
  // Decided: the values were needed only to decide, so they go; the hash stays.
  const next: StoredApproval = { ...a, status: verdict === "approve" ? "approved" : "rejected", decided: now, decidedBy: by, reason, args: null };
  return ok({ next });
}

/**
 * A consumed approval whose call provably never reached the upstream (a server-wide limit refused it,
 * or the connection was refused): usable again, unless it has lapsed meanwhile. Null: it stays spent.
 */
export function planRestore(a: StoredApproval, now: number, policy: PolicyRef | null): StoredApproval | null {
  if (a.status !== "consumed") return null;
  const next: StoredApproval = { ...a, status: "approved" };
  return currentStatus(next, now, policy).status === "approved" ? next : null;
}

export function restoredRecord(subject: RecordSubject, now: number, a: StoredApproval, requestId: string): AuditDraft {
  return approvalRecord(subject, now, a, "restored", { requestId, message: "the approved call never reached the upstream; the approval can be used again" });
}

/** The request after a change of this step (what the object stores). */
export function changed(change: ApprovalChange, now: number): StoredApproval {
  switch (change.kind) {
    case "open":
      return change.approval;
    case "consume":
      return { ...change.approval, status: "consumed", args: null };
    case "expire":
      return { ...change.approval, status: "expired", args: null, decided: change.approval.decided ?? now };
  }
}

/** The audit record of one change of a gate() step. */
export function changeRecord(subject: RecordSubject, now: number, change: ApprovalChange): AuditDraft {
  const a = change.approval;
  switch (change.kind) {
    case "open":
      return approvalRecord(subject, now, a, "requested", { requestId: a.requestId, argKeys: change.argKeys, message: `expires ${isoTime(a.expires)}` });
    case "consume":
      return approvalRecord(subject, now, a, "consumed", { requestId: change.requestId, message: "the approved call was forwarded" });
    case "expire":
      return expiryRecord(subject, now, a, change.why);
  }
}

export function expiryRecord(subject: RecordSubject, now: number, a: StoredApproval, why: string): AuditDraft {
  return approvalRecord(subject, now, a, "expired", { message: boundedText(why, 512) });
}

/** The record of an approver's verdict: who, and the reason if one was given. */
export function verdictRecord(subject: RecordSubject, now: number, next: StoredApproval): AuditDraft {
  const by = next.decidedBy ?? "admin";
  return approvalRecord(subject, now, next, next.status, { message: next.reason, approval: refOf(next, by) });
}

function approvalRecord(subject: RecordSubject, now: number, a: StoredApproval, decision: string, fields: Partial<AuditDraft>): AuditDraft {
  return draftRecord(subject, isoTime(now), "approval", a.policy, {
    decision,
    tool: boundedText(a.tool),
    rule: a.rule,
    approval: refOf(a),
    ...fields,
  });
}

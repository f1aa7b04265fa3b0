/**
 * Recording an outcome, pure: given what the grant holds as pending and the outcome the gateway
 * reports, say what to release, which sessions to open or close, and the outcome record to append.
 */
import type { AuditDraft } from "./audit";
import type { PolicyRef, Settlement } from "./protocol";
import { draftRecord, type RecordSubject } from "./records";
import { OUTCOME, RELEASING_OUTCOME, type PendingRow, type RowFacts } from "./storage";

export interface SettlementPlan {
  /** The request whose counted quota is released: the upstream never received it. */
  release: number | null;
  draft: AuditDraft;
  facts: RowFacts;
  sessionOpened: string | null;
  sessionClosed: string | null;
}

/**
 * `pending` is the request still awaiting its outcome; `late` one the alarm already recorded as
 * "unknown" (its real outcome is still appended). Null when neither matches: settling is idempotent.
 */
export function planSettlement(
  subject: RecordSubject,
  policy: PolicyRef | null,
  pending: PendingRow | undefined,
  late: PendingRow | undefined,
  s: Settlement,
  now: number,
  time: string,
): SettlementPlan | null {
  const held = pending ?? late;
  if (held === undefined || held.requestId !== s.requestId) return null;
  const notes: string[] = [];
  if (pending === undefined) notes.push("Reported after the deadline, when an unknown outcome had been recorded");
  // docs/policy.md, "Limits": released only when the request provably never reached the upstream.
  if (!s.upstreamReceived) notes.push("The upstream never received the request (its body never left the gateway); its reservations were released");
  const failed = s.error !== null || s.status === null || s.status >= 400;
  return {
    release: s.upstreamReceived ? null : s.seq,
    facts: { at: now, requestSeq: s.seq, counted: null, flag: s.upstreamReceived ? OUTCOME : RELEASING_OUTCOME },
    draft: draftRecord(subject, time, "outcome", policy, {
      requestId: s.requestId,
      decision: failed ? "error" : "ok",
      code: s.error,
      message: notes.length === 0 ? null : notes.join(". "),
      ref: s.seq,
      status: s.status,
      latencyMs: s.latencyMs,
    }),
    sessionOpened: s.sessionOpened,
    sessionClosed: s.sessionClosed,
  };
}

/** A forwarded request with no outcome after this long gets an "unknown" outcome record. */
export const OUTCOME_DEADLINE_MS = 2 * 60 * 1000;

/** Which pending requests are past the deadline, and when the next one will be (null: none left). */
export function overdue(pending: Iterable<PendingRow>, now: number): { due: PendingRow[]; next: number | null } {
  const due: PendingRow[] = [];
  let next: number | null = null;
  for (const row of pending) {
    const at = row.at + OUTCOME_DEADLINE_MS;
    if (at <= now) due.push(row);
    else next = next === null ? at : Math.min(next, at);
  }
  return { due, next };
}

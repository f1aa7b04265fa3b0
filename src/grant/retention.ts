/**
 * Retention (docs/audit.md, "Retention"): with AUDIT_RETENTION_DAYS set and an archive bound,
 * deletes the oldest records from the grant's object, from the alarm, in batches.
 *
 * A record is deleted only when all of these hold:
 * - it is in the archive (seq <= the last `archived` record's `ref`);
 * - a signed checkpoint covers it (seq <= the latest checkpoint's `ref`);
 * - it is older than AUDIT_RETENTION_DAYS and than the policy's longest limit window, so the
 *   counters rebuilt from the log at start count exactly what they counted before;
 * - it precedes every request still awaiting its outcome, so no pending request is forgotten.
 * The deletion and a `pruned` record ("records up to seq N were deleted; record N's hash was H")
 * are one transaction, so the kept log always starts where its latest pruned record says.
 */
import { isoTime } from "../clock";
import { retentionSeconds } from "./decide";
import { draftRecord } from "./records";
import type { UpkeepHost } from "./maintenance";
import type { MaintenanceStorage } from "./maintenance-storage";

const DAY_MS = 86_400_000;
/** Records deleted per alarm run at most (one statement); a backlog continues on the next run. */
export const PRUNE_BATCH = 5000;

/** AUDIT_RETENTION_DAYS in milliseconds; null when unset. A value that is not a positive number keeps everything. */
export function retentionMs(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  const days = Number(value);
  if (!Number.isFinite(days) || days <= 0) {
    console.error(JSON.stringify({ event: "audit_retention_invalid", problem: "AUDIT_RETENTION_DAYS is not a positive number of days; nothing is pruned" }));
    return null;
  }
  return days * DAY_MS;
}

/**
 * Pure: the last of `rows` (oldest first, each already archived, covered and before any pending
 * request) written at or before `cutoff`, and when the first younger one will be old enough
 * (`now` when the batch was full and more may follow).
 */
export function pruneBound(
  rows: readonly { seq: number; at: number }[],
  cutoff: number,
  ageMs: number,
  batch: number,
  now: number,
): { through: number | null; wakeAt: number | null } {
  let through: number | null = null;
  for (const row of rows) {
    if (row.at > cutoff) return { through, wakeAt: row.at + ageMs };
    through = row.seq;
  }
  return { through, wakeAt: rows.length === batch ? now : null };
}

/** What bounds pruning now, from the object's upkeep state. */
export interface PruneLimits {
  prunedThrough: number;
  archivedThrough: number;
  coveredThrough: number;
}

/**
 * Deletes one batch of records that may go, appending the pruned record in the same transaction.
 * Returns the new pruned point (or null when nothing was deleted) and when to look again.
 */
export function pruneBatch(
  host: UpkeepHost,
  store: MaintenanceStorage,
  limits: PruneLimits,
  keepMs: number,
  now: number,
): { pruned: { seq: number; hash: string } | null; wakeAt: number | null } {
  const state = host.state();
  const pending = host.oldestPending();
  const limit = Math.min(limits.archivedThrough, limits.coveredThrough, pending === null ? Infinity : pending - 1);
  if (state === null || limit <= limits.prunedThrough) return { pruned: null, wakeAt: null };
  const policy = host.policy();
  const ageMs = Math.max(keepMs, policy === null ? 0 : retentionSeconds(policy.document) * 1000);
  const rows = store.writtenAt(limits.prunedThrough, limit, PRUNE_BATCH);
  const { through, wakeAt } = pruneBound(rows, now - ageMs, ageMs, PRUNE_BATCH, now);
  if (through === null) return { pruned: null, wakeAt };
  const hash = store.hashOf(through);
  if (hash === null) return { pruned: null, wakeAt: null };
  const message = `Records ${limits.prunedThrough + 1} to ${through} were deleted from the grant's Durable Object by retention; the archive holds them`;
  const draft = draftRecord(state, isoTime(now), "pruned", null, { decision: "deleted", ref: through, headHash: hash, message });
  const seq = host.append(draft, now, (written) => {
    store.deleteThrough(through);
    store.mark("pruned", written);
  });
  // A write that failed is tried again a minute later, not at once.
  return seq === null ? { pruned: null, wakeAt: now + 60_000 } : { pruned: { seq: through, hash }, wakeAt };
}

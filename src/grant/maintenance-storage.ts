/**
 * The SQL of the log's upkeep (src/grant/maintenance.ts): checkpoints, the archive, retention and
 * exports. Everything else the grant's object stores is in storage.ts, which also runs the
 * migrations (the last one creates `audit_maintenance`).
 *
 * Storage layout: `audit_maintenance (kind, seq)` holds, for each kind of upkeep record
 * (checkpoint, archived, pruned), the seq of the latest one. It is an index into the log, written in
 * the same transaction as the record it points to, so starting never scans the log for them; the
 * records themselves (in `audit`) are the truth.
 */
import { z } from "zod";
import type { AuditRecord } from "./protocol";

export type UpkeepKind = "checkpoint" | "archived" | "pruned";
export const UPKEEP_KINDS: readonly string[] = ["checkpoint", "archived", "pruned"] satisfies UpkeepKind[];

/** The fields of an upkeep record the object reads back. */
const UpkeepRecord = z.looseObject({
  seq: z.int().positive(),
  time: z.string(),
  type: z.enum(["checkpoint", "archived", "pruned"]),
  ref: z.int().min(0),
  hash: z.string(),
  headHash: z.string().optional(),
});
export type UpkeepRecord = z.infer<typeof UpkeepRecord>;

/** Raw record lines of a stretch of the log, exactly as stored. */
export interface LogLines {
  lines: string[];
  /** The first and last seq of `lines`; null when there are none. */
  first: number | null;
  last: number | null;
}

export class MaintenanceStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** The latest record of a kind of upkeep, or null when there was none. */
  latest(kind: UpkeepKind): UpkeepRecord | null {
    const row = this.#sql.exec<{ seq: number }>("SELECT seq FROM audit_maintenance WHERE kind = ?", kind).toArray()[0];
    const record = row === undefined ? undefined : this.#recordJson(row.seq);
    return record === undefined ? null : UpkeepRecord.parse(JSON.parse(record));
  }

  /** Points the index at the latest record of a kind; runs in the transaction that appends it. */
  mark(kind: UpkeepKind, seq: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO audit_maintenance (kind, seq) VALUES (?, ?)", kind, seq);
  }

  /** How many records after `after` are not upkeep records (at most `cap`), and when the first was written. */
  uncovered(after: number, cap: number): { count: number; firstAt: number | null } {
    const row = this.#sql
      .exec<{ count: number; first_at: number | null }>(
        `SELECT COUNT(*) AS count, MIN(at) AS first_at FROM (
           SELECT at FROM audit WHERE seq > ? AND json_extract(record, '$.type') NOT IN ('checkpoint', 'archived', 'pruned') ORDER BY seq LIMIT ?)`,
        after,
        cap,
      )
      .one();
    return { count: row.count, firstAt: row.first_at };
  }

  /** The first checkpoint record after `after`, looking no further than `within` records. */
  checkpointAfter(after: number, within: number): number | null {
    const row = this.#sql
      .exec<{ seq: number }>(
        "SELECT seq FROM audit WHERE seq > ? AND seq <= ? AND json_extract(record, '$.type') = 'checkpoint' ORDER BY seq LIMIT 1",
        after,
        after + within,
      )
      .toArray()[0];
    return row?.seq ?? null;
  }

  /** The first checkpoint record whose statement covers record `seq`, or null when none does yet. */
  coveringCheckpoint(seq: number): number | null {
    const row = this.#sql
      .exec<{ seq: number }>(
        "SELECT seq FROM audit WHERE seq > ? AND json_extract(record, '$.type') = 'checkpoint' AND json_extract(record, '$.ref') >= ? ORDER BY seq LIMIT 1",
        seq,
        seq,
      )
      .toArray()[0];
    return row?.seq ?? null;
  }

  /** Records after `after` up to `through`, at most `limit` of them, as stored, oldest first. */
  readLines(after: number, through: number, limit: number): LogLines {
    const rows = this.#sql
      .exec<{ seq: number; record: string }>("SELECT seq, record FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, through, limit)
      .toArray();
    return { lines: rows.map((row) => row.record), first: rows[0]?.seq ?? null, last: rows.at(-1)?.seq ?? null };
  }

  /** A record's own hash, or null when it is not stored. */
  hashOf(seq: number): string | null {
    const json = this.#recordJson(seq);
    return json === undefined ? null : (JSON.parse(json) as Pick<AuditRecord, "hash">).hash;
  }

  /** When records after `after` up to `through` were written, oldest first, at most `limit`. */
  writtenAt(after: number, through: number, limit: number): { seq: number; at: number }[] {
    return this.#sql
      .exec<{ seq: number; at: number | null }>("SELECT seq, at FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, through, limit)
      .toArray()
      .map((row) => ({ seq: row.seq, at: row.at ?? 0 }));
  }

  /** Deletes every record up to `seq`; runs in the transaction that appends the pruned record. */
  deleteThrough(seq: number): void {
    this.#sql.exec("DELETE FROM audit WHERE seq <= ?", seq);
  }

  #recordJson(seq: number): string | undefined {
    return this.#sql.exec<{ record: string }>("SELECT record FROM audit WHERE seq = ?", seq).toArray()[0]?.record;
  }
}

/**
 * A grant's SQLite storage: every SQL statement the grant's Durable Object runs is here, except
 * the log's upkeep (checkpoints, archive, retention, exports: maintenance-storage.ts).
 *
 * Storage layout (docs/storage.md has the full table):
 * - `grant_state`: one JSON row with everything `gate()` enforces (validated with zod on load).
 * - `audit`: the log, and the only durable truth about calls. One row per record: its `seq`, its
 *   canonical JSON (`record`, hash-chained), and four columns derived from it for rebuilding memory
 *   quickly: `at` (epoch ms), `request_seq` (the request a decision or outcome belongs to),
 *   `counted` (the quota a decision took, JSON `[[counter, amount], …]`) and `flag` (1: the first
 *   decision of a forwarded request, whose outcome is due; 2: an outcome; 3: an outcome that
 *   released the request's reservations). Counters and pending outcomes are views of these rows.
 * - `session`: upstream Mcp-Session-Ids opened through this grant, with when each was last used.
 * - `task`: upstream task ids created through this grant.
 * - `approval`: approval requests (src/grant/approval-storage.ts holds their SQL).
 * - `schema`: which migrations have run.
 * - `audit_maintenance`: the seq of the latest checkpoint, archived and pruned record.
 *
 * Lifecycle: nothing is created until the grant is provisioned. An object addressed by an id that
 * was never provisioned reads `sqlite_master` once and writes nothing. When the object starts it
 * reads the state, then the log backwards from its end to the start of the longest counting
 * window: that rebuilds the counters and the requests still awaiting an outcome.
 *
 * Trade-offs: one row (one INSERT, atomic on its own) per decision or outcome, so an allowed call
 * costs two statements and no explicit transaction; in exchange, start-up reads every row of
 * the longest window (a day at least), not only the counted ones (the JSON record only of rows
 * awaiting an outcome).
 */
import { z } from "zod";
import type { AuditPage, AuditRecord } from "./protocol";
import { MIGRATIONS } from "./migrations";
import { parseGrantState, type GrantState } from "./state";

/** What a log row says besides its record: the columns the object rebuilds memory from. */
export interface RowFacts {
  at: number;
  requestSeq: number | null;
  /** The quota a decision took: [counter, amount] pairs. */
  counted: [string, number][] | null;
  flag: typeof AWAITS_OUTCOME | typeof OUTCOME | typeof RELEASING_OUTCOME | null;
}

export const AWAITS_OUTCOME = 1;
export const OUTCOME = 2;
export const RELEASING_OUTCOME = 3;

/** The log columns of a record that is neither a decision with quota nor an outcome. */
export const plainFacts = (at: number): RowFacts => ({ at, requestSeq: null, counted: null, flag: null });

export interface LogRow extends RowFacts {
  seq: number;
  json: string;
}

export interface CountedRow {
  requestSeq: number;
  counter: string;
  at: number;
  amount: number;
}

export interface PendingRow {
  seq: number;
  requestId: string;
  at: number;
}

export interface SessionRow {
  id: string;
  lastUsed: number;
}

/** Everything the object holds in memory, as loaded when it starts. */
export interface LoadedGrant {
  state: GrantState;
  /** The chain's head: the last record's seq and hash; null for an empty log. */
  head: { seq: number; hash: string } | null;
  counted: CountedRow[];
  pending: PendingRow[];
  sessions: SessionRow[];
  tasks: string[];
}

const ChainHead = z.object({ seq: z.int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) });
/** A stored record, checked for shape when read back (the chain check proves its content). */
const StoredRecord = z.looseObject({ seq: z.int().positive(), hash: z.string(), prevHash: z.string() });
const PendingRecord = z.looseObject({ requestId: z.string() });
const Counted = z.array(z.tuple([z.string(), z.number()]));
/** Rows of one multi-row INSERT: a Durable Object's SQLite allows 100 bound values, and each row binds six. */
const ROWS_PER_INSERT = 16;

export class CorruptGrantStateError extends Error {
  override readonly name = "CorruptGrantStateError";
}

export class GrantStorage {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  /**
   * The stored grant, or null when it was never provisioned. `retentionMs(state)` says how far back
   * the log is read to rebuild counters. Throws when the stored state does not validate.
   */
  load(retentionMs: (state: GrantState) => number, now: number): LoadedGrant | null {
    if (!this.#tableExists("grant_state")) return null;
    this.migrate();
    const row = this.#sql.exec<{ state: string }>("SELECT state FROM grant_state WHERE id = 1").toArray()[0];
    if (row === undefined) return null;
    const state = parseGrantState(row.state);
    if (state === null) throw new CorruptGrantStateError("the stored grant state does not validate");
    const { counted, pending } = this.#rebuild(now - retentionMs(state));
    return {
      state,
      head: this.#head(),
      counted,
      pending,
      sessions: this.#sql
        .exec<{ id: string; last_used: number }>("SELECT id, last_used FROM session")
        .toArray()
        .map((s) => ({ id: s.id, lastUsed: s.last_used })),
      tasks: this.#sql
        .exec<{ id: string }>("SELECT id FROM task")
        .toArray()
        .map((t) => t.id),
    };
  }

  /**
   * Reads the log backwards from its end to `cutoff`: the quota taken by requests that were not
   * released, and the forwarded requests with no outcome yet. Oldest first.
   */
  #rebuild(cutoff: number): { counted: CountedRow[]; pending: PendingRow[] } {
    const settled = new Set<number>();
    const released = new Set<number>();
    const counted: CountedRow[] = [];
    const pending: PendingRow[] = [];
    // Only a row awaiting an outcome (flag = 1) needs its record, for the request id; the others'
    // JSON is not copied out of SQLite.
    const rows = this.#sql.exec<{
      seq: number;
      record: string | null;
      at: number | null;
      request_seq: number | null;
      counted: string | null;
      flag: number | null;
    }>("SELECT seq, CASE WHEN flag = 1 THEN record END AS record, at, request_seq, counted, flag FROM audit ORDER BY seq DESC");
    for (const row of rows) {
      if (row.at !== null && row.at <= cutoff) break;
      if (row.flag === OUTCOME || row.flag === RELEASING_OUTCOME) {
        if (row.request_seq !== null) settled.add(row.request_seq);
        if (row.flag === RELEASING_OUTCOME && row.request_seq !== null) released.add(row.request_seq);
        continue;
      }
      const requestSeq = row.request_seq ?? row.seq;
      if (row.counted !== null && row.at !== null && !released.has(requestSeq)) {
        for (const [counter, amount] of Counted.parse(JSON.parse(row.counted))) counted.push({ requestSeq, counter, at: row.at, amount });
      }
      if (row.flag === AWAITS_OUTCOME && !settled.has(row.seq) && row.at !== null) {
        pending.push({ seq: row.seq, requestId: PendingRecord.parse(row.record === null ? null : JSON.parse(row.record)).requestId, at: row.at });
      }
    }
    return { counted: counted.reverse(), pending: pending.reverse() };
  }

  /** Creates or upgrades the tables; only a provision calls this on a new object. */
  migrate(): void {
    const applied = this.#appliedMigrations();
    if (applied === MIGRATIONS.length) return;
    this.transaction(() => {
      for (const statements of MIGRATIONS.slice(applied)) for (const statement of statements) this.#sql.exec(statement);
      this.#sql.exec("CREATE TABLE IF NOT EXISTS schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
      this.#sql.exec("INSERT OR REPLACE INTO schema (id, version) VALUES (1, ?)", MIGRATIONS.length);
    });
  }

  /** Runs `fn` as one SQLite transaction: every write in it lands, or none does. */
  transaction<T>(fn: () => T): T {
    return this.#storage.transactionSync(fn);
  }

  /**
   * Appends log rows. Up to ROWS_PER_INSERT rows are one INSERT, atomic on its own; the caller
   * wraps more in a transaction.
   */
  appendRows(rows: readonly LogRow[]): void {
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      const values: (string | number | null)[] = [];
      for (const r of chunk) values.push(r.seq, r.json, r.at, r.requestSeq, r.counted === null ? null : JSON.stringify(r.counted), r.flag);
      this.#sql.exec(`INSERT INTO audit (seq, record, at, request_seq, counted, flag) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`, ...values);
    }
  }

  /** Whether appending these rows takes more than one statement. */
  static needsTransaction(rows: number): boolean {
    return rows > ROWS_PER_INSERT;
  }

  saveState(state: GrantState): void {
    this.#sql.exec("INSERT OR REPLACE INTO grant_state (id, state) VALUES (1, ?)", JSON.stringify(state));
  }

  openSession(id: string, seq: number, at: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO session (id, opened_seq, last_used) VALUES (?, ?, ?)", id, seq, at);
  }

  touchSession(id: string, at: number): void {
    this.#sql.exec("UPDATE session SET last_used = ? WHERE id = ?", at, id);
  }

  closeSession(id: string): void {
    this.#sql.exec("DELETE FROM session WHERE id = ?", id);
  }

  bindTask(id: string, seq: number): void {
    this.#sql.exec("INSERT OR IGNORE INTO task (id, opened_seq) VALUES (?, ?)", id, seq);
  }

  /** Records with seq > after, oldest first, 1..1000 of them; `next` is set when more follow. */
  readPage(after: number, limit: number): AuditPage {
    const size = Math.min(1000, Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1)));
    const from = Number.isFinite(after) ? Math.floor(after) : 0;
    // One more than the page is read to tell whether more follow.
    const rows = this.#sql
      .exec<{ record: string }>("SELECT record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", from, size + 1)
      .toArray()
      .map((row) => parseRecord(row.record));
    const records = rows.slice(0, size);
    return { records, next: rows.length > size ? (records.at(-1)?.seq ?? null) : null };
  }

  /** Every record with the seq it is stored under, oldest first (for verifying the chain). */
  *allRecords(): Generator<{ seq: number; record: AuditRecord }> {
    for (const row of this.#sql.exec<{ seq: number; record: string }>("SELECT seq, record FROM audit ORDER BY seq")) {
      yield { seq: row.seq, record: parseRecord(row.record) };
    }
  }

  #head(): LoadedGrant["head"] {
    const last = this.#sql.exec<{ record: string }>("SELECT record FROM audit ORDER BY seq DESC LIMIT 1").toArray()[0];
    if (last === undefined) return null;
    const head = ChainHead.safeParse(JSON.parse(last.record));
    if (!head.success) throw new CorruptGrantStateError("the last audit record does not validate");
    return head.data;
  }

  #tableExists(name: string): boolean {
    return this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
  }

  #appliedMigrations(): number {
    if (this.#tableExists("schema")) {
      return this.#sql.exec<{ version: number }>("SELECT version FROM schema WHERE id = 1").toArray()[0]?.version ?? 0;
    }
    // Objects created before migrations were tracked have exactly the first entry's tables.
    return this.#tableExists("grant_state") ? 1 : 0;
  }
}

function parseRecord(json: string): AuditRecord {
  const parsed = StoredRecord.safeParse(JSON.parse(json));
  if (!parsed.success) throw new CorruptGrantStateError("an audit record does not validate");
  return parsed.data as unknown as AuditRecord;
}

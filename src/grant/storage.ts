/**
 * A grant's SQLite storage: every SQL statement the grant's Durable Object runs is here.
 *
 * Storage layout (docs/storage.md has the full table):
 * - `grant_state`: one JSON row with everything `gate()` enforces (validated with zod on load).
 * - `audit`: one row per record, keyed by `seq`, holding the record's canonical JSON.
 * - `counter_event`: one row per (decision record, counter) a forwarded tools/call counted on.
 * - `pending`: forwarded requests still waiting for their outcome.
 * - `session`: upstream Mcp-Session-Ids opened through this grant, with when each was last used.
 * - `task`: upstream task ids created through this grant.
 * - `schema`: which migrations have run.
 *
 * Lifecycle: nothing is created until the grant is provisioned. An object addressed by an id that
 * was never provisioned reads `sqlite_master` once and writes nothing, so a stray request cannot
 * grow storage (the Worker already refuses ids that lack the gateway's MAC, src/grant/token.ts).
 *
 * Trade-offs: the audit table is append-only and never pruned; counters, pending outcomes,
 * sessions and tasks are loaded whole into memory when the object starts, so `gate()` only writes.
 */
import { z } from "zod";
import type { AuditPage, AuditRecord } from "./protocol";
import { parseGrantState, type GrantState } from "./state";

/** Each entry runs once, in order; a later change appends an entry and never edits one. */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE IF NOT EXISTS grant_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS counter_event (
       decision_seq INTEGER NOT NULL, counter TEXT NOT NULL, at INTEGER NOT NULL, amount REAL NOT NULL,
       PRIMARY KEY (decision_seq, counter)
     ) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, request_id TEXT NOT NULL, at INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, opened_seq INTEGER NOT NULL)`,
  ],
  [
    `ALTER TABLE session ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0`,
    `CREATE TABLE IF NOT EXISTS task (id TEXT PRIMARY KEY, opened_seq INTEGER NOT NULL)`,
  ],
];

export interface CounterEventRow {
  decisionSeq: number;
  counter: string;
  at: number;
  amount: number;
}

export interface PendingRow {
  seq: number;
  lastSeq: number;
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
  counterEvents: CounterEventRow[];
  pending: PendingRow[];
  sessions: SessionRow[];
  tasks: string[];
}

const ChainHead = z.object({ seq: z.int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) });

/** A stored record, checked for shape when read back (the chain check proves its content). */
const StoredRecord = z.looseObject({ seq: z.int().positive(), hash: z.string(), prevHash: z.string() });

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

  /** The stored grant, or null when it was never provisioned. Throws when the stored state does not validate. */
  load(): LoadedGrant | null {
    if (!this.#tableExists("grant_state")) return null;
    this.migrate();
    const row = this.#sql.exec<{ state: string }>("SELECT state FROM grant_state WHERE id = 1").toArray()[0];
    if (row === undefined) return null;
    const state = parseGrantState(row.state);
    if (state === null) throw new CorruptGrantStateError("the stored grant state does not validate");
    return {
      state,
      head: this.#head(),
      counterEvents: this.#sql
        .exec<{ decision_seq: number; counter: string; at: number; amount: number }>(
          "SELECT decision_seq, counter, at, amount FROM counter_event ORDER BY at",
        )
        .toArray()
        .map((e) => ({ decisionSeq: e.decision_seq, counter: e.counter, at: e.at, amount: e.amount })),
      pending: this.#sql
        .exec<{ seq: number; last_seq: number; request_id: string; at: number }>("SELECT seq, last_seq, request_id, at FROM pending")
        .toArray()
        .map((p) => ({ seq: p.seq, lastSeq: p.last_seq, requestId: p.request_id, at: p.at })),
      sessions: this.#sql
        .exec<{ id: string; last_used: number }>("SELECT id, last_used FROM session")
        .toArray()
        .map((s) => ({ id: s.id, lastUsed: s.last_used })),
      tasks: this.#sql.exec<{ id: string }>("SELECT id FROM task").toArray().map((t) => t.id),
    };
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

  saveState(state: GrantState): void {
    this.#sql.exec("INSERT OR REPLACE INTO grant_state (id, state) VALUES (1, ?)", JSON.stringify(state));
  }

  appendRecord(seq: number, json: string): void {
    this.#sql.exec("INSERT INTO audit (seq, record) VALUES (?, ?)", seq, json);
  }

  addCounterEvent(e: CounterEventRow): void {
    this.#sql.exec("INSERT INTO counter_event (decision_seq, counter, at, amount) VALUES (?, ?, ?, ?)", e.decisionSeq, e.counter, e.at, e.amount);
  }

  releaseCounterEvents(fromSeq: number, toSeq: number): void {
    this.#sql.exec("DELETE FROM counter_event WHERE decision_seq BETWEEN ? AND ?", fromSeq, toSeq);
  }

  pruneCounterEvents(cutoff: number): void {
    this.#sql.exec("DELETE FROM counter_event WHERE at <= ?", cutoff);
  }

  addPending(p: PendingRow): void {
    this.#sql.exec("INSERT INTO pending (seq, last_seq, request_id, at) VALUES (?, ?, ?, ?)", p.seq, p.lastSeq, p.requestId, p.at);
  }

  removePending(seq: number): void {
    this.#sql.exec("DELETE FROM pending WHERE seq = ?", seq);
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

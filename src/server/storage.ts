/**
 * A server's SQLite storage: every SQL statement the server's Durable Object runs.
 *
 * Storage layout (docs/storage.md, "ServerObject"):
 * - `policy_version (name, latest)`: the last version number handed out per policy name.
 * - `server_event (id, request_id, counter, at, amount)`: one row per server-wide counter a
 *   forwarded call counted on; deleted when its request is released; pruned past the longest
 *   window ever asked for (`meta.retention_ms`).
 * - `pin (tool, fingerprint, definition)`, `quarantine (tool, pinned, seen, definition)`,
 *   `missing (tool)`: tool pinning (src/server/pins.ts).
 * - `member (grant_id, acked)`: the server's grants, and which pin generation each has taken.
 * - `meta (key, value)`: `retention_ms`, `pins_initialized`, `members_loaded`, `generation`.
 *
 * Lifecycle: tables are created on first use; the object is only addressed for servers that
 * exist (by the admin API, and by the gateway for grants whose policy uses server-wide limits or
 * pins tools).
 */
import type { PinState, Quarantined } from "./pins";

const SCHEMA: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS policy_version (name TEXT PRIMARY KEY, latest INTEGER NOT NULL)",
  `CREATE TABLE IF NOT EXISTS server_event (
     id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, counter TEXT NOT NULL, at INTEGER NOT NULL, amount REAL NOT NULL)`,
  "CREATE INDEX IF NOT EXISTS server_event_request ON server_event (request_id)",
  "CREATE TABLE IF NOT EXISTS pin (tool TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, definition TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS quarantine (tool TEXT PRIMARY KEY, pinned TEXT, seen TEXT NOT NULL, definition TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS missing (tool TEXT PRIMARY KEY)",
  "CREATE TABLE IF NOT EXISTS member (grant_id TEXT PRIMARY KEY, acked INTEGER NOT NULL DEFAULT 0)",
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

export interface ServerEventRow {
  requestId: string;
  counter: string;
  at: number;
  amount: number;
}

export class ServerStorage {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    for (const statement of SCHEMA) this.#sql.exec(statement);
  }

  transaction<T>(fn: () => T): T {
    return this.#storage.transactionSync(fn);
  }

  meta(key: string): string | null {
    return this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  nextPolicyVersion(name: string, floor: number): number {
    const row = this.#sql.exec<{ latest: number }>("SELECT latest FROM policy_version WHERE name = ?", name).toArray()[0];
    const next = Math.max(row?.latest ?? 0, Number.isSafeInteger(floor) ? floor : 0) + 1;
    this.#sql.exec("INSERT OR REPLACE INTO policy_version (name, latest) VALUES (?, ?)", name, next);
    return next;
  }

  /** Server-wide counted events newer than `cutoff`, oldest first. */
  events(cutoff: number): ServerEventRow[] {
    return this.#sql
      .exec<{ request_id: string; counter: string; at: number; amount: number }>(
        "SELECT request_id, counter, at, amount FROM server_event WHERE at > ? ORDER BY at, id",
        cutoff,
      )
      .toArray()
      .map((e) => ({ requestId: e.request_id, counter: e.counter, at: e.at, amount: e.amount }));
  }

  /** One multi-row INSERT: atomic on its own. */
  addEvents(rows: readonly ServerEventRow[]): void {
    if (rows.length === 0) return;
    const values = rows.flatMap((r) => [r.requestId, r.counter, r.at, r.amount]);
    this.#sql.exec(`INSERT INTO server_event (request_id, counter, at, amount) VALUES ${rows.map(() => "(?, ?, ?, ?)").join(", ")}`, ...values);
  }

  releaseEvents(requestId: string): void {
    this.#sql.exec("DELETE FROM server_event WHERE request_id = ?", requestId);
  }

  pruneEvents(cutoff: number): void {
    this.#sql.exec("DELETE FROM server_event WHERE at <= ?", cutoff);
  }

  loadPins(): PinState {
    const pins = new Map(
      this.#sql
        .exec<{ tool: string; fingerprint: string; definition: string }>("SELECT tool, fingerprint, definition FROM pin")
        .toArray()
        .map((p) => [p.tool, { fingerprint: p.fingerprint, definition: JSON.parse(p.definition) as unknown }]),
    );
    const quarantine = new Map<string, Quarantined>(
      this.#sql
        .exec<{ tool: string; pinned: string | null; seen: string; definition: string }>("SELECT tool, pinned, seen, definition FROM quarantine")
        .toArray()
        .map((q) => [q.tool, { pinned: q.pinned, seen: q.seen, definition: JSON.parse(q.definition) as unknown }]),
    );
    const missing = new Set(
      this.#sql
        .exec<{ tool: string }>("SELECT tool FROM missing")
        .toArray()
        .map((m) => m.tool),
    );
    return { pins, quarantine, missing };
  }

  /** Writes the whole pin state (it is small: one row per tool of the server). */
  savePins(state: PinState): void {
    this.#sql.exec("DELETE FROM pin");
    this.#sql.exec("DELETE FROM quarantine");
    this.#sql.exec("DELETE FROM missing");
    for (const [tool, pin] of state.pins) this.#sql.exec("INSERT INTO pin VALUES (?, ?, ?)", tool, pin.fingerprint, JSON.stringify(pin.definition));
    for (const [tool, q] of state.quarantine)
      this.#sql.exec("INSERT INTO quarantine VALUES (?, ?, ?, ?)", tool, q.pinned, q.seen, JSON.stringify(q.definition));
    for (const tool of state.missing) this.#sql.exec("INSERT INTO missing VALUES (?)", tool);
  }

  members(): { grantId: string; acked: number }[] {
    return this.#sql
      .exec<{ grant_id: string; acked: number }>("SELECT grant_id, acked FROM member")
      .toArray()
      .map((m) => ({ grantId: m.grant_id, acked: m.acked }));
  }

  addMember(grantId: string): void {
    this.#sql.exec("INSERT OR IGNORE INTO member (grant_id, acked) VALUES (?, 0)", grantId);
  }

  removeMember(grantId: string): void {
    this.#sql.exec("DELETE FROM member WHERE grant_id = ?", grantId);
  }

  ackMember(grantId: string, generation: number): void {
    this.#sql.exec("UPDATE member SET acked = ? WHERE grant_id = ?", generation, grantId);
  }
}

/**
 * The grant object's SQLite schema, as migrations: each entry runs once, in order, in the
 * transaction that records it (src/grant/storage.ts, `migrate`). docs/storage.md, "Tables", describes what each table holds.
 */
/** Each entry runs once, in order; a later change appends an entry and never edits one. */
export const MIGRATIONS: readonly (readonly string[])[] = [
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
  [`ALTER TABLE session ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0`, `CREATE TABLE IF NOT EXISTS task (id TEXT PRIMARY KEY, opened_seq INTEGER NOT NULL)`],
  // The log becomes the only truth about calls: counter events and pending outcomes move into
  // columns of the records they were derived from, and their tables go.
  [
    `ALTER TABLE audit ADD COLUMN at INTEGER`,
    `ALTER TABLE audit ADD COLUMN request_seq INTEGER`,
    `ALTER TABLE audit ADD COLUMN counted TEXT`,
    `ALTER TABLE audit ADD COLUMN flag INTEGER`,
    `UPDATE audit SET at = CAST((julianday(json_extract(record, '$.time')) - 2440587.5) * 86400000 AS INTEGER)`,
    `UPDATE audit SET request_seq = seq, counted = (SELECT json_group_array(json_array(counter, amount)) FROM counter_event WHERE decision_seq = audit.seq)
       WHERE seq IN (SELECT decision_seq FROM counter_event)`,
    `UPDATE audit SET request_seq = (SELECT p.seq FROM pending p WHERE audit.seq BETWEEN p.seq AND p.last_seq)
       WHERE EXISTS (SELECT 1 FROM pending p WHERE audit.seq BETWEEN p.seq AND p.last_seq)`,
    `UPDATE audit SET flag = 1 WHERE seq IN (SELECT seq FROM pending)`,
    `UPDATE audit SET flag = 2, request_seq = json_extract(record, '$.ref') WHERE json_extract(record, '$.type') = 'outcome'`,
    `DROP TABLE counter_event`,
    `DROP TABLE pending`,
  ],
  // Checkpoints, archive and retention: where the latest record of each kind of upkeep is
  // (src/grant/maintenance-storage.ts).
  [`CREATE TABLE IF NOT EXISTS audit_maintenance (kind TEXT PRIMARY KEY, seq INTEGER NOT NULL)`],
  // Approval requests (docs/approvals.md); their SQL is in src/grant/approval-storage.ts.
  [
    `CREATE TABLE IF NOT EXISTS approval (
       id TEXT PRIMARY KEY, tool TEXT NOT NULL, args_sha256 TEXT NOT NULL, args TEXT, policy TEXT NOT NULL,
       rule TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, requested INTEGER NOT NULL, expires INTEGER NOT NULL,
       decided INTEGER, decided_by TEXT, reason TEXT, request_id TEXT NOT NULL, link TEXT,
       webhook_attempts INTEGER NOT NULL DEFAULT 0, webhook_next INTEGER, indexed TEXT
     )`,
    `CREATE INDEX IF NOT EXISTS approval_call ON approval (tool, args_sha256, requested)`,
    `CREATE INDEX IF NOT EXISTS approval_open ON approval (status, expires)`,
  ],
];

/**
 * SQLite tables of one grant's Durable Object (docs/storage.md describes them). Every statement
 * is idempotent and runs in the constructor; a later change adds statements, never edits these.
 */
export const GRANT_SCHEMA: readonly string[] = [
  // One row: the grant's enforcement state as JSON (token hash, revocation, upstream, policy).
  `CREATE TABLE IF NOT EXISTS grant_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     state TEXT NOT NULL
   )`,
  // Append-only hash chain; `record` is the whole AuditRecord as JSON (verifyAudit re-canonicalizes it).
  `CREATE TABLE IF NOT EXISTS audit (
     seq INTEGER PRIMARY KEY,
     record TEXT NOT NULL
   )`,
  // One row per counter a forwarded tools/call added to, keyed by its decision record.
  `CREATE TABLE IF NOT EXISTS counter_event (
     decision_seq INTEGER NOT NULL,
     counter TEXT NOT NULL,
     at INTEGER NOT NULL,
     amount REAL NOT NULL,
     PRIMARY KEY (decision_seq, counter)
   ) WITHOUT ROWID`,
  // Forwarded requests whose outcome has not been settled; seq..last_seq are their decision records.
  `CREATE TABLE IF NOT EXISTS pending (
     seq INTEGER PRIMARY KEY,
     last_seq INTEGER NOT NULL,
     request_id TEXT NOT NULL,
     at INTEGER NOT NULL
   )`,
  // Open Mcp-Session-Ids minted by the upstream for this grant; a closed session's row is deleted.
  `CREATE TABLE IF NOT EXISTS session (
     id TEXT PRIMARY KEY,
     opened_seq INTEGER NOT NULL
   )`,
];

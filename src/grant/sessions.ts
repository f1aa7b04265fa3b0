/**
 * The upstream sessions (Mcp-Session-Id) bound to a grant, with an idle expiry. Pure: the Durable
 * Object loads the rows, asks, and writes what this says to write.
 *
 * A session id is never authentication (docs/mcp.md, "Sessions"): it is only honoured on requests
 * that already carry the grant's token, and only if it was opened through this grant. One that has
 * not been used for `idleMs` is forgotten, as if the upstream had ended it: the client gets 404 and
 * initializes again. Last-use times are kept exactly in memory but written at most once per
 * `idleMs / 24`, so a busy session does not cost a write per request; after an eviction a session
 * can therefore look up to that much older than it is, never younger.
 */
export const DEFAULT_SESSION_IDLE_MS = 24 * 60 * 60 * 1000;

interface SessionEntry {
  lastUsed: number;
  /** The last-use time as stored. */
  stored: number;
}

export type SessionCheck = "open" | "unknown" | "expired";

export class SessionTable {
  readonly #entries = new Map<string, SessionEntry>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = idleMs > 0 ? idleMs : DEFAULT_SESSION_IDLE_MS;
  }

  /** Restores a stored row; rows written before last-use was kept (0) count as used now. */
  restore(id: string, lastUsed: number, now: number): void {
    const at = lastUsed > 0 ? lastUsed : now;
    this.#entries.set(id, { lastUsed: at, stored: at });
  }

  check(id: string, now: number): SessionCheck {
    const entry = this.#entries.get(id);
    if (entry === undefined) return "unknown";
    return now - entry.lastUsed > this.#idleMs ? "expired" : "open";
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Marks a use; returns true when the stored time is stale enough to be written. */
  touch(id: string, now: number): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    entry.lastUsed = Math.max(entry.lastUsed, now);
    if (entry.lastUsed - entry.stored < this.#idleMs / 24) return false;
    entry.stored = entry.lastUsed;
    return true;
  }

  open(id: string, now: number): void {
    this.#entries.set(id, { lastUsed: now, stored: now });
  }

  /** Forgets a session; true when it was bound. */
  close(id: string): boolean {
    return this.#entries.delete(id);
  }
}

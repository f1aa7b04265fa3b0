/**
 * Every SQL statement about approval requests (the `approval` table; the migration that creates it
 * is in src/grant/storage.ts). Rows are validated with zod when read back, like the grant's state.
 *
 * Storage layout: one row per request. `args` holds the arguments' canonical JSON while the
 * request is pending and is set to NULL when it is decided or expires; `args_sha256` stays.
 * `webhook_next` is when the next webhook delivery is due (NULL: none), `indexed` the status last
 * written to the KV listing index (a row whose status differs is due to be written again).
 *
 * Trade-offs: rows are never deleted (they are small once their values are erased, like task
 * rows), so a request's history stays readable by id for as long as the grant's log.
 */
import { z } from "zod";
import { canonicalJson } from "../canonical-json";
import { approvalStatusSchema, type ApprovalStatus, type StoredApproval } from "./approvals";
import type { PolicyRef } from "./protocol";
import { CorruptGrantStateError } from "./storage";

interface Row {
  id: string;
  tool: string;
  args_sha256: string;
  args: string | null;
  policy: string;
  rule: string;
  message: string;
  status: string;
  requested: number;
  expires: number;
  decided: number | null;
  decided_by: string | null;
  reason: string | null;
  request_id: string;
  link: string | null;
  webhook_attempts: number;
  webhook_next: number | null;
  indexed: string | null;
  [column: string]: SqlStorageValue;
}

const PolicyRefSchema = z.strictObject({ name: z.string(), version: z.int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

function parseRow(row: Row): StoredApproval {
  const status = approvalStatusSchema.safeParse(row.status);
  let policy: z.ZodSafeParseResult<PolicyRef>;
  try {
    policy = PolicyRefSchema.safeParse(JSON.parse(row.policy));
  } catch {
    throw new CorruptGrantStateError("an approval request does not validate");
  }
  if (!status.success || !policy.success) throw new CorruptGrantStateError("an approval request does not validate");
  return {
    id: row.id,
    tool: row.tool,
    argsSha256: row.args_sha256,
    args: row.args,
    policy: policy.data,
    rule: row.rule,
    message: row.message,
    status: status.data,
    requested: row.requested,
    expires: row.expires,
    decided: row.decided,
    decidedBy: row.decided_by,
    reason: row.reason,
    requestId: row.request_id,
    link: row.link,
  };
}

/** A request and its delivery state, for the alarm. */
export interface DeliveryRow {
  approval: StoredApproval;
  attempts: number;
}

export class ApprovalStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #rows(query: string, ...bindings: SqlStorageValue[]): Row[] {
    return this.#sql.exec<Row>(query, ...bindings).toArray();
  }

  /** The latest request for this tool and argument hash, whatever its status. */
  latestFor(tool: string, argsSha256: string): StoredApproval | null {
    const row = this.#rows("SELECT * FROM approval WHERE tool = ? AND args_sha256 = ? ORDER BY requested DESC, rowid DESC LIMIT 1", tool, argsSha256)[0];
    return row === undefined ? null : parseRow(row);
  }

  byId(id: string): StoredApproval | null {
    const row = this.#rows("SELECT * FROM approval WHERE id = ?", id)[0];
    return row === undefined ? null : parseRow(row);
  }

  /** A new request; `webhookNext` is when its first delivery is due (null: no webhook). */
  insert(a: StoredApproval, webhookNext: number | null): void {
    this.#sql.exec(
      `INSERT INTO approval (id, tool, args_sha256, args, policy, rule, message, status, requested, expires, decided, decided_by, reason, request_id, link, webhook_next)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.id,
      a.tool,
      a.argsSha256,
      a.args,
      canonicalJson(a.policy),
      a.rule,
      a.message,
      a.status,
      a.requested,
      a.expires,
      a.decided,
      a.decidedBy,
      a.reason,
      a.requestId,
      a.link,
      webhookNext,
    );
  }

  /** Writes what a decision, a consumption or an expiry changed; a request no longer pending needs no webhook. */
  update(a: StoredApproval): void {
    this.#sql.exec(
      `UPDATE approval SET status = ?, args = ?, decided = ?, decided_by = ?, reason = ?,
         webhook_next = CASE WHEN ? = 'pending' THEN webhook_next ELSE NULL END WHERE id = ?`,
      a.status,
      a.args,
      a.decided,
      a.decidedBy,
      a.reason,
      a.status,
      a.id,
    );
  }

  /** Requests still marked open that have expired, or were made under another policy than `policy`. */
  lapsed(now: number, policy: PolicyRef | null): StoredApproval[] {
    const rows = this.#rows(
      "SELECT * FROM approval WHERE status IN ('pending', 'approved') AND (expires <= ? OR policy != ?)",
      now,
      policy === null ? "" : canonicalJson(policy),
    );
    return rows.map(parseRow);
  }

  /** Pending requests whose webhook delivery is due, oldest first. */
  dueDeliveries(now: number, limit: number): DeliveryRow[] {
    return this.#rows(
      "SELECT * FROM approval WHERE status = 'pending' AND webhook_next IS NOT NULL AND webhook_next <= ? ORDER BY webhook_next LIMIT ?",
      now,
      limit,
    ).map((row) => ({
      approval: parseRow(row),
      attempts: row.webhook_attempts,
    }));
  }

  /** After an attempt: `next` null when delivered or given up. */
  setDelivery(id: string, attempts: number, next: number | null): void {
    this.#sql.exec(
      "UPDATE approval SET webhook_attempts = ?, webhook_next = CASE WHEN status = 'pending' THEN ? ELSE NULL END WHERE id = ?",
      attempts,
      next,
      id,
    );
  }

  /** Requests whose status the KV listing index does not show yet. */
  unindexed(limit: number): StoredApproval[] {
    return this.#rows("SELECT * FROM approval WHERE indexed IS NULL OR indexed != status LIMIT ?", limit).map(parseRow);
  }

  setIndexed(id: string, status: ApprovalStatus): void {
    this.#sql.exec("UPDATE approval SET indexed = ? WHERE id = ?", status, id);
  }

  /** When there is next something to do: an open request expires, a delivery is due, the index lags (now). */
  nextWake(now: number): number | null {
    const row = this.#sql
      .exec<{ expiry: number | null; delivery: number | null; lagging: number }>(
        `SELECT (SELECT MIN(expires) FROM approval WHERE status IN ('pending', 'approved')) AS expiry,
                (SELECT MIN(webhook_next) FROM approval WHERE status = 'pending') AS delivery,
                (SELECT COUNT(*) FROM (SELECT 1 FROM approval WHERE indexed IS NULL OR indexed != status LIMIT 1)) AS lagging`,
      )
      .toArray()[0];
    const times = [row?.expiry ?? null, row?.delivery ?? null, row !== undefined && row.lagging > 0 ? now : null].filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }
}

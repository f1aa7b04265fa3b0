/**
 * `audit`: reading a grant's audit records for a person. Pure: the time it filters against and the
 * records it formats are given to it.
 *
 * The CLI pages records by `seq` (`?after=&limit=`) and applies `--decision`, `--tool` and `--since`
 * here, on the client (docs/cli.md says so; the admin API could filter them on the server).
 */
import type { AuditRecord } from "../grant/protocol";
import { err, ok, type Result } from "../result";
import { printable, type Palette } from "./style";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `7d` before `now`, or an ISO 8601 time; as an ISO time. */
export function parseSince(text: string, now: Date): Result<string, string> {
  const relative = /^(\d+)([smhd])$/.exec(text.trim());
  if (relative) return ok(new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!).toISOString());
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) return ok(new Date(Date.parse(text)).toISOString());
  return err(`--since takes a duration such as 30m, 1h or 7d, or an ISO time such as 2026-05-01T12:00:00Z; got ${JSON.stringify(text)}`);
}

/** `2s`, `500ms`, `1m`: how often `--follow` asks for new records. */
export function parseInterval(text: string): Result<number, string> {
  const match = /^(\d+)(ms|s|m)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (match[2] === "ms" ? 1 : UNITS[match[2]!]!) : NaN;
  if (!(ms >= 200 && ms <= 3_600_000)) return err(`--interval takes a duration between 200ms and 60m, such as 2s; got ${JSON.stringify(text)}`);
  return ok(ms);
}

export interface AuditFilter {
  /** Decision values to keep (AUDIT_DECISIONS, or an admin action); null keeps all. */
  decisions: ReadonlySet<string> | null;
  tool: string | null;
  /** ISO time; records at or after it. */
  since: string | null;
}

export const matches = (record: AuditRecord, filter: AuditFilter): boolean =>
  (filter.decisions === null || filter.decisions.has(record.decision)) &&
  (filter.tool === null || record.tool === filter.tool) &&
  (filter.since === null || record.time >= filter.since);

/**
 * The `decision` values by record type (src/grant/protocol.ts, AuditRecord): what `--decision`
 * filters on. Admin records carry the change they record (`rotate`, `revoke`, `set_policy`, …) instead.
 */
export const AUDIT_DECISIONS = {
  decision: ["allow", "deny", "monitor_deny", "reject"],
  outcome: ["ok", "error", "unknown"],
  approval: ["requested", "approved", "rejected", "expired", "consumed", "restored"],
  upkeep: ["signed", "written", "deleted"],
} as const;

export const AUDIT_COLUMNS = ["seq", "time", "type", "decision", "target", "code", "detail"] as const;

const GREEN = new Set(["allow", "ok", "approved", "consumed", "restored"]);
const RED = new Set(["deny", "reject", "error", "rejected"]);
const YELLOW = new Set(["monitor_deny", "unknown", "requested", "expired"]);

function decisionColour(decision: string, colours: Palette): string {
  if (GREEN.has(decision)) return colours.green(decision);
  if (RED.has(decision)) return colours.red(decision);
  return YELLOW.has(decision) ? colours.yellow(decision) : decision;
}

/** What the DETAIL column says: an outcome's status and latency; else the message or the argument names; and the approval it concerns. */
function detailOf(record: AuditRecord): string {
  if (record.type === "outcome") {
    return [record.status === null ? null : `HTTP ${record.status}`, record.latencyMs === null ? null : `${record.latencyMs} ms`, record.message]
      .filter((part) => part !== null)
      .join(", ");
  }
  const text = record.message ?? (record.argKeys && record.argKeys.length > 0 ? `args: ${record.argKeys.join(", ")}` : "");
  if (record.approval === undefined) return text;
  const by = record.approval.by === undefined ? "" : ` by ${record.approval.by}`;
  return `${record.approval.id}${by}${text === "" ? "" : `: ${text}`}`;
}

/** One table row. Agent-controlled text (tool names, messages) is made printable first. */
export function auditRow(record: AuditRecord, colours: Palette): string[] {
  const target = record.type === "outcome" ? `#${record.ref ?? "?"}` : printable(record.tool ?? record.rpcMethod ?? record.httpMethod ?? "");
  return [
    String(record.seq),
    record.time.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    record.type,
    decisionColour(record.decision, colours),
    target,
    record.code ?? "",
    colours.dim(printable(detailOf(record))),
  ];
}

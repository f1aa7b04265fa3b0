/**
 * `mpg audit <grant>` and `mpg audit verify <grant>`: a grant's hash-chained audit log (README,
 * "Audit"). Records are read from the grant's Durable Object, so deleted grants work too.
 *
 * The CLI pages the admin API by `seq` and applies the filters (`--decision`, `--tool`, `--since`)
 * itself (src/cli/audit-query.ts), though the admin API can filter too (docs/cli.md). To avoid
 * reading a long log from the start, the last seq and the first record of `--since` are found by
 * bisection over small pages (seq is dense and time grows with it). `--follow` polls for records after the last one seen, like `tail -f`.
 *
 * `audit verify --local` recomputes the chain here with `verifyServedLog` (src/grant/audit.ts),
 * which also accepts the one other documented start: after retention, a log that begins where its
 * own `pruned` record says. A signed export is checked offline by `verify-audit` (verify-audit.ts).
 */
import type { Command } from "commander";
import { lastSeq, READ_PAGE, type ReadAudit } from "../../audit/query";
import { verifyServedLog, type ServedLogCheck } from "../../grant/audit";
import type { AuditPage, AuditRecord } from "../../grant/protocol";
import { segment, type AdminApi } from "../admin-api";
import { AUDIT_COLUMNS, AUDIT_DECISIONS, auditRow, matches, parseInterval, parseSince, type AuditFilter } from "../audit-query";
import { exportAudit } from "./audit-export";
import { action, emit, type Cli, type GlobalOptions } from "../context";
import { CliFailure, EXIT, GatewayRefusal, reported, usageError } from "../failure";
import { displayWidth, table } from "../style";

function auditLog(api: AdminApi, grantId: string) {
  const page: ReadAudit = (after, limit) => api.get<AuditPage>(`/grants/${segment(grantId)}/audit?after=${after}&limit=${limit}`);
  /** The record right after seq `after`, if any. */
  const recordAfter = async (after: number): Promise<AuditRecord | null> => (await page(after, 1)).records[0] ?? null;
  return {
    page,
    /** The highest seq, 0 when the log is empty (src/audit/query.ts). */
    lastSeq: () => lastSeq(page),
    /**
     * The first seq whose time is at or after `since` (last + 1 if none). Not `seqBefore` from
     * src/audit/query.ts: that compares `Date.parse` times, and `--since` is compared as an ISO
     * string here and in `matches`; the two orders differ for a `--since` past year 9999.
     */
    async firstSince(since: string, last: number): Promise<number> {
      let low = 1;
      let high = last + 1;
      while (low < high) {
        const middle = Math.floor((low + high) / 2);
        const record = await recordAfter(middle - 1);
        if (record !== null && record.time >= since) high = middle;
        else low = middle + 1;
      }
      return low;
    },
  };
}

type AuditLog = ReturnType<typeof auditLog>;

/** Widths for `--follow`, where rows are printed as they come and cannot be aligned afterwards. */
const FOLLOW_WIDTHS = [6, 20, 8, 12, 24, 14];

function followRow(cells: readonly string[]): string {
  return `${cells
    .map((cell, i) => (i < FOLLOW_WIDTHS.length ? cell + " ".repeat(Math.max(1, FOLLOW_WIDTHS[i]! - displayWidth(cell) + 2)) : cell))
    .join("")
    .trimEnd()}\n`;
}

interface AuditOptions {
  decision: string[];
  tool?: string;
  since?: string;
  limit: string;
  follow?: boolean;
  interval: string;
}

export function registerAudit(program: Command, cli: Cli): void {
  const audit = listAudit(program, cli);
  verifyAudit(audit, cli);
  exportAudit(audit, cli);
}

function listAudit(program: Command, cli: Cli): Command {
  return program
    .command("audit")
    .description("A grant's audit records; `audit verify` checks the hash chain, `audit export` saves a signed export")
    .argument("<grant>", "the grant id (deleted grants too)")
    .option(
      "--decision <decision>",
      "only these decisions (repeatable, or comma-separated; listed below)",
      (v: string, p: string[]) => [...p, ...v.split(",")],
      [],
    )
    .option("--tool <name>", "only calls of this tool")
    .option("--since <when>", "only records since a duration ago (30m, 1h, 7d) or an ISO time")
    .option("--limit <n>", "at most this many records, the most recent", "50")
    .option("-f, --follow", "keep polling for new records, like tail -f (Ctrl-C to stop)")
    .option("--interval <duration>", "how often --follow polls", "2s")
    .addHelpText(
      "after",
      `
Decisions, by record type:
  decision  ${AUDIT_DECISIONS.decision.join(", ")}
  outcome   ${AUDIT_DECISIONS.outcome.join(", ")}
  approval  ${AUDIT_DECISIONS.approval.join(", ")}
  upkeep    ${AUDIT_DECISIONS.upkeep.join(", ")} (checkpoint, archived, pruned)
  admin     the change: rotate, revoke, set_label, set_policy, set_upstream, …

Filters are applied by the CLI. With --json, --follow prints one record per line (NDJSON).

Examples:
  $ mpg audit g0123… --decision deny --since 1h
  $ mpg audit g0123… --decision requested,approved,rejected,expired,consumed,restored
  $ mpg audit g0123… --tool create_refund --follow
  $ mpg audit verify g0123…
  $ mpg audit export g0123… -o audit.ndjson && mpg verify-audit audit.ndjson --key audit-keys.json`,
    )
    .action(
      action<AuditOptions>(async ([grantId], options) => {
        const { filter, limit, intervalMs } = auditQuery(cli, options);
        const api = await cli.gateway(options);
        const log = auditLog(api, grantId!);
        const { shown, after } = await matchingRecords(log, filter, limit);
        if (options.follow) return follow(cli, options, log, filter, shown, after, intervalMs);
        emit(cli, options, { grantId, filter: { ...filter, decisions: filter.decisions && [...filter.decisions] }, records: shown }, () =>
          shown.length === 0
            ? `No records${unfiltered(filter) ? "" : " match"}.\n`
            : table(
                [...AUDIT_COLUMNS],
                shown.map((r) => auditRow(r, cli.terminal.stdout)),
                cli.terminal.stdout,
              ),
        );
      }),
    );
}

/** The options of `mpg audit`, checked before anything is sent. */
function auditQuery(cli: Cli, options: AuditOptions): { filter: AuditFilter; limit: number; intervalMs: number } {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw usageError("--limit takes a whole number from 1 to 100000");
  const interval = parseInterval(options.interval);
  if (!interval.ok) throw usageError(interval.error);
  let since: string | null = null;
  if (options.since !== undefined) {
    const parsed = parseSince(options.since, cli.now());
    if (!parsed.ok) throw usageError(parsed.error);
    since = parsed.value;
  }
  const filter: AuditFilter = {
    decisions: options.decision.length === 0 ? null : new Set(options.decision.map((d) => d.trim())),
    tool: options.tool ?? null,
    since,
  };
  return { filter, limit, intervalMs: interval.value };
}

const unfiltered = (filter: AuditFilter): boolean => filter.decisions === null && filter.tool === null && filter.since === null;

/**
 * The most recent `limit` records that match, and the last seq read. Reading starts at the first
 * record of `--since`, or `limit` records from the end when nothing else filters, else at the start.
 */
async function matchingRecords(log: AuditLog, filter: AuditFilter, limit: number): Promise<{ shown: AuditRecord[]; after: number }> {
  const last = await log.lastSeq();
  let after = filter.since !== null ? (await log.firstSince(filter.since, last)) - 1 : unfiltered(filter) ? Math.max(0, last - limit) : 0;
  const shown: AuditRecord[] = [];
  for (;;) {
    const { records, next } = await log.page(after, READ_PAGE);
    for (const record of records) {
      if (!matches(record, filter)) continue;
      shown.push(record);
      if (shown.length > limit) shown.shift();
    }
    after = records.at(-1)?.seq ?? after;
    if (next === null) break;
  }
  return { shown, after };
}

type ChainCheck = { ok: true; count: number } | { ok: false; brokenAt: number };

function verifyAudit(audit: Command, cli: Cli): void {
  audit
    .command("verify")
    .description("Check the grant's audit hash chain; exit 1 if it is broken")
    .argument("<grant>", "the grant id")
    .option("--local", "also download every record and recompute the chain here, independently of the gateway")
    .addHelpText("after", "\nExamples:\n  $ mpg audit verify g0123…\n  $ mpg audit verify g0123… --local")
    .action(
      action<{ local?: boolean }>(async ([grantId], options) => {
        const api = await cli.gateway(options);
        const remote = await api.get<ChainCheck>(`/grants/${segment(grantId!)}/audit/verify`);
        const local = options.local ? await recomputeChain(auditLog(api, grantId!)) : null;
        const ok = remote.ok && (local === null || local.ok);
        const colours = cli.terminal.stdout;
        emit(cli, options, { grantId, ok, gateway: remote, ...(local === null ? {} : { local }) }, () => {
          const line = (who: string, check: ChainCheck | ServedLogCheck) =>
            check.ok
              ? `${colours.green("✓")} ${who}: the chain of ${check.count} records is intact${"start" in check && check.start.seq > 0 ? ` (from seq ${check.start.seq + 1}; retention deleted the records before it)` : ""}\n`
              : `${colours.red("✖")} ${who}: the chain is broken at seq ${check.brokenAt}${"reason" in check ? `: ${check.reason}` : ""}\n`;
          return line("gateway", remote) + (local === null ? "" : line("recomputed here", local));
        });
        if (!ok) throw reported(EXIT.errors);
      }),
    );
}

/** `audit verify --local`: every record downloaded and the chain recomputed here (src/grant/audit.ts). */
async function recomputeChain(log: AuditLog): Promise<ServedLogCheck> {
  const records: AuditRecord[] = [];
  for (let after = 0; ; ) {
    const page = await log.page(after, READ_PAGE);
    records.push(...page.records);
    if (page.next === null) break;
    after = page.next;
  }
  return verifyServedLog(records);
}

async function follow(
  cli: Cli,
  options: GlobalOptions,
  log: AuditLog,
  filter: AuditFilter,
  shown: AuditRecord[],
  after: number,
  intervalMs: number,
): Promise<void> {
  const { terminal } = cli;
  const print = (record: AuditRecord) => terminal.out(options.json ? `${JSON.stringify(record)}\n` : followRow(auditRow(record, terminal.stdout)));
  if (!options.json) terminal.out(terminal.stdout.bold(followRow(AUDIT_COLUMNS.map((c) => c.toUpperCase()))));
  shown.forEach(print);

  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    while (!stopping) {
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, intervalMs))]);
      if (stopping) break;
      try {
        for (;;) {
          const { records, next } = await log.page(after, READ_PAGE);
          for (const record of records) if (matches(record, filter)) print(record);
          after = records.at(-1)?.seq ?? after;
          if (next === null) break;
        }
      } catch (error) {
        // A refusal (the grant is gone, the token was changed) ends the follow; a network blip does not.
        if (error instanceof GatewayRefusal || !(error instanceof CliFailure)) throw error;
        terminal.err(terminal.stderr.yellow(`warning: ${error.message}; retrying\n`));
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

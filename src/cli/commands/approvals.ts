/**
 * `mpg approvals list|show|approve|reject`: the approver's side of human approvals
 * (docs/approvals.md, "The approver's side"), over /admin/approvals.
 *
 * The grant's Durable Object is the authority: the CLI shows what the admin API answers and decides
 * nothing itself. Argument values are shown only by `show`, and only while the request is pending,
 * because that is when the admin API returns them; they are the agent's text, so they are made
 * printable. The first decision wins: a second gets 409 from the gateway, which exits 3 with a
 * message naming the first decision (status, who, when, and its reason).
 */
import type { Command } from "commander";
import { APPROVAL_STATUSES as STATUSES, type ApprovalStatus, type ApprovalView } from "../../grant/approvals";
import { segment } from "../admin-api";
import { action, emit, type Cli } from "../context";
import { GatewayRefusal, usageError } from "../failure";
import { fields, printable, table, type Palette } from "../style";

/** The admin API's largest page. */
const PAGE = 100;

export function registerApprovals(program: Command, cli: Cli): void {
  const approvals = program.command("approvals").description("Human approvals: list, show, approve, reject");
  listApprovals(approvals, cli);
  showApproval(approvals, cli);
  decideApproval(approvals, cli, "approve");
  decideApproval(approvals, cli, "reject");
}

function statusColour(status: ApprovalStatus, colours: Palette): string {
  if (status === "pending") return colours.yellow(status);
  if (status === "approved" || status === "consumed") return colours.green(status);
  return status === "rejected" ? colours.red(status) : colours.dim(status);
}

interface ListOptions {
  status?: string;
  server?: string;
  grant?: string;
  limit: string;
}

function listQuery(options: ListOptions): { query: URLSearchParams; limit: number } {
  if (options.status !== undefined && !(STATUSES as readonly string[]).includes(options.status)) {
    throw usageError(`--status must be one of ${STATUSES.join(", ")}`);
  }
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw usageError("--limit takes a whole number from 1 to 10000");
  const query = new URLSearchParams();
  if (options.status !== undefined) query.set("status", options.status);
  if (options.server !== undefined) query.set("serverId", options.server);
  if (options.grant !== undefined) query.set("grantId", options.grant);
  return { query, limit };
}

function listApprovals(approvals: Command, cli: Cli): void {
  approvals
    .command("list")
    .description("List approval requests, newest index entries first (without argument values)")
    .option("--status <status>", `only requests in this status: ${STATUSES.join(", ")}`)
    .option("--server <id>", "only the requests of this server's grants")
    .option("--grant <id>", "only the requests of this grant")
    .option("--limit <n>", "at most this many requests", "50")
    .addHelpText("after", "\nExamples:\n  $ mpg approvals list --status pending\n  $ mpg approvals list --server payments --grant g0123… --json")
    .action(
      action<ListOptions>(async (_args, options) => {
        const { query, limit } = listQuery(options);
        const api = await cli.gateway(options);
        const list: ApprovalView[] = [];
        // A status filter may leave a page short while more follow: pages are read until `limit` or the end.
        for (let cursor: string | null = null; list.length < limit; ) {
          query.set("limit", String(Math.min(PAGE, limit - list.length)));
          if (cursor !== null) query.set("cursor", cursor);
          const page: { approvals: ApprovalView[]; next: string | null } = await api.get(`/approvals?${query}`);
          list.push(...page.approvals.slice(0, limit - list.length));
          cursor = page.next;
          if (cursor === null) break;
        }
        const colours = cli.terminal.stdout;
        emit(cli, options, { approvals: list }, () =>
          list.length === 0
            ? "No approval requests.\n"
            : table(
                ["id", "status", "tool", "grant", "server", "requested", "expires"],
                list.map((a) => [a.id, statusColour(a.status, colours), printable(a.tool), printable(a.grantLabel), a.serverId, a.requested, a.expires]),
                colours,
              ),
        );
      }),
    );
}

/** `show`, and the answer to approve or reject: every field, and the values while pending. */
function describeApproval(a: ApprovalView, colours: Palette): string {
  const decided = a.decided === null ? [] : ([["decided", `${a.decided}${a.decidedBy === null ? "" : ` by ${a.decidedBy}`}`]] as const);
  const values =
    a.arguments !== undefined
      ? // JSON.stringify escapes C0 controls itself; its only raw newlines are the layout's.
        JSON.stringify(a.arguments, null, 2).split("\n").map(printable).join("\n")
      : colours.dim(a.status === "pending" ? "(not shown)" : "(erased once the request was decided or expired; their SHA-256 stays)");
  return `${fields(
    [
      ["id", a.id],
      ["status", statusColour(a.status, colours)],
      ["tool", printable(a.tool)],
      ["grant", `${a.grantId} (${printable(a.grantLabel)})`],
      ["server", a.serverId],
      ["policy", `${a.policy.name} version ${a.policy.version}`],
      ["rule", a.rule],
      ["message", printable(a.message)],
      ["requested", a.requested],
      ["expires", a.expires],
      ...decided,
      ...(a.reason === null ? [] : ([["reason", printable(a.reason)]] as const)),
      ["argsSha256", a.argsSha256],
    ],
    colours,
  )}${colours.dim("arguments:")}\n${values}\n`;
}

function showApproval(approvals: Command, cli: Cli): void {
  approvals
    .command("show")
    .description("One approval request, with its argument values while it is pending")
    .argument("<id>", "the approval id (apr_…)")
    .addHelpText("after", "\nExamples:\n  $ mpg approvals show apr_g0123…\n  $ mpg approvals show apr_g0123… --json")
    .action(
      action(async ([id], options) => {
        const api = await cli.gateway(options);
        const approval = await api.get<ApprovalView>(`/approvals/${segment(id!)}`);
        emit(cli, options, approval, () => describeApproval(approval, cli.terminal.stdout));
      }),
    );
}

/**
 * A 409 names the first decision in the gateway's message; its reason is in `details`. Argument
 * values are never in a refusal (the gateway's view of a decided request has none).
 */
function firstDecision(error: unknown): unknown {
  if (!(error instanceof GatewayRefusal) || error.status !== 409) return error;
  const details = error.details as Partial<ApprovalView> | undefined;
  const reason = typeof details?.reason === "string" ? ` (reason: ${JSON.stringify(printable(details.reason))})` : "";
  return new GatewayRefusal(error.status, error.code, `${error.message}${reason}`, error.details);
}

function decideApproval(approvals: Command, cli: Cli, verdict: "approve" | "reject"): void {
  const done = verdict === "approve" ? "Approved" : "Rejected";
  approvals
    .command(verdict)
    .description(
      verdict === "approve"
        ? "Approve a pending request: the agent's identical call may then pass, once"
        : "Reject a pending request: the agent's call is refused",
    )
    .argument("<id>", "the approval id (apr_…)")
    .option("--reason <text>", verdict === "approve" ? "why (kept in the audit log)" : "why (shown to the agent and kept in the audit log)")
    .addHelpText(
      "after",
      `
The first decision wins: if someone decided first, the gateway refuses (exit 3) and says how.

Examples:
  $ mpg approvals ${verdict} apr_g0123…${verdict === "reject" ? ' --reason "Refunds above 900 go through finance"' : ""}
  $ mpg approvals ${verdict} apr_g0123… --reason "checked with the customer" --json`,
    )
    .action(
      action<{ reason?: string }>(async ([id], options) => {
        if (options.reason !== undefined && options.reason.trim() === "") throw usageError("--reason must not be empty");
        const api = await cli.gateway(options);
        const body = options.reason === undefined ? {} : { reason: options.reason };
        const approval = await api.post<ApprovalView>(`/approvals/${segment(id!)}/${verdict}`, body).catch((error: unknown) => {
          throw firstDecision(error);
        });
        const colours = cli.terminal.stdout;
        emit(
          cli,
          options,
          approval,
          () => `${colours.green("✓")} ${done} ${approval.id}: ${printable(approval.tool)} for grant ${printable(approval.grantLabel)}\n`,
        );
      }),
    );
}

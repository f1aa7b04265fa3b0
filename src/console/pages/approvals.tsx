/**
 * The approvals inbox, /console/approvals (docs/console.md, "Approvals"): requests waiting for a
 * person, soonest to expire first, each with its argument values and Approve / Reject; then the
 * recent decisions. Everything goes through the admin API's /admin/approvals routes, so the grant's
 * Durable Object decides and the first decision wins; a decision that loses says which one won.
 *
 * The approver the gateway records is "admin": the console's session stands for the admin token
 * (src/console/session.ts) and names no person, and the admin API records every decision made with
 * that token as "admin".
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ApprovalView } from "../../grant/approvals";
import { adminFor, valueOrThrow, type AdminCall, type AdminFailure } from "../admin-client";
import { readPostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { firstDecision, sortInbox, type Inbox } from "../inbox";
import { Notice, Page } from "../layout";
import { DecidedApprovals, PendingApproval } from "./approvals-list";

export const approvals = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

/** Index entries read per page, and pages read per visit: the inbox reads at most 500 entries. */
const PAGE_SIZE = 100;
const MAX_PAGES = 5;
/** Pending requests shown with their values (each is one read of its grant's object). */
const MAX_PENDING = 50;

interface Loaded {
  inbox: Inbox;
  /** The index holds more than the inbox read: filter by server to see the rest. */
  truncated: boolean;
  serverFilter: string | null;
}

/** Every listed request (without values), a page at a time, up to MAX_PAGES pages. */
async function listed(admin: AdminCall, serverId: string | null): Promise<{ views: ApprovalView[]; truncated: boolean }> {
  const views: ApprovalView[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (serverId !== null) query.set("serverId", serverId);
    if (cursor !== null) query.set("cursor", cursor);
    const page = valueOrThrow(await admin<{ approvals: ApprovalView[]; next: string | null }>("GET", `/approvals?${query}`));
    views.push(...page.approvals);
    cursor = page.next;
    if (cursor === null) break;
  }
  return { views, truncated: cursor !== null };
}

async function loadInbox(c: C, serverId: string | null): Promise<Loaded> {
  const admin = adminFor(c);
  const { views, truncated } = await listed(admin, serverId);
  const { pending, decided } = sortInbox(views);
  // Listings carry no values; one read per pending request does, while it is still pending.
  const detailed = await Promise.all(
    pending.slice(0, MAX_PENDING).map(async (view) => {
      const read = await admin<ApprovalView>("GET", `/approvals/${encodeURIComponent(view.id)}`);
      return read.ok ? read.value : view;
    }),
  );
  const now = sortInbox([...detailed, ...decided]);
  return { inbox: { pending: now.pending, decided: now.decided }, truncated: truncated || pending.length > MAX_PENDING, serverFilter: serverId };
}

interface Outcome {
  notice?: string;
  failure?: AdminFailure;
  verdict?: string;
}

function DecisionRefused(props: { failure: AdminFailure; verdict: string }) {
  const { failure } = props;
  const first = firstDecision(failure.error, failure.details);
  return (
    <div class="notice error" role="alert">
      <p>
        <strong>{props.verdict === "reject" ? "Not rejected" : "Not approved"}</strong> <code>{failure.error}</code>
      </p>
      <p>{failure.message}</p>
      {first === null ? null : <p class="first-decision">{first}</p>}
    </div>
  );
}

function ApprovalsPage(props: Loaded & Outcome & { now: number }) {
  const { inbox } = props;
  return (
    <Page title="Approvals" nav="approvals">
      {props.serverFilter !== null ? (
        <p>
          Requests of server <code>{props.serverFilter}</code> · <a href="/console/approvals">all servers</a>
        </p>
      ) : null}
      {props.failure ? <DecisionRefused failure={props.failure} verdict={props.verdict ?? "approve"} /> : null}
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.truncated ? (
        <Notice kind="warn">There are more requests than this page reads at once; open a server's requests (?server=) to see the rest.</Notice>
      ) : null}
      <section aria-labelledby="pending">
        <h2 id="pending">Waiting for a decision ({inbox.pending.length})</h2>
        {inbox.pending.length === 0 ? (
          <p>
            Nothing is waiting. A policy's <code>approve_if</code> or <code>approve: true</code> holds a call here (docs/approvals.md).
          </p>
        ) : (
          inbox.pending.map((view, index) => <PendingApproval view={view} index={index} now={props.now} />)
        )}
      </section>
      <section aria-labelledby="decided">
        <h2 id="decided">Decided recently</h2>
        {inbox.decided.length === 0 ? <p>No decisions yet.</p> : <DecidedApprovals list={inbox.decided} />}
      </section>
    </Page>
  );
}

const NOTICES: Record<string, string> = {
  approved: "Approved: the held call (or the agent's next identical call) goes through, once.",
  rejected: "Rejected: the agent is told the reason, or the policy's on_deny message.",
};

approvals.get("/approvals", async (c) => {
  const loaded = await loadInbox(c, c.req.query("server") ?? null);
  const done = Object.keys(NOTICES).find((key) => c.req.query(key) !== undefined);
  return c.html(<ApprovalsPage {...loaded} now={Date.now()} notice={done === undefined ? undefined : NOTICES[done]} />);
});

/** Approve or reject one request; the id and the reason travel in the form, never in a URL. */
approvals.post("/approvals/decide", async (c) => {
  const form = await readPostedForm(c);
  const id = form.get("id") ?? "";
  const verdict = form.get("verdict");
  if (verdict !== "approve" && verdict !== "reject") {
    return c.html(
      <ApprovalsPage
        {...(await loadInbox(c, null))}
        now={Date.now()}
        failure={{ status: 400, error: "invalid_verdict", message: "Choose Approve or Reject." }}
      />,
      400,
    );
  }
  // Browsers send a textarea's line breaks as CRLF; the API takes newlines but no other control character.
  const reason = (form.get("reason") ?? "").replace(/\r\n?/g, "\n").trim();
  const body = reason === "" ? {} : { reason };
  const decided = await adminFor(c)("POST", `/approvals/${encodeURIComponent(id)}/${verdict}`, body);
  if (decided.ok) return c.redirect(`/console/approvals?${verdict === "approve" ? "approved" : "rejected"}`, 303);
  const status = decided.error.status === 409 ? 409 : decided.error.status === 404 ? 404 : decided.error.status >= 500 ? 502 : 400;
  return c.html(<ApprovalsPage {...(await loadInbox(c, null))} now={Date.now()} failure={decided.error} verdict={verdict} />, status);
});

/**
 * /admin/approvals: the approver's side of approval requests (docs/approvals.md).
 *
 * The grant's Durable Object is the authority: reading one request, approving and rejecting all go
 * to it (the approval id names the grant). Listing reads the KV index for a page of ids, then asks
 * each grant's object for their current state, so a stale index can hide or delay an entry but
 * never shows a status the object does not hold, and never lets a decision bypass the object.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { approvalStatusSchema, type ApprovalError, type ApprovalStatus, type ApprovalVerdict, type ApprovalView } from "../grant/approvals";
import { MAX_REASON_CHARS } from "../grant/approval-records";
import { grantOfApprovalId } from "../grant/token";
import { listApprovalIndex } from "../store/approvals";
import { grantIdSchema } from "../store/grants";
import { APPROVAL_INDEX_PREFIX, approvalGrantPrefix, approvalServerPrefix } from "../store/keys";
import { serverIdSchema } from "../store/servers";
import { readBody, validate } from "./body";
import { AdminError, notFound } from "./errors";
import { callGrant, isGrantId } from "./grant-object";

const ListQuery = z.strictObject({
  status: approvalStatusSchema.optional(),
  serverId: serverIdSchema.optional(),
  grantId: grantIdSchema.optional(),
  cursor: z.string().min(1).max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const Verdict = z.strictObject({
  reason: z
    .string()
    .min(1)
    .max(MAX_REASON_CHARS)
    // Shown to the agent and kept in the audit log: text, not control characters (newlines are fine).
    .refine((text) => !/\p{Cc}/u.test(text.replaceAll("\n", "")), "must not contain control characters other than newlines")
    .optional(),
});

/**
 * How an index entry's status can still move: forward, except that a consumed approval whose call
 * never reached the upstream is approved again (docs/approvals.md).
 */
const LATER: Readonly<Record<ApprovalStatus, readonly ApprovalStatus[]>> = {
  pending: ["approved", "rejected", "expired", "consumed"],
  approved: ["consumed", "expired"],
  rejected: [],
  expired: [],
  consumed: ["approved", "expired"],
};

/** The grant an approval id names, if it is one this gateway minted; else 404. */
function grantOf(env: Env, id: string): string {
  const grantId = grantOfApprovalId(id);
  if (grantId === null || !isGrantId(env, grantId)) throw notFound("approval", id);
  return grantId;
}

/** The listing prefix for the filters; a grant alone is looked up to find its server. */
async function prefixFor(env: Env, serverId: string | undefined, grantId: string | undefined): Promise<string> {
  if (grantId === undefined) return serverId === undefined ? APPROVAL_INDEX_PREFIX : approvalServerPrefix(serverId);
  if (serverId !== undefined) return approvalGrantPrefix(serverId, grantId);
  if (!isGrantId(env, grantId)) throw notFound("grant", grantId);
  const info = await callGrant(env, grantId, (grant) => grant.info());
  if (info === null) throw notFound("grant", grantId);
  return approvalGrantPrefix(info.serverId, grantId);
}

/** The current state of listed ids, from their grants' objects, in the index's order. */
async function currentViews(env: Env, ids: readonly string[]): Promise<ApprovalView[]> {
  const byGrant = new Map<string, string[]>();
  for (const id of ids) {
    const grantId = grantOfApprovalId(id);
    if (grantId === null || !isGrantId(env, grantId)) continue;
    byGrant.set(grantId, [...(byGrant.get(grantId) ?? []), id]);
  }
  const views = await Promise.all([...byGrant].map(([grantId, list]) => callGrant(env, grantId, (grant) => grant.approvals(list))));
  const found = new Map(views.flat().map((view) => [view.id, view]));
  return ids.flatMap((id) => found.get(id) ?? []);
}

function refusal(id: string, error: ApprovalError): AdminError {
  if (error.code === "not_found") return notFound("approval", id);
  const a = error.approval;
  if (error.code === "decided") {
    const by = a.decidedBy === null ? "" : ` by ${a.decidedBy}`;
    return new AdminError(
      409,
      "approval_decided",
      `Approval ${id} was already ${a.status}${by} at ${a.decided ?? "an earlier time"}; the first decision stands`,
      a,
    );
  }
  return new AdminError(409, "approval_expired", `Approval ${id} expired (${a.expires}) or its policy changed; the agent's next call opens a new request`, a);
}

async function decide(c: Context<{ Bindings: Env }>, verdict: ApprovalVerdict): Promise<ApprovalView> {
  const id = c.req.param("id") ?? "";
  const grantId = grantOf(c.env, id);
  const { reason } = await readBody(c, Verdict, {});
  // "admin": the admin token is the only approver identity the gateway knows.
  const result = await callGrant(c.env, grantId, (grant) => grant.decideApproval(id, verdict, "admin", reason ?? null));
  if (!result.ok) throw refusal(id, result.error);
  return result.value;
}

export const approvals = new Hono<{ Bindings: Env }>();

approvals.get("/approvals", async (c) => {
  const query = validate(ListQuery, c.req.query(), "invalid_query");
  const prefix = await prefixFor(c.env, query.serverId, query.grantId);
  const page = await listApprovalIndex(c.env.RECORDS, prefix, query.cursor ?? null, query.limit);
  const wanted = query.status;
  const candidates = page.entries.filter(
    ({ metadata }) => wanted === undefined || metadata === null || metadata.status === wanted || LATER[metadata.status].includes(wanted),
  );
  const views = await currentViews(
    c.env,
    candidates.map((entry) => entry.id),
  );
  return c.json({ approvals: wanted === undefined ? views : views.filter((view) => view.status === wanted), next: page.cursor });
});

approvals.get("/approvals/:id", async (c) => {
  const id = c.req.param("id");
  const view = await callGrant(c.env, grantOf(c.env, id), (grant) => grant.approval(id, true));
  if (view === null) throw notFound("approval", id);
  return c.json(view);
});

approvals.post("/approvals/:id/approve", async (c) => c.json(await decide(c, "approve")));
approvals.post("/approvals/:id/reject", async (c) => c.json(await decide(c, "reject")));

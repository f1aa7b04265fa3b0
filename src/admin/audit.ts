/**
 * /admin/grants/:id/audit: the grant's hash-chained audit log, read straight from its Durable Object.
 * It needs no KV record, so the log of a deleted grant stays readable by id. `/export` is the signed
 * NDJSON an auditor verifies offline (docs/audit.md).
 *
 * Filters (`type`, `decision`, `code`, `tool`, `since`, `until`) and newest-first pages
 * (`order=desc`, `before`) are read over the Durable Object's one paged read (src/audit/query.ts),
 * at most SCAN_BUDGET records per request; `next` continues a scan that stopped early.
 */
import { Hono } from "hono";
import { z } from "zod";
import { hourlyCounts, pageBackward, pageForward, type AuditFilter, type ReadAudit } from "../audit/query";
import { auditSigner, logKeyProblem } from "../audit/signing";
import { exportBody } from "./audit-export";
import { validate } from "./body";
import { AdminError, notFound } from "./errors";
import { callGrant, isGrantId } from "./grant-object";

/** Records one request may read while filtering: ten Durable Object reads. */
const SCAN_BUDGET = 10_000;
/** Records the hourly counts may read: the newest hours stay exact when a grant is busier. */
const HOURLY_BUDGET = 50_000;

const isoTime = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));
const text = z.string().min(1).max(200);

const AuditQuery = z
  .strictObject({
    after: z.coerce.number().int().min(0).optional(),
    before: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    order: z.enum(["asc", "desc"]).default("asc"),
    type: z.enum(["decision", "outcome", "admin"]).optional(),
    decision: text.optional(),
    code: text.optional(),
    tool: text.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
  })
  .refine((q) => !(q.order === "asc" && q.before !== undefined), { path: ["before"], message: "before needs order=desc" })
  .refine((q) => !(q.order === "desc" && q.after !== undefined), { path: ["after"], message: "after needs order=asc" });

const HourlyQuery = z.strictObject({ hours: z.coerce.number().int().min(1).max(168).default(24) });

const ExportQuery = z
  .strictObject({
    after: z.coerce.number().int().min(0).default(0),
    until: z.coerce.number().int().min(0).optional(),
  })
  .refine((q) => q.until === undefined || q.until >= q.after, { message: "until must not be before after", path: ["until"] });

/** The id of a grant whose Durable Object was provisioned; never creates state for a made-up id. */
async function provisionedGrant(env: Env, grantId: string): Promise<string> {
  if (!isGrantId(env, grantId)) throw notFound("grant", grantId);
  const info = await callGrant(env, grantId, (grant) => grant.info());
  if (info === null) throw notFound("grant", grantId);
  return grantId;
}

const readerOf =
  (env: Env, grantId: string): ReadAudit =>
  (after, limit) =>
    callGrant(env, grantId, (grant) => grant.readAudit(after, limit));

export const audit = new Hono<{ Bindings: Env }>();

audit.get("/grants/:id/audit", async (c) => {
  const query = validate(AuditQuery, c.req.query(), "invalid_query");
  const grantId = await provisionedGrant(c.env, c.req.param("id"));
  const { after, before, limit, order, since, until, ...fields } = query;
  const filter: AuditFilter = { ...fields, ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
  const filtered = Object.values(filter).some((value) => value !== undefined);
  if (order === "asc" && !filtered) {
    // The original, unfiltered read: one Durable Object call.
    const page = await callGrant(c.env, grantId, (grant) => grant.readAudit(after ?? 0, limit));
    return c.json({ records: page.records, next: page.next });
  }
  const read = readerOf(c.env, grantId);
  const page =
    order === "asc" ? await pageForward(read, filter, after ?? 0, limit, SCAN_BUDGET) : await pageBackward(read, filter, before ?? null, limit, SCAN_BUDGET);
  return c.json(page);
});

audit.get("/grants/:id/audit/verify", async (c) => {
  const grantId = await provisionedGrant(c.env, c.req.param("id"));
  return c.json(await callGrant(c.env, grantId, (grant) => grant.verifyAudit()));
});

audit.get("/grants/:id/audit/hourly", async (c) => {
  const { hours } = validate(HourlyQuery, c.req.query(), "invalid_query");
  const grantId = await provisionedGrant(c.env, c.req.param("id"));
  const counts = await hourlyCounts(readerOf(c.env, grantId), Date.now(), hours, HOURLY_BUDGET);
  return c.json({ grantId, ...counts });
});

audit.get("/grants/:id/audit/export", async (c) => {
  const { after, until } = validate(ExportQuery, c.req.query(), "invalid_query");
  const grantId = await provisionedGrant(c.env, c.req.param("id"));
  const signer = await auditSigner(c.env);
  if (!signer.ok) {
    logKeyProblem(signer.error, grantId);
    throw new AdminError(503, "audit_key_invalid", `AUDIT_SIGNING_KEY is set but cannot be used: ${signer.error}`);
  }
  const header = await callGrant(c.env, grantId, (grant) => grant.auditExport(after, until ?? null));
  if (header === null) throw notFound("grant", grantId);
  return new Response(exportBody(c.env, grantId, header), {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="audit-${grantId}-${header.start.seq + 1}-${header.end.seq}.ndjson"`,
      "cache-control": "no-store",
    },
  });
});

/**
 * /admin/grants/:id/audit: the grant's hash-chained audit log, read straight from its Durable Object.
 * It needs no KV record, so the log of a deleted grant stays readable by id. `/export` is the signed
 * NDJSON an auditor verifies offline (docs/audit.md).
 */
import { Hono } from "hono";
import { z } from "zod";
import { auditSigner, logKeyProblem } from "../audit/signing";
import { exportBody } from "./audit-export";
import { validate } from "./body";
import { AdminError, notFound } from "./errors";
import { callGrant, isGrantId } from "./grant-object";

const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

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

export const audit = new Hono<{ Bindings: Env }>();

audit.get("/grants/:id/audit", async (c) => {
  const { after, limit } = validate(AuditQuery, c.req.query(), "invalid_query");
  const grantId = await provisionedGrant(c.env, c.req.param("id"));
  const page = await callGrant(c.env, grantId, (grant) => grant.readAudit(after, limit));
  return c.json({ records: page.records, next: page.next });
});

audit.get("/grants/:id/audit/verify", async (c) => {
  const grantId = await provisionedGrant(c.env, c.req.param("id"));
  return c.json(await callGrant(c.env, grantId, (grant) => grant.verifyAudit()));
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

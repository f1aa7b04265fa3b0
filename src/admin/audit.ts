/**
 * /admin/grants/:id/audit: the grant's hash-chained audit log, read straight from its Durable Object.
 * It needs no KV record, so the log of a deleted grant stays readable by id.
 */
import { Hono } from "hono";
import { z } from "zod";
import { validate } from "./body";
import { notFound } from "./errors";
import { callGrant, isGrantId } from "./grant-object";

const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

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

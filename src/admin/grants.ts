/**
 * /admin/grants: one agent's access to one server under one named policy.
 *
 * The grant's Durable Object is written first and KV after; the token is returned once (create,
 * rotate) and only its SHA-256 is kept, inside the Durable Object. Reads of a single grant merge in
 * the Durable Object's own view, so `revoked` and `policyVersion` are what is actually enforced.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { GrantInfo, GrantObjectApi, GrantResult, PolicySnapshot } from "../grant/protocol";
import { hashToken, newGrantId, newGrantToken } from "../grant/token";
import { type GrantRecord, deleteGrant, getGrant, grantLabelSchema, grantRegionSchema, listGrants, listServerGrants, putGrant } from "../store/grants";
import { latestPolicy, policyNameSchema } from "../store/policies";
import { getServer, serverIdSchema, upstreamOf } from "../store/servers";
import { readBody, validate } from "./body";
import { AdminError, notFound } from "./errors";
import { callGrant, changeGrant, grantIdSecret, isGrantId } from "./grant-object";
import { callServer } from "./server-object";

const CreateGrant = z.strictObject({
  label: grantLabelSchema,
  serverId: serverIdSchema,
  /** Absent or null: no policy, the grant denies every call until one is attached. */
  policyName: policyNameSchema.nullable().optional(),
  /** Where to create the grant's Durable Object: near its agents. Absent: near this admin request. */
  region: grantRegionSchema.optional(),
});

const UpdateGrant = z
  .strictObject({ label: grantLabelSchema, policyName: policyNameSchema.nullable() })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "nothing to change: give label or policyName");

const ListQuery = z.strictObject({ serverId: serverIdSchema.optional() });

export interface GrantView extends GrantRecord {
  /** The policy version the Durable Object enforces; null without a policy. */
  policyVersion: number | null;
  /** The SHA-256 of the policy document it enforces. */
  policySha256: string | null;
  /** The server record version whose upstream it uses. */
  upstreamVersion: number;
}

/** The KV record, overridden by what the Durable Object enforces. */
export const grantView = (record: GrantRecord, info: GrantInfo): GrantView => ({
  ...record,
  label: info.label,
  policyName: info.policyName,
  policyVersion: info.policyVersion,
  policySha256: info.policySha256,
  upstreamVersion: info.upstreamVersion,
  revoked: info.revoked,
  rotated: info.rotated,
});

/** A 400 naming the body field that points at something missing. */
const unknownReference = (field: string, code: string, message: string): AdminError =>
  new AdminError(400, code, `/${field}: ${message}`, [{ path: `/${field}`, message }]);

/** The latest version of the policy a grant is to use; a name without a policy is the caller's mistake. */
async function snapshotFor(kv: KVNamespace, serverId: string, policyName: string | null): Promise<PolicySnapshot | null> {
  if (policyName === null) return null;
  const snapshot = await latestPolicy(kv, serverId, policyName);
  if (snapshot === null) {
    throw unknownReference("policyName", "unknown_policy", `server ${serverId} has no policy named ${JSON.stringify(policyName)}`);
  }
  return snapshot;
}

/** A grant in KV together with its Durable Object's state; 404 for ids that are not grants at all. */
async function requireGrant(env: Env, grantId: string): Promise<{ record: GrantRecord; info: GrantInfo }> {
  const record = isGrantId(env, grantId) ? await getGrant(env.RECORDS, grantId) : null;
  if (record === null) throw notFound("grant", grantId);
  const info = await callGrant(env, grantId, (grant) => grant.info());
  // KV is written only after the Durable Object took the grant: a record without one is corrupt.
  if (info === null) throw new AdminError(500, "grant_inconsistent", `Grant ${grantId} has no enforcement state; delete and re-create it`);
  return { record, info };
}

/** The Cloudflare location serving this request (`request.cf.colo`); null where there is none (locally). */
const colo = (request: Request): string | null => {
  const value = (request as { cf?: { colo?: unknown } }).cf?.colo;
  return typeof value === "string" ? value : null;
};

const refuseRevoked = (info: GrantInfo): void => {
  if (info.revoked !== null) throw new AdminError(409, "grant_revoked", `Grant ${info.grantId} was revoked at ${info.revoked}; revocation is final`);
};

/** Call the Durable Object, then write what it now enforces back to KV. */
async function change(env: Env, record: GrantRecord, call: (grant: GrantObjectApi) => Promise<GrantResult>): Promise<GrantView> {
  const info = await changeGrant(env, record.id, null, call);
  const view = grantView(record, info);
  const { policyVersion: _version, policySha256: _sha256, upstreamVersion: _upstream, ...next } = view;
  await putGrant(env.RECORDS, next);
  return view;
}

export const grants = new Hono<{ Bindings: Env }>();

grants.post("/grants", async (c) => {
  const body = await readBody(c, CreateGrant);
  const server = await getServer(c.env.RECORDS, body.serverId);
  if (server === null) throw unknownReference("serverId", "unknown_server", `no server ${JSON.stringify(body.serverId)}`);
  const policyName = body.policyName ?? null;
  const policy = await snapshotFor(c.env.RECORDS, server.id, policyName);

  const id = newGrantId(grantIdSecret(c.env));
  const token = newGrantToken(id);
  const created = new Date().toISOString();
  // The first request to a Durable Object creates it, near the hint if one is given: provision() is
  // that request, so the hint decides where every later call of the grant is served.
  const placement = { region: body.region ?? null, createdFrom: colo(c.req.raw) };
  const info = await changeGrant(c.env, id, placement.region, async (grant) =>
    grant.provision({
      grantId: id,
      label: body.label,
      serverId: server.id,
      policyName,
      created,
      tokenHash: hashToken(token),
      upstream: upstreamOf(server),
      policy,
    }),
  );
  const record: GrantRecord = { id, label: body.label, serverId: server.id, policyName, created, revoked: null, rotated: null, placement };
  // The server's object keeps its grants strongly consistent (KV lists are not): tool pinning
  // pushes the quarantine to exactly these.
  await callServer(c.env, server.id, (object) => object.addGrant(id));
  await putGrant(c.env.RECORDS, record);
  const origin = new URL(c.req.url).origin;
  // The only response that ever carries this token.
  return c.json({ grant: grantView(record, info), token, url: `${origin}/mcp/${id}`, serverUrl: `${origin}/mcp/${server.id}` }, 201);
});

grants.get("/grants", async (c) => {
  const { serverId } = validate(ListQuery, c.req.query(), "invalid_query");
  const list = serverId === undefined ? await listGrants(c.env.RECORDS) : await listServerGrants(c.env.RECORDS, serverId);
  return c.json({ grants: list });
});

grants.get("/grants/:id", async (c) => {
  const { record, info } = await requireGrant(c.env, c.req.param("id"));
  return c.json(grantView(record, info));
});

grants.patch("/grants/:id", async (c) => {
  const { record, info } = await requireGrant(c.env, c.req.param("id"));
  const { label, policyName } = await readBody(c, UpdateGrant);
  refuseRevoked(info);
  // Resolve the policy before changing anything, so a bad name leaves the grant untouched.
  const policy = policyName === undefined ? undefined : await snapshotFor(c.env.RECORDS, record.serverId, policyName);
  let view = grantView(record, info);
  if (label !== undefined && label !== info.label) view = await change(c.env, record, (grant) => grant.setLabel(label));
  if (policyName !== undefined && policy !== undefined) {
    view = await change(c.env, record, (grant) => grant.setPolicy(policyName, policy));
  }
  return c.json(view);
});

grants.post("/grants/:id/rotate", async (c) => {
  const { record, info } = await requireGrant(c.env, c.req.param("id"));
  refuseRevoked(info);
  const token = newGrantToken(record.id);
  const tokenHash = hashToken(token);
  const view = await change(c.env, record, (grant) => grant.rotate(tokenHash));
  // The only response that ever carries this token; the previous one stopped working.
  return c.json({ grant: view, token });
});

grants.post("/grants/:id/revoke", async (c) => {
  const { record } = await requireGrant(c.env, c.req.param("id"));
  return c.json({ grant: await change(c.env, record, (grant) => grant.revoke()) });
});

// The Durable Object keeps the audit log: /admin/grants/:id/audit still answers after this.
grants.delete("/grants/:id", async (c) => {
  const { record } = await requireGrant(c.env, c.req.param("id"));
  await changeGrant(c.env, record.id, null, (grant) => grant.revoke());
  await callServer(c.env, record.serverId, (object) => object.removeGrant(record.id));
  await deleteGrant(c.env.RECORDS, record);
  return c.json({ id: record.id, deleted: true });
});

/**
 * /admin/servers/:id/policies: named policies, each saved as a new immutable version.
 *
 * Saving: the server's Durable Object allocates the version number (strongly consistent), the
 * immutable version is written, the version is pushed to every live grant of the server that uses
 * the name (they enforce it from their next request), and only then does the head move. Deleting
 * pushes "no policy" first (those grants then deny every call: fail closed) and removes the head
 * only once every grant took it. A failed save or delete can be retried.
 */
import { Hono } from "hono";
import { z } from "zod";
import { formatPolicyErrors, parsePolicy } from "../policy/schema";
import { listServerGrants, type GrantRecord } from "../store/grants";
import {
  deletePolicyHead,
  getPolicyHead,
  getPolicyVersion,
  latestPolicy,
  listPolicyHeads,
  policyNameSchema,
  movePolicyHead,
  putPolicyVersion,
  snapshotOf,
  storedPolicyVersion,
} from "../store/policies";
import { readJson, validate } from "./body";
import { AdminError, notFound } from "./errors";
import { pushFailed, pushToGrants } from "./grant-object";
import { requireServer } from "./servers";
import { callServer } from "./server-object";

const versionSchema = z.coerce.number().int().positive().max(9_999_999_999);

const policyName = (raw: string): string => validate(policyNameSchema, raw, "invalid_policy_name");

async function grantsUsing(kv: KVNamespace, serverId: string, name: string): Promise<GrantRecord[]> {
  const grants = await listServerGrants(kv, serverId);
  return grants.filter((grant) => grant.policyName === name && grant.revoked === null);
}

export const policies = new Hono<{ Bindings: Env }>();

policies.put("/servers/:id/policies/:name", async (c) => {
  const name = policyName(c.req.param("name"));
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  const parsed = parsePolicy(await readJson(c));
  if (!parsed.ok) throw new AdminError(400, "invalid_policy", formatPolicyErrors(parsed.error), parsed.error);
  const now = new Date().toISOString();
  const floor = await storedPolicyVersion(c.env.RECORDS, server.id, name);
  const number = await callServer(c.env, server.id, (object) => object.allocatePolicyVersion(name, floor));
  const version = await putPolicyVersion(c.env.RECORDS, server.id, name, number, parsed.value, now);
  const snapshot = snapshotOf(version);
  const grants = await grantsUsing(c.env.RECORDS, server.id, name);
  const failed = await pushToGrants(c.env, grants, (grant) => grant.setPolicy(name, snapshot));
  const saved = { serverId: server.id, name, version: version.version, sha256: snapshot.sha256, created: version.created, grants: grants.length };
  if (failed.length > 0) throw pushFailed(`Version ${version.version} of policy ${name}`, failed, saved);
  const head = await movePolicyHead(c.env.RECORDS, server.id, name, version.version, now);
  return c.json({ ...saved, updated: head.updated }, 201);
});

policies.get("/servers/:id/policies", async (c) => {
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  return c.json({ policies: await listPolicyHeads(c.env.RECORDS, server.id) });
});

policies.get("/servers/:id/policies/:name", async (c) => {
  const name = policyName(c.req.param("name"));
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  const head = await getPolicyHead(c.env.RECORDS, server.id, name);
  const latest = await latestPolicy(c.env.RECORDS, server.id, name);
  if (head === null || latest === null) throw notFound("policy", name);
  return c.json({ ...head, version: latest.version, sha256: latest.sha256, document: latest.document });
});

// Versions outlive their head and their server: audit records of deleted grants still name them.
policies.get("/servers/:id/policies/:name/versions/:version", async (c) => {
  const name = policyName(c.req.param("name"));
  const version = validate(versionSchema, c.req.param("version"), "invalid_version");
  const record = await getPolicyVersion(c.env.RECORDS, c.req.param("id"), name, version);
  if (record === null) throw notFound("policy_version", `${name}@${version}`);
  return c.json(record);
});

policies.delete("/servers/:id/policies/:name", async (c) => {
  const name = policyName(c.req.param("name"));
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  if ((await getPolicyHead(c.env.RECORDS, server.id, name)) === null) throw notFound("policy", name);
  const grants = await grantsUsing(c.env.RECORDS, server.id, name);
  const failed = await pushToGrants(c.env, grants, (grant) => grant.setPolicy(name, null));
  if (failed.length > 0)
    throw pushFailed(`The deletion of policy ${name} (the grants that took it deny every call)`, failed, { serverId: server.id, name, deleted: false });
  await deletePolicyHead(c.env.RECORDS, server.id, name);
  return c.json({ serverId: server.id, name, deleted: true, grants: grants.length });
});

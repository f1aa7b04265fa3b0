/**
 * Grant records: `grant:<id>` for the admin API, plus the index `server-grants:<serverId>:<grantId>`
 * that finds a server's grants for listing and for pushing changes to their Durable Objects.
 *
 * The grant's Durable Object is the authority (token hash, revocation, the policy and upstream it
 * enforces); these records are a listing copy written after the Durable Object took each change.
 * The token hash is never stored here.
 */
import { z } from "zod";
import { GRANT_ID_SHAPE } from "../grant/token";
import { listKeys, readAll, readRecord, writeRecord } from "./kv";
import { GRANT_PREFIX, grantKey, serverGrantKey, serverGrantsPrefix } from "./keys";
import { policyNameSchema } from "./policies";

export const grantIdSchema = z.string().regex(GRANT_ID_SHAPE, "must be a grant id (g + 32 hex digits)");
export const grantLabelSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 letters, digits, '_', '.', ':' or '-'");

/** Durable Object location hints: where a grant's object is created (docs/performance.md, "Placement"). */
export const GRANT_REGIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export const grantRegionSchema = z.enum(GRANT_REGIONS, { error: `must be one of ${GRANT_REGIONS.join(", ")}` });

/** Where a grant's Durable Object was placed: the region asked for, or the location of the request that created it. */
export const GrantPlacement = z.strictObject({
  region: grantRegionSchema.nullable(),
  /** The Cloudflare location (colo) of the admin request that created the object; null locally. */
  createdFrom: z.string().max(16).nullable(),
});

export const GrantRecord = z.strictObject({
  id: grantIdSchema,
  label: grantLabelSchema,
  serverId: z.string(),
  /** null: no policy attached, the grant denies every call. */
  policyName: policyNameSchema.nullable(),
  created: z.iso.datetime(),
  revoked: z.iso.datetime().nullable(),
  rotated: z.iso.datetime().nullable(),
  /** Absent on grants created before placement was recorded. */
  placement: GrantPlacement.optional(),
});
export type GrantRecord = z.infer<typeof GrantRecord>;

export function getGrant(kv: KVNamespace, grantId: string): Promise<GrantRecord | null> {
  return readRecord(kv, grantKey(grantId), GrantRecord);
}

/** Write the record and its server index entry (the index is idempotent: a grant never changes server). */
export async function putGrant(kv: KVNamespace, grant: GrantRecord): Promise<void> {
  await writeRecord(kv, grantKey(grant.id), grant);
  await kv.put(serverGrantKey(grant.serverId, grant.id), "");
}

export async function deleteGrant(kv: KVNamespace, grant: GrantRecord): Promise<void> {
  // The record goes first: an index entry without a record is skipped by listings, never the reverse.
  await kv.delete(grantKey(grant.id));
  await kv.delete(serverGrantKey(grant.serverId, grant.id));
}

export function listGrants(kv: KVNamespace): Promise<GrantRecord[]> {
  return readAll(kv, GRANT_PREFIX, GrantRecord);
}

export async function listServerGrants(kv: KVNamespace, serverId: string): Promise<GrantRecord[]> {
  const prefix = serverGrantsPrefix(serverId);
  const ids = (await listKeys(kv, prefix)).map((key) => key.slice(prefix.length));
  const grants = await Promise.all(ids.map((id) => getGrant(kv, id)));
  return grants.filter((grant): grant is GrantRecord => grant !== null);
}

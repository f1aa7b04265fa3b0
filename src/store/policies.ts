/**
 * Policy records: a mutable head per (server, name) and immutable, numbered versions.
 *
 * - `policy:<serverId>:<name>` → the head: which version is the latest.
 * - `policy-version:<serverId>:<name>:<0000000007>` → one version's document; written once, never
 *   rewritten, kept when the head is deleted (audit records name versions; numbering continues).
 *
 * A saved version takes effect through the grants' Durable Objects (the admin API pushes it there);
 * the gateway never reads these records.
 */
import { z } from "zod";
import { parsePolicy, type PolicyDocument } from "../policy/schema";
import type { PolicySnapshot } from "../grant/protocol";
import { CorruptRecordError, listKeys, readAll, readRecord, writeRecord } from "./kv";
import { policyKey, policyPrefix, policyVersionKey, policyVersionPrefix, versionOfKey } from "./keys";

export const policyNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

export const PolicyHead = z.strictObject({
  serverId: z.string(),
  name: policyNameSchema,
  latest: z.int().positive(),
  created: z.iso.datetime(),
  updated: z.iso.datetime(),
});
export type PolicyHead = z.infer<typeof PolicyHead>;

/** A stored document is checked against the current policy schema on every read, like any record. */
const storedDocument = z.unknown().transform((document, context): PolicyDocument => {
  const parsed = parsePolicy(document);
  if (parsed.ok) return parsed.value;
  context.addIssue({ code: "custom", message: "stored document is not a valid policy" });
  return z.NEVER;
});

export const PolicyVersionRecord = z.strictObject({
  serverId: z.string(),
  name: policyNameSchema,
  version: z.int().positive(),
  document: storedDocument,
  created: z.iso.datetime(),
});
export type PolicyVersionRecord = z.infer<typeof PolicyVersionRecord>;

export function getPolicyHead(kv: KVNamespace, serverId: string, name: string): Promise<PolicyHead | null> {
  return readRecord(kv, policyKey(serverId, name), PolicyHead);
}

export function listPolicyHeads(kv: KVNamespace, serverId: string): Promise<PolicyHead[]> {
  return readAll(kv, policyPrefix(serverId), PolicyHead);
}

export function getPolicyVersion(kv: KVNamespace, serverId: string, name: string, version: number): Promise<PolicyVersionRecord | null> {
  return readRecord(kv, policyVersionKey(serverId, name, version), PolicyVersionRecord);
}

/** The latest version of a policy as a grant enforces it, or null when the policy has no head. */
export async function latestPolicy(kv: KVNamespace, serverId: string, name: string): Promise<PolicySnapshot | null> {
  const head = await getPolicyHead(kv, serverId, name);
  if (head === null) return null;
  const latest = await getPolicyVersion(kv, serverId, name, head.latest);
  // A head whose version is missing is as corrupt as an unparsable record: never fall back to an older one.
  if (latest === null) throw new CorruptRecordError(policyKey(serverId, name));
  return { name, version: latest.version, document: latest.document };
}

/**
 * Store `document` (already validated with parsePolicy) as the next version and move the head to it.
 * The version is written before the head, so a head never names a version that is not there yet.
 * KV has no compare-and-set: two saves of the same policy at the same moment can pick the same
 * number (docs/storage.md, "Consistency").
 */
export async function savePolicyVersion(
  kv: KVNamespace,
  serverId: string,
  name: string,
  document: PolicyDocument,
  now: string,
): Promise<{ head: PolicyHead; version: PolicyVersionRecord }> {
  const head = await getPolicyHead(kv, serverId, name);
  const previous = head?.latest ?? (await highestStoredVersion(kv, serverId, name));
  const version: PolicyVersionRecord = { serverId, name, version: previous + 1, document, created: now };
  const nextHead: PolicyHead = { serverId, name, latest: version.version, created: head?.created ?? now, updated: now };
  await writeRecord(kv, policyVersionKey(serverId, name, version.version), version);
  await writeRecord(kv, policyKey(serverId, name), nextHead);
  return { head: nextHead, version };
}

/** After a head was deleted its versions remain; a new head continues after the highest of them. */
async function highestStoredVersion(kv: KVNamespace, serverId: string, name: string): Promise<number> {
  const keys = await listKeys(kv, policyVersionPrefix(serverId, name));
  return keys.reduce((highest, key) => Math.max(highest, versionOfKey(key) ?? 0), 0);
}

export function deletePolicyHead(kv: KVNamespace, serverId: string, name: string): Promise<void> {
  return kv.delete(policyKey(serverId, name));
}

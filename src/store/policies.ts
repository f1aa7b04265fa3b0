/**
 * Policy records: a mutable head per (server, name) and immutable, numbered versions.
 *
 * - `policy:<serverId>:<name>` → the head: which version is the latest.
 * - `policy-version:<serverId>:<name>:<0000000007>` → one version's document; written once, never
 *   rewritten, kept when the head is deleted (audit records name versions; numbering continues).
 *
 * Version numbers are allocated by the server's Durable Object, where writes are strongly
 * consistent, so each number names exactly one document (its `sha256` says which). A saved version
 * takes effect through the grants' Durable Objects (the admin API pushes it there); the gateway
 * never reads these records.
 */
import { z } from "zod";
import { parsePolicy, policySha256, type PolicyDocument } from "../policy/schema";
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
  /** SHA-256 of the document's canonical JSON; absent on versions saved before it was kept. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
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
  return snapshotOf(latest);
}

/** A stored version as a grant enforces it, named by its digest. */
export function snapshotOf(version: PolicyVersionRecord): PolicySnapshot {
  return { name: version.name, version: version.version, sha256: version.sha256 ?? policySha256(version.document), document: version.document };
}

/**
 * Stores `document` (already validated with parsePolicy) as version `version`, which the server's
 * Durable Object allocated (src/server/object.ts): versions are written once and never rewritten.
 */
export async function putPolicyVersion(
  kv: KVNamespace,
  serverId: string,
  name: string,
  version: number,
  document: PolicyDocument,
  now: string,
): Promise<PolicyVersionRecord> {
  const record: PolicyVersionRecord = { serverId, name, version, sha256: policySha256(document), document, created: now };
  await writeRecord(kv, policyVersionKey(serverId, name, version), record);
  return record;
}

/**
 * Moves the head to `version`, written only after every grant took it. A head never moves back:
 * if a later version got there first, it stays.
 */
export async function movePolicyHead(kv: KVNamespace, serverId: string, name: string, version: number, now: string): Promise<PolicyHead> {
  const head = await getPolicyHead(kv, serverId, name);
  const next: PolicyHead = { serverId, name, latest: Math.max(head?.latest ?? 0, version), created: head?.created ?? now, updated: now };
  await writeRecord(kv, policyKey(serverId, name), next);
  return next;
}

/** The highest version KV already holds: the floor for the next allocation. */
export async function storedPolicyVersion(kv: KVNamespace, serverId: string, name: string): Promise<number> {
  const head = await getPolicyHead(kv, serverId, name);
  return head?.latest ?? (await highestStoredVersion(kv, serverId, name));
}

/** After a head was deleted its versions remain; a new head continues after the highest of them. */
async function highestStoredVersion(kv: KVNamespace, serverId: string, name: string): Promise<number> {
  const keys = await listKeys(kv, policyVersionPrefix(serverId, name));
  return keys.reduce((highest, key) => Math.max(highest, versionOfKey(key) ?? 0), 0);
}

export function deletePolicyHead(kv: KVNamespace, serverId: string, name: string): Promise<void> {
  return kv.delete(policyKey(serverId, name));
}

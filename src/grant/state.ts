/**
 * What a grant's Durable Object enforces, as stored (validated with zod whenever it is loaded) and
 * as held in memory (the policy parsed once per version, with what is derived from it).
 */
import { z } from "zod";
import type { ToolVisibility } from "../policy/decision";
import { parsePolicy, policySha256, type PolicyDocument } from "../policy/schema";
import { toolVisibility } from "../policy/visibility";
import { retentionSeconds } from "./decide";
import type { GrantInfo, GrantProvision, PolicyRef } from "./protocol";

const DAY_MS = 86_400_000;

const UpstreamSchema = z.strictObject({
  serverId: z.string(),
  serverName: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  version: z.int().positive(),
  approvalWebhook: z.strictObject({ url: z.string(), secret: z.string() }).nullable().optional(),
});

const StoredSnapshotSchema = z
  .strictObject({
    name: z.string(),
    version: z.int().positive(),
    // Snapshots stored before documents were named by digest lack it; it is computed on load.
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    document: z.unknown(),
  })
  .nullable();

/** The stored enforcement state: what the admin API provisioned, plus its lifecycle. */
export const GrantStateSchema = z.strictObject({
  grantId: z.string().min(1),
  label: z.string(),
  serverId: z.string(),
  policyName: z.string().nullable(),
  created: z.string(),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  upstream: UpstreamSchema,
  policy: StoredSnapshotSchema,
  revoked: z.string().nullable(),
  rotated: z.string().nullable(),
  /** Tool pinning: tools of the server whose definition changed since it was approved (pushed by the server's object). */
  quarantined: z.array(z.string()).optional(),
  quarantineGeneration: z.int().nonnegative().optional(),
});

export interface GrantState extends GrantProvision {
  revoked: string | null;
  rotated: string | null;
  quarantined?: string[];
  quarantineGeneration?: number;
}

/** The policy as enforced: the validated document and what is derived from it once per version. */
export interface ActivePolicy {
  ref: PolicyRef;
  document: PolicyDocument;
  visibility: ToolVisibility;
  /** How long counted events must be kept: the longest window in the policy, at least a day. */
  retentionMs: number;
}

/**
 * Reads a stored state; null when it does not validate. A stored policy document that no longer
 * validates is enforced as "no policy": every call is denied.
 */
export function parseGrantState(json: string): GrantState | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = GrantStateSchema.safeParse(value);
  if (!parsed.success) return null;
  const stored = parsed.data;
  if (stored.policy === null) return { ...stored, policy: null };
  const document = parsePolicy(stored.policy.document);
  if (!document.ok) return { ...stored, policy: null };
  const sha256 = stored.policy.sha256 ?? policySha256(document.value);
  return { ...stored, policy: { name: stored.policy.name, version: stored.policy.version, sha256, document: document.value } };
}

/** The active policy for a state; `previous` is reused when the version and digest are unchanged. */
export function activePolicy(state: GrantState, previous: ActivePolicy | null): ActivePolicy | null {
  const snapshot = state.policy;
  if (snapshot === null) return null;
  if (previous !== null && previous.ref.sha256 === snapshot.sha256 && previous.ref.version === snapshot.version && previous.ref.name === snapshot.name) {
    return previous;
  }
  return {
    ref: { name: snapshot.name, version: snapshot.version, sha256: snapshot.sha256 },
    document: snapshot.document,
    visibility: toolVisibility(snapshot.document),
    retentionMs: Math.max(retentionSeconds(snapshot.document) * 1000, DAY_MS),
  };
}

export function infoOf(grant: GrantState): GrantInfo {
  return {
    grantId: grant.grantId,
    label: grant.label,
    serverId: grant.serverId,
    policyName: grant.policyName,
    policyVersion: grant.policy?.version ?? null,
    policySha256: grant.policy?.sha256 ?? null,
    upstreamVersion: grant.upstream.version,
    created: grant.created,
    revoked: grant.revoked,
    rotated: grant.rotated,
  };
}

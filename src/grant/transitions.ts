/**
 * The admin transitions of a grant, pure: each takes the current state and returns the next one
 * with the audit record's action and detail, or a `GrantError` naming why it was refused. The
 * Durable Object stores the state and appends the record; the admin API maps each error to an
 * HTTP status. `null` means "nothing to change" (a repeated revoke, a stale policy or upstream).
 */
import { parsePolicy, policySha256 } from "../policy/schema";
import { err, ok, type Result } from "../result";
import type { GrantError, GrantProvision, PolicySnapshot, Upstream } from "./protocol";
import type { GrantState } from "./state";

export interface Transition {
  state: GrantState;
  /** The admin record's `decision`: provision, reprovision, rotate, revoke, set_label, set_policy, set_upstream. */
  action: string;
  /** Non-secret detail for the record's message. */
  detail: string;
}

export type TransitionResult = Result<Transition | null, GrantError>;

const TOKEN_HASH = /^[0-9a-f]{64}$/;

export function provision(current: GrantState | null, p: GrantProvision): TransitionResult {
  if (current !== null && current.grantId !== p.grantId) return err({ code: "grant_mismatch", holds: current.grantId });
  if (current?.revoked) return err({ code: "revoked", revoked: current.revoked });
  if (!TOKEN_HASH.test(p.tokenHash)) return err({ code: "invalid_token_hash" });
  if (p.upstream.serverId !== p.serverId) return err({ code: "server_mismatch" });
  const policy = checkedSnapshot(p.policyName, p.policy);
  if (!policy.ok) return policy;
  const state: GrantState = { ...p, policy: policy.value, revoked: null, rotated: current?.rotated ?? null };
  const detail = `server ${JSON.stringify(p.serverId)}, ${describePolicy(p.policyName, policy.value)}`;
  return ok({ state, action: current === null ? "provision" : "reprovision", detail });
}

export function rotate(current: GrantState | null, tokenHash: string, now: string): TransitionResult {
  const live = liveGrant(current);
  if (!live.ok) return live;
  if (!TOKEN_HASH.test(tokenHash)) return err({ code: "invalid_token_hash" });
  return ok({ state: { ...live.value, tokenHash, rotated: now }, action: "rotate", detail: "token replaced" });
}

export function revoke(current: GrantState | null, now: string): TransitionResult {
  if (current === null) return err({ code: "not_provisioned" });
  if (current.revoked !== null) return ok(null);
  return ok({ state: { ...current, revoked: now }, action: "revoke", detail: "every later request is refused" });
}

export function setLabel(current: GrantState | null, label: string): TransitionResult {
  if (current === null) return err({ code: "not_provisioned" });
  return ok({ state: { ...current, label }, action: "set_label", detail: `label ${JSON.stringify(label)}` });
}

export function setPolicy(current: GrantState | null, policyName: string | null, snapshot: PolicySnapshot | null): TransitionResult {
  if (current === null) return err({ code: "not_provisioned" });
  const policy = checkedSnapshot(policyName, snapshot);
  if (!policy.ok) return policy;
  const held = current.policy;
  // Two saves racing each other may arrive out of order: a grant never goes back to an older version.
  if (policy.value !== null && held !== null && held.name === policy.value.name && held.version > policy.value.version) return ok(null);
  return ok({ state: { ...current, policyName, policy: policy.value }, action: "set_policy", detail: describePolicy(policyName, policy.value) });
}

export function setUpstream(current: GrantState | null, upstream: Upstream): TransitionResult {
  if (current === null) return err({ code: "not_provisioned" });
  if (upstream.serverId !== current.serverId) return err({ code: "server_mismatch" });
  if (upstream.version < current.upstream.version) return ok(null);
  // The URL can carry credentials in its query and headers are secrets: record neither.
  const detail = `server ${JSON.stringify(upstream.serverName)} version ${upstream.version}`;
  return ok({ state: { ...current, upstream }, action: "set_upstream", detail });
}

function liveGrant(current: GrantState | null): Result<GrantState, GrantError> {
  if (current === null) return err({ code: "not_provisioned" });
  if (current.revoked !== null) return err({ code: "revoked", revoked: current.revoked });
  return ok(current);
}

/** The snapshot as it will be enforced: validated by the same parser that admitted it, and its digest checked. */
function checkedSnapshot(policyName: string | null, snapshot: PolicySnapshot | null): Result<PolicySnapshot | null, GrantError> {
  if (snapshot === null) return ok(null);
  if (snapshot.name !== policyName) return err({ code: "policy_mismatch" });
  const parsed = parsePolicy(snapshot.document);
  if (!parsed.ok) return err({ code: "invalid_policy" });
  if (policySha256(parsed.value) !== snapshot.sha256) return err({ code: "policy_mismatch" });
  return ok({ name: snapshot.name, version: snapshot.version, sha256: snapshot.sha256, document: parsed.value });
}

function describePolicy(policyName: string | null, snapshot: PolicySnapshot | null): string {
  if (policyName === null) return "no policy; every call is denied";
  if (snapshot === null) return `policy ${JSON.stringify(policyName)} has no version; every call is denied`;
  return `policy ${JSON.stringify(policyName)} version ${snapshot.version} (sha256 ${snapshot.sha256})`;
}

/**
 * The server's quarantined tools (tool pinning), as its object pushes them. A push older than the
 * one held is ignored; `null` then. The records to append are the server's events.
 */
export function setQuarantine(current: GrantState | null, generation: number, tools: readonly string[]): Result<GrantState | null, GrantError> {
  if (current === null) return err({ code: "not_provisioned" });
  if ((current.quarantineGeneration ?? 0) >= generation) return ok(null);
  return ok({ ...current, quarantined: [...tools], quarantineGeneration: generation });
}

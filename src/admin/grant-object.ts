/**
 * Reaching grants' Durable Objects from the admin API.
 *
 * Every change that must take effect at once goes to the Durable Objects first and to KV after, so
 * KV never claims a state the grants do not enforce. A change that concerns many grants (a server's
 * upstream, a policy's new version) is pushed to each; if some did not take it, KV is not written,
 * the answer names them (502), and repeating the request converges (every push is idempotent).
 *
 * A grant's object answers admin calls with a `Result`: a refusal (`GrantError`) becomes its proper
 * status here, and only a call that throws or does not answer is a 502 outage.
 */
import type { GrantError, GrantInfo, GrantObjectApi, GrantResult } from "../grant/protocol";
import { isGenuineGrantId } from "../grant/token";
import type { GrantRecord } from "../store/grants";
import { AdminError } from "./errors";

/** The key grant ids are MACed with; the admin API refuses to run without it. */
export function grantIdSecret(env: Env): string {
  const secret = env.GRANT_ID_SECRET;
  if (secret === undefined || secret === "") {
    throw new AdminError(503, "not_configured", "GRANT_ID_SECRET is not configured; grants cannot be created or reached");
  }
  return secret;
}

/** Whether `id` names a grant this gateway minted; a made-up id never addresses a Durable Object. */
export const isGrantId = (env: Env, id: string): boolean => isGenuineGrantId(id, grantIdSecret(env));

/**
 * The grant's Durable Object, typed by the Worker <-> Durable Object contract in protocol.ts. A
 * location hint only matters on the request that creates the object.
 */
export function grantObject(env: Env, grantId: string, locationHint: DurableObjectLocationHint | null = null): GrantObjectApi {
  const id = env.GRANTS.idFromName(grantId);
  return locationHint === null ? env.GRANTS.get(id) : env.GRANTS.get(id, { locationHint });
}

/** One call to one grant's Durable Object; a failure becomes a 502 (KV is only written after success). */
export async function callGrant<T>(
  env: Env,
  grantId: string,
  call: (grant: GrantObjectApi) => Promise<T>,
  locationHint: DurableObjectLocationHint | null = null,
): Promise<T> {
  try {
    return await call(grantObject(env, grantId, locationHint));
  } catch (error) {
    console.error(JSON.stringify({ event: "grant_call_failed", grant: grantId, error: error instanceof Error ? error.name : typeof error }));
    throw new AdminError(502, "grant_unavailable", `Grant ${grantId}'s Durable Object did not answer; nothing was written to KV`);
  }
}

/** An admin change of one grant: its new state, or the refusal as an AdminError. */
export async function changeGrant(
  env: Env,
  grantId: string,
  locationHint: DurableObjectLocationHint | null,
  call: (grant: GrantObjectApi) => Promise<GrantResult>,
): Promise<GrantInfo> {
  const result = await callGrant(env, grantId, call, locationHint);
  if (!result.ok) throw grantRefusal(grantId, result.error);
  return result.value;
}

/** The one table from a grant's refusal to the admin API's status and code. */
export function grantRefusal(grantId: string, error: GrantError): AdminError {
  switch (error.code) {
    case "not_provisioned":
      return new AdminError(404, "grant_not_found", `Grant ${grantId} has no enforcement state`);
    case "revoked":
      return new AdminError(409, "grant_revoked", `Grant ${grantId} was revoked at ${error.revoked}; revocation is final`);
    case "grant_mismatch":
      return new AdminError(409, "grant_mismatch", `The Durable Object for ${grantId} holds grant ${error.holds}`);
    case "server_mismatch":
      return new AdminError(400, "server_mismatch", `The upstream does not belong to grant ${grantId}'s server`);
    case "policy_mismatch":
      return new AdminError(400, "policy_mismatch", "The policy snapshot does not match the policy name or its digest");
    case "invalid_token_hash":
      return new AdminError(400, "invalid_token_hash", "The token hash is not a lowercase hex SHA-256");
    case "invalid_policy":
      return new AdminError(400, "invalid_policy", "The policy document does not validate");
  }
}

/** Push one change to every grant; resolves to the ids of the grants that did not take it. */
export async function pushToGrants(
  env: Env,
  grants: readonly GrantRecord[],
  push: (grant: GrantObjectApi, record: GrantRecord) => Promise<GrantResult>,
): Promise<string[]> {
  const results = await Promise.allSettled(grants.map((record) => push(grantObject(env, record.id), record)));
  return grants
    .filter((_, index) => {
      const result = results[index];
      return result?.status !== "fulfilled" || !result.value.ok;
    })
    .map((record) => record.id);
}

/** The 502 for a push that some grants did not take; nothing was written to KV. */
export function pushFailed(change: string, failedGrants: string[], attempted: object): AdminError {
  return new AdminError(
    502,
    "grants_not_updated",
    `${change} was not saved: ${failedGrants.length} grant(s) did not take it and still enforce the previous state: ${failedGrants.join(", ")}. The grants that took it enforce it already. Retry the request.`,
    { grants: failedGrants, attempted },
  );
}

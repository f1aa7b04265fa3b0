/**
 * Reaching grants' Durable Objects from the admin API.
 *
 * Every change that must take effect at once goes to the Durable Object first and to KV after, so KV
 * never claims a state the grant does not enforce. A change that concerns many grants (a server's
 * upstream, a policy's new version) is pushed to each; the grants that did not take it keep enforcing
 * the previous state, and the response names them (502) instead of hiding it.
 */
import type { GrantObjectApi } from "../grant/protocol";
import type { GrantRecord } from "../store/grants";
import { AdminError } from "./errors";

/** The grant's Durable Object, typed by the Worker <-> Durable Object contract in protocol.ts. */
export function grantObject(env: Env, grantId: string): GrantObjectApi {
  return env.GRANTS.get(env.GRANTS.idFromName(grantId));
}

/** One call to one grant's Durable Object; a failure becomes a 502 (KV is only written after success). */
export async function callGrant<T>(env: Env, grantId: string, call: (grant: GrantObjectApi) => Promise<T>): Promise<T> {
  try {
    return await call(grantObject(env, grantId));
  } catch (error) {
    console.error("grant object call failed", grantId, error instanceof Error ? error.name : typeof error);
    throw new AdminError(502, "grant_unavailable", `Grant ${grantId}'s Durable Object did not answer or refused the call; nothing was written to KV`);
  }
}

/** Push one change to every grant; resolves to the ids of the grants that did not take it. */
export async function pushToGrants(
  env: Env,
  grants: readonly GrantRecord[],
  push: (grant: GrantObjectApi, record: GrantRecord) => Promise<unknown>,
): Promise<string[]> {
  const results = await Promise.allSettled(grants.map((record) => push(grantObject(env, record.id), record)));
  return grants.filter((_, index) => results[index]?.status === "rejected").map((record) => record.id);
}

/** The 502 for a push that some grants did not take; `outcome` says what KV now holds. */
export function pushFailed(outcome: string, failedGrants: string[], saved: object): AdminError {
  return new AdminError(
    502,
    "grants_not_updated",
    `${outcome}; ${failedGrants.length} grant(s) did not take the change and still enforce the previous state: ${failedGrants.join(", ")}. Retry the request.`,
    { grants: failedGrants, saved },
  );
}

/** Reaching a server's Durable Object (src/server/object.ts) from the admin API. */
import type { ServerObject } from "../server/object";
import { getCatalogue } from "../store/catalogue";
import { AdminError } from "./errors";

export function serverObject(env: Env, serverId: string): DurableObjectStub<ServerObject> {
  return env.SERVERS.get(env.SERVERS.idFromName(serverId));
}

/** One call to a server's Durable Object; a failure is a 502 and nothing is written to KV after it. */
export async function callServer<T>(env: Env, serverId: string, call: (server: DurableObjectStub<ServerObject>) => Promise<T>): Promise<T> {
  try {
    return await call(serverObject(env, serverId));
  } catch (error) {
    console.error(JSON.stringify({ event: "server_call_failed", server: serverId, error: error instanceof Error ? error.name : typeof error }));
    throw new AdminError(502, "server_unavailable", `Server ${serverId}'s Durable Object did not answer; nothing was written to KV`);
  }
}

/**
 * After a discovery the operator ran, the server's Durable Object compares the new snapshot with
 * the pins, exactly as it does a grant's listing: a changed tool is quarantined now rather than at
 * the next agent's tools/list. The names quarantined, or null when the object did not answer (the
 * next listing an agent asks for is checked anyway, and fails closed without it).
 */
export async function checkPins(env: Env, serverId: string): Promise<string[] | null> {
  try {
    const snapshot = (await getCatalogue(env.RECORDS, serverId))?.snapshot;
    if (!snapshot) return null;
    const listing = snapshot.tools.map((t) => ({ name: t.definition.name, fingerprint: t.fingerprint, definition: t.definition }));
    return (await serverObject(env, serverId).observeListing(serverId, listing, true)).hidden;
  } catch (error) {
    console.error(JSON.stringify({ event: "pin_check_failed", server: serverId, error: error instanceof Error ? error.name : typeof error }));
    return null;
  }
}

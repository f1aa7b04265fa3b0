/** Reaching a server's Durable Object (src/server/object.ts) from the admin API. */
import type { ServerObject } from "../server/object";
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

/** Reaching a server's Durable Object (src/server/object.ts) from the admin API. */
import type { ServerObject } from "../server/object";

export function serverObject(env: Env, serverId: string): DurableObjectStub<ServerObject> {
  return env.SERVERS.get(env.SERVERS.idFromName(serverId));
}

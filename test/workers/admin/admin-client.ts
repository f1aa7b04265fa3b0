/** Calls the admin API through the Worker's own fetch handler, as an operator would. */
import { SELF } from "cloudflare:test";
import { inject } from "vitest";
import { env } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token";
/**
 * An upstream that answers every request 503 at once (test/support/down-upstream.global.mjs):
 * servers registered here are never reached, and their discovery fails without a failed connection.
 */
export const DOWN_UPSTREAM: string = inject("downUpstream");
/** Another path on the same down upstream, for a URL change. */
export const downUpstream = (path: string): string => DOWN_UPSTREAM.replace(/\/mcp$/, `/${path}`);
export const ORIGIN = "https://gw.test";

export interface Reply {
  status: number;
  text: string;
  // Tests look inside freely; every status check comes first.
  json: any;
  headers: Headers;
}

export async function admin(method: string, path: string, body?: unknown, init: { token?: string | null; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? ADMIN_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined = init.raw;
  if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers["content-type"] = "application/json";
  const response = await SELF.fetch(`${ORIGIN}/admin${path}`, { method, headers, body: payload });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Left null: the test asserts on it.
  }
  return { status: response.status, text, json, headers: response.headers };
}

let counter = 0;
/** Server ids unique within a test file run, so tests do not depend on each other's records. */
export const uniqueServerId = (name: string): string => `${name}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export const ALLOW_ALL = { version: "1", default: "allow" };
export const DENY_ALL = { version: "1", default: "deny" };

export async function createServer(id: string, headers: Record<string, string> = {}): Promise<void> {
  const reply = await admin("POST", "/servers", { id, name: `Server ${id}`, url: DOWN_UPSTREAM, headers });
  if (reply.status !== 201) throw new Error(`createServer ${id}: ${reply.status} ${reply.text}`);
}

export async function savePolicy(serverId: string, name: string, document: unknown): Promise<Reply> {
  return admin("PUT", `/servers/${serverId}/policies/${name}`, document);
}

export async function createGrant(serverId: string, policyName?: string, label = "agent-1"): Promise<{ id: string; token: string; reply: Reply }> {
  const reply = await admin("POST", "/grants", policyName === undefined ? { label, serverId } : { label, serverId, policyName });
  if (reply.status !== 201) throw new Error(`createGrant: ${reply.status} ${reply.text}`);
  return { id: reply.json.grant.id, token: reply.json.token, reply };
}

export const grantStub = (grantId: string) => env.GRANTS.get(env.GRANTS.idFromName(grantId));

/**
 * /admin/servers: upstream MCP servers. Header values are write-only: responses list header names.
 * A change reaches every live grant of the server (setUpstream) first, and KV only once every grant
 * took it, so the record never claims an upstream the grants do not use.
 *
 * Creating a server, or changing its URL or headers, also discovers its tools (src/admin/catalogue.ts):
 * the answer carries `discovery`, and a failed discovery never fails the save (its error is recorded
 * in the catalogue and returned here).
 */
import { Hono } from "hono";
import { z } from "zod";
import { refreshCatalogue } from "../catalogue/refresh";
import { checkPins } from "./server-object";
import { newServerId, newWebhookSecret } from "../grant/token";
import { deleteCatalogue } from "../store/catalogue";
import { listServerGrants } from "../store/grants";
import {
  type ServerRecord,
  deleteServer,
  getServer,
  listServers,
  putServer,
  serverHasGrants,
  serverIdSchema,
  serverNameSchema,
  upstreamHeadersSchema,
  upstreamOf,
  upstreamUrlSchema,
} from "../store/servers";
import { readBody } from "./body";
import { AdminError, notFound } from "./errors";
import { pushFailed, pushToGrants } from "./grant-object";

const CreateServer = z.strictObject({
  id: serverIdSchema.optional(),
  name: serverNameSchema,
  url: upstreamUrlSchema,
  headers: upstreamHeadersSchema.optional(),
  /** Where new approval requests are POSTed (docs/approvals.md); null or absent: nowhere. */
  approvalWebhook: upstreamUrlSchema.nullable().optional(),
});

/** `headers` replaces the whole set: values are never shown, so there is nothing to merge against. */
const UpdateServer = z
  .strictObject({ name: serverNameSchema, url: upstreamUrlSchema, headers: upstreamHeadersSchema, approvalWebhook: upstreamUrlSchema.nullable() })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "nothing to change: give name, url, headers or approvalWebhook");

export interface ServerView extends Omit<ServerRecord, "headers" | "approvalWebhook"> {
  headers: string[];
  /** The webhook URL's origin followed by "/…" (the rest may be a credential), or null. */
  approvalWebhook: string | null;
}

export const serverView = (server: ServerRecord): ServerView => {
  const { approvalWebhook, ...rest } = server;
  const webhook = approvalWebhook ?? null;
  return { ...rest, headers: Object.keys(server.headers), approvalWebhook: webhook === null ? null : `${new URL(webhook.url).origin}/…` };
};

/** A newly set webhook gets a new signing secret, returned once; null removes the webhook. */
function webhookOf(url: string | null | undefined, now: string): { record: ServerRecord["approvalWebhook"]; secret?: string } {
  if (url === undefined || url === null) return { record: null };
  const secret = newWebhookSecret();
  return { record: { url, secret, set: now }, secret };
}

export async function requireServer(kv: KVNamespace, serverId: string): Promise<ServerRecord> {
  const server = await getServer(kv, serverId);
  if (server === null) throw notFound("server", serverId);
  return server;
}

export const servers = new Hono<{ Bindings: Env }>();

servers.post("/servers", async (c) => {
  const body = await readBody(c, CreateServer);
  const id = body.id ?? newServerId();
  if ((await getServer(c.env.RECORDS, id)) !== null) {
    throw new AdminError(409, "server_exists", `A server with id ${JSON.stringify(id)} already exists`);
  }
  const now = new Date().toISOString();
  const webhook = webhookOf(body.approvalWebhook, now);
  const server: ServerRecord = {
    id,
    name: body.name,
    url: body.url,
    headers: body.headers ?? {},
    approvalWebhook: webhook.record,
    version: 1,
    created: now,
    updated: now,
  };
  await putServer(c.env.RECORDS, server);
  const discovery = await refreshCatalogue(c.env.RECORDS, server);
  // The only response that carries the webhook's signing secret.
  return c.json({ ...serverView(server), ...(webhook.secret === undefined ? {} : { approvalWebhookSecret: webhook.secret }), discovery }, 201);
});

servers.get("/servers", async (c) => {
  const all = await listServers(c.env.RECORDS);
  return c.json({ servers: all.map(serverView) });
});

servers.get("/servers/:id", async (c) => {
  return c.json(serverView(await requireServer(c.env.RECORDS, c.req.param("id"))));
});

servers.patch("/servers/:id", async (c) => {
  const current = await requireServer(c.env.RECORDS, c.req.param("id"));
  const { approvalWebhook, ...patch } = await readBody(c, UpdateServer);
  const now = new Date().toISOString();
  const webhook = approvalWebhook === undefined ? null : webhookOf(approvalWebhook, now);
  const server: ServerRecord = {
    ...current,
    ...patch,
    ...(webhook === null ? {} : { approvalWebhook: webhook.record }),
    version: current.version + 1,
    updated: now,
  };
  // Revoked grants never reach an upstream again; they need no update.
  const live = (await listServerGrants(c.env.RECORDS, server.id)).filter((grant) => grant.revoked === null);
  const upstream = upstreamOf(server);
  const failed = await pushToGrants(c.env, live, (grant) => grant.setUpstream(upstream));
  if (failed.length > 0) throw pushFailed(`Version ${server.version} of server ${server.id}`, failed, serverView(server));
  await putServer(c.env.RECORDS, server);
  const shown = { ...serverView(server), ...(webhook?.secret === undefined ? {} : { approvalWebhookSecret: webhook.secret }) };
  // Another upstream or other credentials may list other tools.
  if (patch.url === undefined && patch.headers === undefined) return c.json(shown);
  const discovery = await refreshCatalogue(c.env.RECORDS, server);
  const quarantined = discovery.outcome === "ok" ? await checkPins(c.env, server.id) : null;
  return c.json({ ...shown, discovery, quarantined });
});

servers.delete("/servers/:id", async (c) => {
  const server = await requireServer(c.env.RECORDS, c.req.param("id"));
  if (await serverHasGrants(c.env.RECORDS, server.id)) {
    throw new AdminError(409, "server_has_grants", `Server ${server.id} still has grants; delete them first`);
  }
  await deleteServer(c.env.RECORDS, server.id);
  await deleteCatalogue(c.env.RECORDS, server.id);
  return c.json({ id: server.id, deleted: true });
});

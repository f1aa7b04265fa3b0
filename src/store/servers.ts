/**
 * Server records: `server:<id>` → where a server's upstream is and the headers the gateway adds.
 *
 * Header values are secrets (an upstream API key, typically): they live here and in each grant's
 * Durable Object, and the admin API only ever returns their names.
 */
import { z } from "zod";
import { GRANT_ID_SHAPE } from "../grant/token";
import type { Upstream } from "../grant/protocol";
import { listKeys, readAll, readRecord, writeRecord } from "./kv";
import { SERVER_PREFIX, policyPrefix, serverGrantsPrefix, serverKey } from "./keys";

export const serverIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1-63 lowercase letters, digits or '-', starting with a letter or digit")
  // `/mcp/<id>` takes a grant id or a server id: the two must never be confused.
  .refine((id) => !GRANT_ID_SHAPE.test(id), "must not look like a grant id (g + 32 hex digits)");

export const serverNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters");

export const upstreamUrlSchema = z
  .string()
  .max(2048)
  .refine((text) => {
    if (!URL.canParse(text)) return false;
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.username === "" && url.password === "";
  }, "must be an http(s) URL without credentials (put credentials in headers)");

// RFC 9110 §5.6.2 token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
// RFC 9110 §5.5: visible characters, spaces and tabs; never CR, LF or NUL (header injection).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;
/**
 * Headers the gateway or the transport owns: hop-by-hop and framing headers (RFC 9110 §7.6.1) and the
 * per-request MCP headers, which come from the client's request, never from configuration.
 */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
  "accept",
  "last-event-id",
  "mcp-session-id",
  "mcp-protocol-version",
  "mcp-method",
  "mcp-name",
]);

export const upstreamHeadersSchema = z
  .record(
    z
      .string()
      .regex(HEADER_NAME, "must be an HTTP header name")
      .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), "is set by the gateway for each request and cannot be configured"),
    z.string().regex(HEADER_VALUE, "must be a header value without CR, LF or NUL"),
  )
  .refine((headers) => Object.keys(headers).length <= 32, "at most 32 headers")
  .refine((headers) => {
    const lower = Object.keys(headers).map((name) => name.toLowerCase());
    return new Set(lower).size === lower.length;
  }, "header names must be unique ignoring case");

/**
 * Where new approval requests are POSTed (docs/approvals.md), and the key that signs them. Both are
 * secrets (a Slack webhook URL is its own credential): the API shows only the URL's origin, and the
 * secret once, when the URL is set.
 */
export const ApprovalWebhook = z.strictObject({
  url: upstreamUrlSchema,
  secret: z.string().min(32),
  set: z.iso.datetime(),
});
export type ApprovalWebhook = z.infer<typeof ApprovalWebhook>;

export const ServerRecord = z.strictObject({
  id: serverIdSchema,
  name: serverNameSchema,
  url: upstreamUrlSchema,
  headers: upstreamHeadersSchema,
  /** Absent on servers saved before approvals existed. */
  approvalWebhook: ApprovalWebhook.nullable().optional(),
  /** Bumped on every change; grants' Durable Objects report the version they enforce. */
  version: z.int().positive(),
  created: z.iso.datetime(),
  updated: z.iso.datetime(),
});
export type ServerRecord = z.infer<typeof ServerRecord>;

export function getServer(kv: KVNamespace, serverId: string): Promise<ServerRecord | null> {
  return readRecord(kv, serverKey(serverId), ServerRecord);
}

export function putServer(kv: KVNamespace, server: ServerRecord): Promise<void> {
  return writeRecord(kv, serverKey(server.id), server);
}

export function listServers(kv: KVNamespace): Promise<ServerRecord[]> {
  return readAll(kv, SERVER_PREFIX, ServerRecord);
}

export async function serverHasGrants(kv: KVNamespace, serverId: string): Promise<boolean> {
  const page = await kv.list({ prefix: serverGrantsPrefix(serverId), limit: 1 });
  return page.keys.length > 0;
}

/**
 * Delete the server record and its policy heads. Policy versions stay: audit records of deleted
 * grants name them, and a server re-created with the same id continues their numbering.
 */
export async function deleteServer(kv: KVNamespace, serverId: string): Promise<void> {
  const heads = await listKeys(kv, policyPrefix(serverId));
  await Promise.all(heads.map((key) => kv.delete(key)));
  await kv.delete(serverKey(serverId));
}

/** What a grant's Durable Object needs to reach this server. */
export function upstreamOf(server: ServerRecord): Upstream {
  const upstream: Upstream = { serverId: server.id, serverName: server.name, url: server.url, headers: server.headers, version: server.version };
  const webhook = server.approvalWebhook ?? null;
  if (webhook !== null) upstream.approvalWebhook = { url: webhook.url, secret: webhook.secret };
  return upstream;
}

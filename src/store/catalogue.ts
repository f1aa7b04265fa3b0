/**
 * The catalogue's KV records, one of each per server (docs/storage.md):
 *   `catalogue:<serverId>`       the snapshot of the last successful discovery, and the last attempt
 *   `tool-overrides:<serverId>`  operators' category overrides, by tool name
 *
 * Tool names come from the upstream and are attacker-controlled text: they never become part of a
 * KV key. Overrides are kept in one record per server, keyed inside the value by names that match
 * MCP's tool-name characters (never "__proto__").
 *
 * Lifecycle: discovery rewrites `catalogue:` (a failed attempt keeps the previous snapshot and
 * records the error); overrides are written only by the operator and survive re-discovery; both
 * records go with the server. Trade-off: KV has no compare-and-set, so two overrides of the same
 * server saved at the same instant can lose one; operators should serialize them, as policy saves.
 */
import { z } from "zod";
import { CATEGORIES } from "../catalogue/classify";
import { ToolDefinition } from "../catalogue/definition";
import { TOOL_NAME } from "../policy/evaluate";
import { readRecord, writeRecord } from "./kv";
import { catalogueKey, toolOverridesKey } from "./keys";
import { serverIdSchema } from "./servers";

export const DiscoveryErrorRecord = z.strictObject({
  code: z.enum(["unreachable", "timeout", "redirect", "unauthorized", "upstream_error", "not_mcp", "too_large", "invalid_tools"]),
  message: z.string().max(1024),
});

export const SnapshotTool = z.strictObject({
  /** SHA-256 of the canonical JSON of the definition (src/catalogue/fingerprint.ts). */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  definition: ToolDefinition,
});
export type SnapshotTool = z.infer<typeof SnapshotTool>;

export const Snapshot = z.strictObject({
  fetched: z.iso.datetime(),
  /** The server record's version the tools were fetched from. */
  serverVersion: z.int().positive(),
  protocolVersion: z.string().max(64),
  tools: z.array(SnapshotTool),
});
export type Snapshot = z.infer<typeof Snapshot>;

export const DiscoveryAttempt = z.discriminatedUnion("outcome", [
  z.strictObject({ outcome: z.literal("ok"), at: z.iso.datetime(), serverVersion: z.int().positive() }),
  z.strictObject({ outcome: z.literal("failed"), at: z.iso.datetime(), serverVersion: z.int().positive(), error: DiscoveryErrorRecord }),
]);
export type DiscoveryAttempt = z.infer<typeof DiscoveryAttempt>;

export const CatalogueRecord = z.strictObject({
  serverId: serverIdSchema,
  /** The last successful discovery; null until one succeeds. */
  snapshot: Snapshot.nullable(),
  lastAttempt: DiscoveryAttempt,
});
export type CatalogueRecord = z.infer<typeof CatalogueRecord>;

/** A tool name an override may be stored under. */
export const overridableToolName = z
  .string()
  .regex(TOOL_NAME, "must be an MCP tool name (A-Z, a-z, 0-9, _, - and ., at most 128)")
  .refine((name) => name !== "__proto__", 'cannot be "__proto__"');

export const ToolOverride = z.strictObject({
  category: z.enum(CATEGORIES),
  set: z.iso.datetime(),
});
export type ToolOverride = z.infer<typeof ToolOverride>;

export const ToolOverridesRecord = z.strictObject({
  serverId: serverIdSchema,
  overrides: z.record(overridableToolName, ToolOverride),
});
export type ToolOverridesRecord = z.infer<typeof ToolOverridesRecord>;

export function getCatalogue(kv: KVNamespace, serverId: string): Promise<CatalogueRecord | null> {
  return readRecord(kv, catalogueKey(serverId), CatalogueRecord);
}

export function putCatalogue(kv: KVNamespace, record: CatalogueRecord): Promise<void> {
  return writeRecord(kv, catalogueKey(record.serverId), record);
}

/** The server's overrides as a Map (names are upstream text: no plain-object lookups). */
export async function getToolOverrides(kv: KVNamespace, serverId: string): Promise<Map<string, ToolOverride>> {
  const record = await readRecord(kv, toolOverridesKey(serverId), ToolOverridesRecord);
  return new Map(record === null ? [] : Object.entries(record.overrides));
}

export function putToolOverrides(kv: KVNamespace, serverId: string, overrides: ReadonlyMap<string, ToolOverride>): Promise<void> {
  const record: ToolOverridesRecord = { serverId, overrides: Object.fromEntries(overrides) };
  return writeRecord(kv, toolOverridesKey(serverId), record);
}

export async function deleteCatalogue(kv: KVNamespace, serverId: string): Promise<void> {
  await Promise.all([kv.delete(catalogueKey(serverId)), kv.delete(toolOverridesKey(serverId))]);
}

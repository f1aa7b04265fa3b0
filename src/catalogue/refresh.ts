/**
 * Refreshing a server's catalogue: discover its tools and store the result (a shell over
 * discover.ts and src/store/catalogue.ts). A failed discovery keeps the previous snapshot and
 * records the error; it never throws for an upstream's fault, so saving a server never fails
 * because its upstream is down.
 */
import type { ServerRecord } from "../store/servers";
import { getCatalogue, putCatalogue, type CatalogueRecord, type DiscoveryAttempt } from "../store/catalogue";
import { CorruptRecordError } from "../store/kv";
import { discoverTools, type DiscoveryError } from "./discover";
import { toolFingerprint } from "./fingerprint";

/** What the admin API tells the caller about a discovery it ran. */
export type DiscoverySummary =
  | { outcome: "ok"; fetched: string; protocolVersion: string; tools: number }
  | { outcome: "failed"; at: string; error: DiscoveryError; snapshotKept: boolean };

export async function refreshCatalogue(kv: KVNamespace, server: ServerRecord): Promise<DiscoverySummary> {
  const discovered = await discoverTools({ url: server.url, headers: server.headers });
  const at = new Date().toISOString();
  const previous = await previousSnapshot(kv, server.id);
  if (!discovered.ok) {
    const lastAttempt: DiscoveryAttempt = { outcome: "failed", at, serverVersion: server.version, error: discovered.error };
    await putCatalogue(kv, { serverId: server.id, snapshot: previous, lastAttempt });
    return { outcome: "failed", at, error: discovered.error, snapshotKept: previous !== null };
  }
  const { protocolVersion, tools } = discovered.value;
  const record: CatalogueRecord = {
    serverId: server.id,
    snapshot: {
      fetched: at,
      serverVersion: server.version,
      protocolVersion,
      tools: tools.map((definition) => ({ fingerprint: toolFingerprint(definition), definition })),
    },
    lastAttempt: { outcome: "ok", at, serverVersion: server.version },
  };
  await putCatalogue(kv, record);
  return { outcome: "ok", fetched: at, protocolVersion, tools: tools.length };
}

/** The snapshot to keep when a discovery fails; a corrupt record is replaced, not kept. */
async function previousSnapshot(kv: KVNamespace, serverId: string): Promise<CatalogueRecord["snapshot"]> {
  try {
    return (await getCatalogue(kv, serverId))?.snapshot ?? null;
  } catch (error) {
    if (error instanceof CorruptRecordError) return null;
    throw error;
  }
}

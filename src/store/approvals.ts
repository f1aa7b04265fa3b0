/**
 * The approval listing index in KV: `approval:<serverId>:<approvalId>` → "" with a summary of the
 * request in the key's metadata, so a page of the listing is one `list` call.
 *
 * For listing only. It is written by the grant's Durable Object (its alarm) after the request
 * changed there, so it can lag by seconds and, being KV, by up to a minute elsewhere. Nothing
 * decides on it: the admin API reads each listed request's status from its grant's object, and
 * every decision goes through that object (docs/approvals.md).
 */
import { z } from "zod";
import { approvalStatusSchema } from "../grant/approvals";
import { approvalIndexKey } from "./keys";

export const ApprovalIndexMetadata = z.strictObject({
  grantId: z.string(),
  serverId: z.string(),
  tool: z.string(),
  status: approvalStatusSchema,
  requested: z.string(),
  expires: z.string(),
});
export type ApprovalIndexMetadata = z.infer<typeof ApprovalIndexMetadata>;

/** Index entries stay this long after their request expires, then KV drops them. */
const KEPT_AFTER_EXPIRY_S = 30 * 86_400;

export async function putApprovalIndex(kv: KVNamespace, id: string, entry: ApprovalIndexMetadata, now: number): Promise<void> {
  const expiresInS = Math.ceil((Date.parse(entry.expires) - now) / 1000);
  // KV's metadata holds at most 1024 bytes: tool names past 128 characters are cut here.
  const metadata = { ...entry, tool: entry.tool.slice(0, 128) };
  await kv.put(approvalIndexKey(entry.serverId, id), "", { metadata, expirationTtl: Math.max(60, expiresInS) + KEPT_AFTER_EXPIRY_S });
}

export interface ApprovalIndexPage {
  /** `metadata` is null when it does not parse; the entry is still listed (its object decides). */
  entries: { id: string; metadata: ApprovalIndexMetadata | null }[];
  /** Pass back for the next page; null at the end. */
  cursor: string | null;
}

/** One page of index entries under `prefix`, in key order (server, grant, then time). */
export async function listApprovalIndex(kv: KVNamespace, prefix: string, cursor: string | null, limit: number): Promise<ApprovalIndexPage> {
  const page = await kv.list<unknown>(cursor === null ? { prefix, limit } : { prefix, limit, cursor });
  const entries = page.keys.map((key) => {
    const metadata = ApprovalIndexMetadata.safeParse(key.metadata);
    return { id: key.name.slice(key.name.lastIndexOf(":") + 1), metadata: metadata.success ? metadata.data : null };
  });
  return { entries, cursor: page.list_complete ? null : page.cursor };
}

/**
 * Which MCP protocol revision a message speaks (docs/mcp.md, "Two eras on one endpoint").
 *
 * From 2026-07-28 on, every request carries its revision in
 * `params._meta["io.modelcontextprotocol/protocolVersion"]`; earlier revisions negotiate once and
 * repeat it in the `MCP-Protocol-Version` header (absent: 2025-03-26). The body is read first: an
 * intermediary decides from the body, never from a header alone.
 */
import { isJsonObject } from "./json";
import type { JsonRpcMessage } from "./jsonrpc";

export const PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion";
/** The first stateless revision: no sessions, `resultType` on every result, closing a stream cancels. */
export const STATELESS_REVISION = "2026-07-28";
/** The only revision in which JSON-RPC batches were part of MCP. */
export const BATCH_REVISION = "2025-03-26";

export function revisionOf(message: JsonRpcMessage | null, header: string | null): string {
  if (message !== null && message.kind !== "response") {
    const meta = isJsonObject(message.params) ? message.params._meta : undefined;
    const version = isJsonObject(meta) ? meta[PROTOCOL_VERSION_META_KEY] : undefined;
    if (typeof version === "string") return version;
  }
  return header ?? BATCH_REVISION;
}

/** Revisions are dates (YYYY-MM-DD), so later ones compare greater as text. */
export const isStateless = (revision: string): boolean => revision >= STATELESS_REVISION;

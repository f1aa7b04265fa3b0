/**
 * The KV key layout (binding RECORDS); docs/storage.md describes every prefix.
 *
 * Ids and names never contain ":" (servers: `^[a-z0-9][a-z0-9-]{0,62}$`, grants: `g` + hex, policy
 * names: `^[A-Za-z0-9_.-]{1,64}$`), so a prefix such as `policy:<serverId>:` can never match a longer
 * server id. Versions are zero-padded so that KV's lexicographic `list` order is numeric order.
 */

export const serverKey = (serverId: string): string => `server:${serverId}`;
export const SERVER_PREFIX = "server:";

export const policyKey = (serverId: string, name: string): string => `policy:${serverId}:${name}`;
export const policyPrefix = (serverId: string): string => `policy:${serverId}:`;

const VERSION_DIGITS = 10;
export const policyVersionKey = (serverId: string, name: string, version: number): string =>
  `${policyVersionPrefix(serverId, name)}${String(version).padStart(VERSION_DIGITS, "0")}`;
export const policyVersionPrefix = (serverId: string, name: string): string => `policy-version:${serverId}:${name}:`;

/** The version number at the end of a `policy-version:` key, or null if the key is not one. */
export function versionOfKey(key: string): number | null {
  const match = /:(\d{10})$/.exec(key);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export const grantKey = (grantId: string): string => `grant:${grantId}`;
export const GRANT_PREFIX = "grant:";

export const serverGrantKey = (serverId: string, grantId: string): string => `server-grants:${serverId}:${grantId}`;
export const serverGrantsPrefix = (serverId: string): string => `server-grants:${serverId}:`;

/** The last discovery of a server's tools (src/store/catalogue.ts). */
export const catalogueKey = (serverId: string): string => `catalogue:${serverId}`;
/** Operators' category overrides for a server's tools: one record per server, so tool names never enter a key. */
export const toolOverridesKey = (serverId: string): string => `tool-overrides:${serverId}`;

/** A console session ended by sign-out (src/console/guard.ts); expires with the session itself. */
export const consoleSignOutKey = (nonce: string): string => `console-signout:${nonce}`;

/**
 * The approval listing index: one key per approval request, its summary in the key's metadata
 * (src/store/approvals.ts). Approval ids embed their grant id, so `approval:<serverId>:apr_<grantId>_`
 * lists one grant's requests.
 */
export const approvalIndexKey = (serverId: string, approvalId: string): string => `approval:${serverId}:${approvalId}`;
export const APPROVAL_INDEX_PREFIX = "approval:";
export const approvalServerPrefix = (serverId: string): string => `approval:${serverId}:`;
export const approvalGrantPrefix = (serverId: string, grantId: string): string => `approval:${serverId}:apr_${grantId}_`;

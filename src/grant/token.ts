/**
 * The one ID and token generator.
 *
 * A grant token embeds its grant id (`mpg_<grant-id>_<secret>`), so `/mcp/<server-id>` can find the
 * grant's Durable Object without a KV lookup; the secret part carries 256 random bits. Tokens are
 * shown once (create, rotate) and stored only as `hashToken(token)`, inside the grant's Durable
 * Object. A plain SHA-256 is enough here: the input is 256 random bits, not a password.
 */
import { createHash } from "node:crypto";

const GRANT_TOKEN = /^mpg_(g[0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;
/** A grant id: "g" + 96 random bits in lowercase hex. Server ids must never look like this. */
export const GRANT_ID = /^g[0-9a-f]{24}$/;

function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** RFC 4648 §5 base64url without padding. */
function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function newGrantId(): string {
  return "g" + randomHex(12);
}

export function newServerId(): string {
  return "srv-" + randomHex(6);
}

export function newRequestId(): string {
  return crypto.randomUUID();
}

export function newGrantToken(grantId: string): string {
  // 32 bytes encode to exactly 43 base64url characters.
  return `mpg_${grantId}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export function parseGrantToken(token: string): { grantId: string } | null {
  const match = GRANT_TOKEN.exec(token);
  return match?.[1] === undefined ? null : { grantId: match[1] };
}

/**
 * SHA-256 of the token, lowercase hex: the only form in which a token is stored. Synchronous
 * (node:crypto, nodejs_compat): it runs on every gateway request, and crypto.subtle's promise and
 * byte-to-hex loop cost more than the hash itself.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

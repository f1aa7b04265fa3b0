/**
 * The one ID and token generator.
 *
 * A grant id carries a MAC under the gateway's `GRANT_ID_SECRET`: `g` + 16 hex digits of randomness
 * + the first 16 hex digits of HMAC-SHA256(secret, randomness). The Worker checks it before it
 * touches any Durable Object, so a made-up grant id (in a URL, a token or an admin path) costs no
 * object, no storage and no round trip: anyone on the internet can send requests, but only the
 * gateway can mint ids that reach storage.
 *
 * A grant token embeds its grant id (`mpg_<grant-id>_<secret>`), so `/mcp/<server-id>` can find the
 * grant's Durable Object without a KV lookup; the secret part carries 256 random bits. Tokens are
 * shown once (create, rotate) and stored only as `hashToken(token)`, inside the grant's Durable
 * Object. A plain SHA-256 is enough here: the input is 256 random bits, not a password.
 */
import { constantTimeEqual, hmacSha256Hex, sha256Hex } from "../digest";

/** The shape of a grant id; `isGenuineGrantId` also checks its MAC. Server ids must never look like this. */
export const GRANT_ID_SHAPE = /^g[0-9a-f]{32}$/;
const GRANT_TOKEN = /^mpg_(g[0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
/** Domain separation: this key MACs grant ids and nothing else. */
const GRANT_ID_CONTEXT = "mcp-policy-gateway grant id v1:";

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

const grantIdMac = (secret: string, random: string): string => hmacSha256Hex(secret, GRANT_ID_CONTEXT + random).slice(0, 16);

export function newGrantId(secret: string): string {
  const random = randomHex(8);
  return `g${random}${grantIdMac(secret, random)}`;
}

/** Whether `id` is a grant id this gateway minted (shape and MAC), compared in constant time. */
export function isGenuineGrantId(id: string, secret: string): boolean {
  if (!GRANT_ID_SHAPE.test(id)) return false;
  return constantTimeEqual(id.slice(17), grantIdMac(secret, id.slice(1, 17)));
}

export function newServerId(): string {
  return `srv-${randomHex(6)}`;
}

/** `apr_<grant-id>_<time, 12 hex><random, 16 hex>`: the grant id says which object decides it. */
export const APPROVAL_ID_SHAPE = /^apr_(g[0-9a-f]{32})_[0-9a-f]{28}$/;

/** An approval request's id; the time keeps one grant's requests in order in the listing index. */
export function newApprovalId(grantId: string, now: number): string {
  return `apr_${grantId}_${Math.max(0, Math.floor(now)).toString(16).padStart(12, "0").slice(-12)}${randomHex(8)}`;
}

/** The grant id an approval id names, by shape only (`isGenuineGrantId` decides whether it is real). */
export function grantOfApprovalId(id: string): string | null {
  return APPROVAL_ID_SHAPE.exec(id)?.[1] ?? null;
}

export function newRequestId(): string {
  return crypto.randomUUID();
}

export function newGrantToken(grantId: string): string {
  // 32 bytes encode to exactly 43 base64url characters.
  return `mpg_${grantId}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The grant id a token names, by shape only; `isGenuineGrantId` decides whether it is real. */
export function parseGrantToken(token: string): { grantId: string } | null {
  const match = GRANT_TOKEN.exec(token);
  return match?.[1] === undefined ? null : { grantId: match[1] };
}

/** A server's approval webhook signing key: 256 random bits, shown once when the webhook is set. */
export function newWebhookSecret(): string {
  return `whsec_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** SHA-256 of the token, lowercase hex: the only form in which a token is stored. */
export function hashToken(token: string): string {
  return sha256Hex(token);
}

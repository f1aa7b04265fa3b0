/**
 * The console's sign-in session: a signed cookie value, minted when the operator pastes the admin
 * token and checked on every console request. Pure: the caller passes the admin token, the origin
 * and the time.
 *
 * Value: `v1.<expires>.<nonce>.<mac>`, where `expires` is Unix milliseconds, `nonce` 32 random hex
 * digits (names the session for sign-out) and `mac` is HMAC-SHA256 over
 * `v1.<expires>.<nonce>.<origin>` under a key derived from ADMIN_TOKEN. The origin is signed but not
 * sent, so a cookie minted by one deployment (or copied from a staging host that shares the token)
 * is refused on another.
 *
 * Why a key derived from ADMIN_TOKEN rather than a separate secret: rotating the admin token must
 * end every console session at once (the token is what a session stands for), and an operator has
 * one secret fewer to provision and forget. The derivation is an HMAC under a fixed label, so the
 * session key is never the token itself and a cookie MAC cannot stand in for anything else the
 * token guards.
 */
import { constantTimeEqual, hmacSha256Hex } from "../digest";
import { err, ok, type Result } from "../result";

/** 12 hours, in milliseconds. */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;

const LABEL = "mcp-policy-gateway/console-session/v1";

export interface Session {
  /** Unix milliseconds after which the session is refused. */
  expires: number;
  /** 32 lowercase hex digits: names this session (sign-out records it). */
  nonce: string;
}

export type SessionRefusal = "malformed" | "bad_signature" | "expired";

/** The key cookies are signed with; changes whenever ADMIN_TOKEN does. */
export const sessionKey = (adminToken: string): string => hmacSha256Hex(adminToken, LABEL);

const signed = (session: Session, origin: string): string => `v1.${session.expires}.${session.nonce}.${origin}`;

export function newSession(now: number, nonce: string): Session {
  return { expires: now + SESSION_LIFETIME_MS, nonce };
}

export function sessionCookieValue(adminToken: string, origin: string, session: Session): string {
  const mac = hmacSha256Hex(sessionKey(adminToken), signed(session, origin));
  return `v1.${session.expires}.${session.nonce}.${mac}`;
}

/**
 * The session a cookie value carries, if it was signed for this origin with the current admin token
 * and has not expired. The MAC is checked before the time, in constant time, so a forged value learns
 * nothing from how it was refused beyond "not ours".
 */
export function readSessionCookie(adminToken: string, origin: string, value: string, now: number): Result<Session, SessionRefusal> {
  const match = /^v1\.([0-9]{1,16})\.([0-9a-f]{32})\.([0-9a-f]{64})$/.exec(value);
  if (match === null) return err("malformed");
  const [, expiresText, nonce, mac] = match as unknown as [string, string, string, string];
  const session: Session = { expires: Number(expiresText), nonce };
  const expected = hmacSha256Hex(sessionKey(adminToken), signed(session, origin));
  if (!constantTimeEqual(mac, expected)) return err("bad_signature");
  // A lifetime longer than ours can only come from a key holder; refuse it all the same.
  if (session.expires <= now || session.expires > now + SESSION_LIFETIME_MS) return err("expired");
  return ok(session);
}

/** The admin token's digest check for sign-in: constant time whatever the lengths. */
export function isAdminToken(adminToken: string, presented: string): boolean {
  return constantTimeEqual(hmacSha256Hex(LABEL, presented), hmacSha256Hex(LABEL, adminToken));
}

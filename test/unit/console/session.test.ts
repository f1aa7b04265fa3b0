import { describe, expect, it } from "vitest";
import { isAdminToken, newSession, readSessionCookie, SESSION_LIFETIME_MS, sessionCookieValue, sessionKey } from "../../../src/console/session";

const TOKEN = "admin-token-for-tests";
const ORIGIN = "https://gw.example.com";
const NOW = Date.parse("2026-07-01T12:00:00Z");
const NONCE = "0123456789abcdef0123456789abcdef";

describe("console session cookie", () => {
  const value = sessionCookieValue(TOKEN, ORIGIN, newSession(NOW, NONCE));

  it("reads back within 12 hours, for this origin and token", () => {
    expect(readSessionCookie(TOKEN, ORIGIN, value, NOW)).toEqual({ ok: true, value: { expires: NOW + SESSION_LIFETIME_MS, nonce: NONCE } });
    expect(readSessionCookie(TOKEN, ORIGIN, value, NOW + SESSION_LIFETIME_MS - 1).ok).toBe(true);
  });

  it.each([
    ["expired", TOKEN, ORIGIN, value, NOW + SESSION_LIFETIME_MS, "expired"],
    ["another origin", TOKEN, "https://staging.example.com", value, NOW, "bad_signature"],
    ["a rotated admin token", "new-admin-token", ORIGIN, value, NOW, "bad_signature"],
    ["a changed expiry", TOKEN, ORIGIN, value.replace(/^v1\.\d+/, `v1.${NOW + SESSION_LIFETIME_MS + 5}`), NOW, "bad_signature"],
    ["a changed nonce", TOKEN, ORIGIN, value.replace(NONCE, "f".repeat(32)), NOW, "bad_signature"],
    ["junk", TOKEN, ORIGIN, "v1.x.y.z", NOW, "malformed"],
    ["empty", TOKEN, ORIGIN, "", NOW, "malformed"],
  ])("refuses %s", (_, token, origin, cookie, now, reason) => {
    expect(readSessionCookie(token, origin, cookie, now)).toEqual({ ok: false, error: reason });
  });

  it("refuses a lifetime longer than 12 hours even when signed", () => {
    const long = sessionCookieValue(TOKEN, ORIGIN, { expires: NOW + SESSION_LIFETIME_MS + 60_000, nonce: NONCE });
    expect(readSessionCookie(TOKEN, ORIGIN, long, NOW)).toEqual({ ok: false, error: "expired" });
  });

  it("signs with a key derived from the admin token, never the token itself, and never shows it", () => {
    expect(sessionKey(TOKEN)).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionKey(TOKEN)).not.toContain(TOKEN);
    expect(value).not.toContain(TOKEN);
  });

  it("compares the admin token exactly", () => {
    expect(isAdminToken(TOKEN, TOKEN)).toBe(true);
    expect(isAdminToken(TOKEN, `${TOKEN} `)).toBe(false);
    expect(isAdminToken(TOKEN, "")).toBe(false);
  });
});

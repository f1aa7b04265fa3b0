/**
 * The console's guards, in the order a request meets them (docs/console.md, "Security model"):
 *
 * 1. `consoleHeaders`: every console answer carries a Content-Security-Policy without inline script
 *    or style (`default-src 'self'`), refuses framing, and is never cached (pages show grant tokens
 *    once).
 * 2. `sameOrigin`: a state-changing request (anything but GET/HEAD) must carry an `Origin` equal to
 *    the console's own and must not be marked `Sec-Fetch-Site: cross-site` or `same-site`; one without
 *    `Origin` is refused too (fail closed: every browser sends it on a POST).
 * 3. `consoleSession`: the signed session cookie (src/console/session.ts), not ended by sign-out and
 *    not arriving on a request another site started (such a GET is sent to the sign-in page).
 *
 * The admin API keeps its own bearer guard (src/admin/guard.ts); the console never relaxes it, it
 * calls the API in-process with the configured token (src/console/admin-client.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { consoleSignOutKey } from "../store/keys";
import { readSessionCookie, type Session } from "./session";

export type ConsoleEnv = { Bindings: Env; Variables: { session: Session } };

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const consoleHeaders = (): MiddlewareHandler<ConsoleEnv> =>
  async function consoleHeaders(c, next) {
    await next();
    c.res.headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.res.headers.set("X-Frame-Options", "DENY");
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    // Not "no-referrer": under it Chromium sends `Origin: null` on form posts, which sameOrigin must refuse.
    c.res.headers.set("Referrer-Policy", "same-origin");
    c.res.headers.set("Cross-Origin-Opener-Policy", "same-origin");
    c.res.headers.set("Cache-Control", "no-store");
  };

/** The hosts on which the cookie may go without `Secure` (plain http is only ever local). */
export function isLocalHost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "127.0.0.1" || hostname === "[::1]";
}

export const SESSION_COOKIE = "mpg_console";

export const originOf = (c: Context): string => new URL(c.req.url).origin;

/** Why a request was refused before any page ran; rendered by routes.tsx. */
export class ConsoleRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 503,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The browser says another site started this request (Fetch Metadata); absent on non-browser clients. */
const fromAnotherSite = (c: Context): boolean => {
  const site = c.req.header("sec-fetch-site");
  return site === "cross-site" || site === "same-site";
};

export const sameOrigin = (): MiddlewareHandler<ConsoleEnv> =>
  async function sameOrigin(c, next) {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const origin = c.req.header("origin");
      if (fromAnotherSite(c) || origin === undefined || origin !== originOf(c)) {
        throw new ConsoleRefusal(403, "This request did not come from the console's own pages (its Origin header is missing or another site's).");
      }
    }
    await next();
  };

export function adminTokenOf(env: Env): string {
  const token = env.ADMIN_TOKEN;
  if (token === undefined || token === "") throw new ConsoleRefusal(503, "ADMIN_TOKEN is not configured, so the console and the admin API refuse to run.");
  return token;
}

/** The signed-in session, or null: a bad, expired, foreign or signed-out cookie counts as none. */
export async function currentSession(c: Context<ConsoleEnv>, now: number): Promise<Session | null> {
  // A cookie on a request another site started is not honoured, even if a browser sent it (SameSite
  // should have stopped it): a link from elsewhere lands on the sign-in page, never inside.
  if (fromAnotherSite(c)) return null;
  const value = getCookie(c, SESSION_COOKIE);
  if (value === undefined) return null;
  const read = readSessionCookie(adminTokenOf(c.env), originOf(c), value, now);
  if (!read.ok) return null;
  if ((await c.env.RECORDS.get(consoleSignOutKey(read.value.nonce))) !== null) return null;
  return read.value;
}

export const consoleSession = (): MiddlewareHandler<ConsoleEnv> =>
  async function consoleSession(c, next) {
    const session = await currentSession(c, Date.now());
    if (session === null) {
      // htmx follows HX-Redirect with a full page load; a plain request gets a redirect.
      if (c.req.header("hx-request") === "true") return c.body(null, 401, { "HX-Redirect": "/console/sign-in" });
      if (c.req.method === "GET") return c.redirect("/console/sign-in", 303);
      throw new ConsoleRefusal(401, "Your console session has ended; sign in again.");
    }
    c.set("session", session);
    await next();
  };

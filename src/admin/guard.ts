/**
 * The admin API's bearer-token guard.
 *
 * Fails closed: without a configured ADMIN_TOKEN the admin API answers 503 to everyone instead of
 * running open. The comparison is constant-time over SHA-256 digests, so neither the token's content
 * nor its length leaks through timing.
 */
import type { MiddlewareHandler } from "hono";
import { AdminError } from "./errors";

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/** The credentials of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is case-insensitive). */
function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? "");
  return match?.[1] ?? null;
}

export const adminGuard = (): MiddlewareHandler<{ Bindings: Env }> =>
  async function adminGuard(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    if (expected === undefined || expected === "") {
      throw new AdminError(503, "admin_disabled", "ADMIN_TOKEN is not configured; the admin API refuses to run");
    }
    const presented = bearerToken(c.req.header("authorization"));
    const [a, b] = await Promise.all([sha256(presented ?? ""), sha256(expected)]);
    if (presented === null || !crypto.subtle.timingSafeEqual(a, b)) {
      c.header("WWW-Authenticate", 'Bearer realm="mcp-policy-gateway admin"');
      throw new AdminError(401, "unauthorized", "A valid admin token is required: Authorization: Bearer <ADMIN_TOKEN>");
    }
    await next();
  };

// The console's sign-in and request guards inside workerd, through the Worker's own fetch handler:
// the cookie's attributes, and refusals of forged, expired, foreign-origin, signed-out and cross-site
// sessions and of state-changing requests from another Origin.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newSession, SESSION_LIFETIME_MS, sessionCookieValue } from "../../../src/console/session";
import { ADMIN_TOKEN, ORIGIN } from "../admin/admin-client";

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = "application/x-www-form-urlencoded";

async function signIn(origin = ORIGIN, token = ADMIN_TOKEN): Promise<Response> {
  return SELF.fetch(`${origin}/console/sign-in`, { method: "POST", redirect: "manual", headers: { origin, "content-type": FORM }, body: form({ token }) });
}

const cookieOf = (response: Response): string => (response.headers.get("set-cookie") ?? "").split(";")[0]!;

/** GET a console page with a cookie; a refused session is a 303 to the sign-in page. */
async function page(cookie: string, headers: Record<string, string> = {}, origin = ORIGIN): Promise<Response> {
  return SELF.fetch(`${origin}/console/servers`, { redirect: "manual", headers: { cookie, ...headers } });
}

const nonce = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("sign-in", () => {
  it("exchanges the admin token for a signed cookie: HttpOnly, SameSite=Strict, Secure, 12 h, path /console", async () => {
    const response = await signIn();
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/console/servers");
    const setCookie = response.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^mpg_console=v1\.\d+\.[0-9a-f]{32}\.[0-9a-f]{64};/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Secure");
    expect(setCookie).toContain("Path=/console");
    expect(setCookie).toContain("Max-Age=43200");
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    expect((await page(cookieOf(response))).status).toBe(200);
  });

  it("leaves Secure off only on a local host (plain http)", async () => {
    const response = await signIn("http://localhost:8787");
    expect(response.status).toBe(303);
    expect(response.headers.get("set-cookie")).not.toContain("Secure");
  });

  it("refuses a wrong token, and never echoes what was typed", async () => {
    const response = await signIn(ORIGIN, "not-the-token-xyz");
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).not.toContain("not-the-token-xyz");
  });

  it("sends the security headers on every page: CSP without inline script, no framing, no caching", async () => {
    const response = await SELF.fetch(`${ORIGIN}/console/sign-in`);
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});

describe("a session is refused when", () => {
  it("there is none: GET redirects to sign-in, an htmx request is told to, a POST is 401", async () => {
    const get = await SELF.fetch(`${ORIGIN}/console/servers`, { redirect: "manual" });
    expect(get.status).toBe(303);
    expect(get.headers.get("location")).toBe("/console/sign-in");
    const htmx = await SELF.fetch(`${ORIGIN}/console/servers`, { headers: { "hx-request": "true" } });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get("hx-redirect")).toBe("/console/sign-in");
    const post = await SELF.fetch(`${ORIGIN}/console/servers`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": FORM },
      body: form({ name: "x", url: "https://x.example/mcp" }),
    });
    expect(post.status).toBe(401);
  });

  it("its signature is forged (one hex digit changed, or signed with another key)", async () => {
    const good = cookieOf(await signIn());
    const flipped = good.replace(/.$/, (last) => (last === "0" ? "1" : "0"));
    expect((await page(flipped)).status).toBe(303);
    const otherKey = `mpg_console=${sessionCookieValue("some-other-admin-token", ORIGIN, newSession(Date.now(), nonce()))}`;
    expect((await page(otherKey)).status).toBe(303);
    expect((await page("mpg_console=v1.9999999999999.zz.00")).status).toBe(303);
  });

  it("it has expired, or claims more than 12 hours", async () => {
    const expired = `mpg_console=${sessionCookieValue(ADMIN_TOKEN, ORIGIN, newSession(Date.now() - SESSION_LIFETIME_MS - 1000, nonce()))}`;
    expect((await page(expired)).status).toBe(303);
    const tooLong = `mpg_console=${sessionCookieValue(ADMIN_TOKEN, ORIGIN, { expires: Date.now() + 2 * SESSION_LIFETIME_MS, nonce: nonce() })}`;
    expect((await page(tooLong)).status).toBe(303);
    const fresh = `mpg_console=${sessionCookieValue(ADMIN_TOKEN, ORIGIN, newSession(Date.now(), nonce()))}`;
    expect((await page(fresh)).status).toBe(200);
  });

  it("it was minted for another origin", async () => {
    const staging = cookieOf(await signIn("https://staging.gw.test"));
    expect((await page(staging, {}, "https://staging.gw.test")).status).toBe(200);
    expect((await page(staging)).status).toBe(303);
  });

  it("the browser says another site started the request (cross-site or same-site), even with a good cookie", async () => {
    const cookie = cookieOf(await signIn());
    for (const site of ["cross-site", "same-site"]) {
      const refused = await page(cookie, { "sec-fetch-site": site });
      expect([site, refused.status, refused.headers.get("location")]).toEqual([site, 303, "/console/sign-in"]);
    }
    expect((await page(cookie, { "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await page(cookie, { "sec-fetch-site": "none" })).status).toBe(200);
    // A link from elsewhere still reaches the sign-in page.
    expect((await SELF.fetch(`${ORIGIN}/console/sign-in`, { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(200);
  });

  it("it was signed out (the same cookie, replayed)", async () => {
    const cookie = cookieOf(await signIn());
    const out = await SELF.fetch(`${ORIGIN}/console/sign-out`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: ORIGIN, "content-type": FORM },
      body: "",
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await page(cookie)).status).toBe(303);
  });
});

describe("state-changing requests", () => {
  it("are refused from another Origin, without an Origin, or with Origin null, even with a good cookie", async () => {
    const cookie = cookieOf(await signIn());
    const post = (headers: Record<string, string>) =>
      SELF.fetch(`${ORIGIN}/console/servers`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": FORM, ...headers },
        body: form({ name: "evil", url: "https://evil.example/mcp", id: "evil" }),
      });
    expect((await post({ origin: "https://evil.example" })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await post({ origin: "null" })).status).toBe(403);
    expect((await post({ origin: ORIGIN, "sec-fetch-site": "same-site" })).status).toBe(403);
    const servers = await SELF.fetch(`${ORIGIN}/admin/servers/evil`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(servers.status).toBe(404);
  });

  it("sign-in itself is refused from another Origin (no login CSRF)", async () => {
    const response = await SELF.fetch(`${ORIGIN}/console/sign-in`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: "https://evil.example", "content-type": FORM },
      body: form({ token: ADMIN_TOKEN }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it("from the console's own origin go through to the admin API, whose bearer guard is unchanged", async () => {
    const cookie = cookieOf(await signIn());
    const id = `console-${Date.now().toString(36)}`;
    const created = await SELF.fetch(`${ORIGIN}/console/servers`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: ORIGIN, "content-type": FORM },
      body: form({ name: "Console-made", url: "http://127.0.0.1:9/mcp", id, "header.0.name": "X-Key", "header.0.value": "secret-123" }),
    });
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe(`/console/servers/${id}`);
    const shown = await page(cookie);
    expect(await shown.text()).not.toContain("secret-123");
    // The session cookie opens nothing under /admin.
    expect((await SELF.fetch(`${ORIGIN}/admin/servers`, { headers: { cookie } })).status).toBe(401);
  });
});

/**
 * Sign-in and sign-out. The operator pastes the admin token once, in a POST body (never a URL), and
 * gets a signed session cookie (src/console/session.ts): HttpOnly, SameSite=Strict, Secure except on
 * a local host, 12 hours. Sign-out records the session's nonce in KV until it would have expired, so
 * a copied cookie stops working too (KV is eventually consistent: within about a minute everywhere).
 */
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { consoleSignOutKey } from "../../store/keys";
import { readPostedForm } from "../form-body";
import { adminTokenOf, currentSession, isLocalHost, SESSION_COOKIE, type ConsoleEnv } from "../guard";
import { Notice, Page } from "../layout";
import { isAdminToken, newSession, SESSION_LIFETIME_MS, sessionCookieValue } from "../session";

export const signIn = new Hono<ConsoleEnv>();

function SignInPage(props: { problem?: string; signedOut?: boolean }) {
  return (
    <Page title="Sign in" signedIn={false}>
      {props.signedOut ? <Notice kind="ok">You are signed out.</Notice> : null}
      {props.problem !== undefined ? (
        <div class="notice error" role="alert">
          {props.problem}
        </div>
      ) : null}
      <form method="post" action="/console/sign-in" class="card narrow">
        <p>
          Paste the gateway's admin token (the <code>ADMIN_TOKEN</code> secret; locally it is in <code>.dev.vars</code>). It is exchanged for a session of 12
          hours and not kept in the browser.
        </p>
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" required autocomplete="off" spellcheck={false} autofocus />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </Page>
  );
}

const cookieOptions = (url: string) => ({
  path: "/console",
  httpOnly: true,
  sameSite: "Strict" as const,
  secure: !isLocalHost(new URL(url).hostname),
});

signIn.get("/sign-in", (c) => c.html(<SignInPage signedOut={c.req.query("signed-out") !== undefined} />));

signIn.post("/sign-in", async (c) => {
  const adminToken = adminTokenOf(c.env);
  const form = await readPostedForm(c);
  const presented = (form.get("token") ?? "").trim();
  if (!isAdminToken(adminToken, presented)) {
    return c.html(<SignInPage problem="That is not the admin token." />, 401);
  }
  const now = Date.now();
  const nonce = [...crypto.getRandomValues(new Uint8Array(16))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const session = newSession(now, nonce);
  setCookie(c, SESSION_COOKIE, sessionCookieValue(adminToken, new URL(c.req.url).origin, session), {
    ...cookieOptions(c.req.url),
    maxAge: SESSION_LIFETIME_MS / 1000,
  });
  return c.redirect("/console/servers", 303);
});

signIn.post("/sign-out", async (c) => {
  const now = Date.now();
  const session = await currentSession(c, now);
  if (session !== null) {
    // KV's shortest expiry is 60 s.
    const ttl = Math.max(60, Math.ceil((session.expires - now) / 1000));
    await c.env.RECORDS.put(consoleSignOutKey(session.nonce), "1", { expirationTtl: ttl });
  }
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c.req.url));
  return c.redirect("/console/sign-in?signed-out", 303);
});

// Signing in to the console and posting its forms from inside workerd, as a browser would: the
// console's own Origin and a url-encoded body. Tests that refuse a post pass other headers.
import { SELF } from "cloudflare:test";
import { ADMIN_TOKEN, ORIGIN } from "../admin/admin-client";

export const FORM = "application/x-www-form-urlencoded";

/** Signs in with the admin token; the session cookie (`name=value`) to send with later requests. */
export async function consoleSession(): Promise<string> {
  const signedIn = await SELF.fetch(`${ORIGIN}/console/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: ORIGIN, "content-type": FORM },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  });
  return (signedIn.headers.get("set-cookie") ?? "").split(";")[0]!;
}

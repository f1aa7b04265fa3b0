// The server page's tool pinning inside workerd: the Approve form is a console form like any other
// (same-origin check, session), goes through the admin API's approve route and shows its refusal;
// a name that URL parsing would resolve away never moves the call to another admin route.
// A real quarantine, approved in Chromium, is test/e2e/console.test.ts.
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, DOWN_UPSTREAM, ORIGIN } from "../admin/admin-client";
import { consoleSession, FORM } from "./console-client";

const SERVER = "console-pins";
let cookie = "";

beforeAll(async () => {
  cookie = await consoleSession();
  expect((await admin("POST", "/servers", { id: SERVER, name: "Pins", url: DOWN_UPSTREAM })).status).toBe(201);
});

const approve = (tool: string, headers: Record<string, string> = { origin: ORIGIN }) =>
  SELF.fetch(`${ORIGIN}/console/servers/${SERVER}/pins/approve`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": FORM, ...headers },
    body: new URLSearchParams({ tool }).toString(),
  });

describe("the server page's tool pinning", () => {
  it("says nothing is pinned yet, and shows no quarantine, before a pinning grant lists the tools", async () => {
    const page = await SELF.fetch(`${ORIGIN}/console/servers/${SERVER}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h2 id="pinning">Tool pinning</h2>');
    expect(html).toContain("Nothing pinned yet.");
    expect(html).not.toContain("Quarantined tools");
  });

  it("Approve is refused from another Origin or without a session, before the admin API is asked", async () => {
    expect((await approve("transfer", { origin: "https://evil.example" })).status).toBe(403);
    expect((await approve("transfer", {})).status).toBe(403);
    const anonymous = await SELF.fetch(`${ORIGIN}/console/servers/${SERVER}/pins/approve`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": FORM },
      body: "tool=transfer",
    });
    expect(anonymous.status).toBe(401);
  });

  it("shows the admin API's refusal: a tool that is not quarantined, a name the route refuses", async () => {
    const missing = await approve("transfer");
    expect(missing.status).toBe(409);
    const text = await missing.text();
    expect(text).toContain("<strong>Not approved</strong> <code>tool_not_quarantined</code>");
    expect(text).toContain("is not quarantined; there is nothing to approve");
    const odd = await approve("a b");
    expect(odd.status).toBe(400);
    expect(await odd.text()).toContain("<code>invalid_tool_name</code>");
  });

  it("a name that is a dot segment never reaches another admin route (approvals and overrides alike)", async () => {
    for (const tool of [".", ".."]) {
      const approved = await approve(tool);
      expect(approved.status).toBe(400);
      expect(await approved.text()).toContain("cannot address in a URL path");
      const overridden = await SELF.fetch(`${ORIGIN}/console/servers/${SERVER}/overrides`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: ORIGIN, "content-type": FORM },
        body: new URLSearchParams({ tool, clear: "1" }).toString(),
      });
      expect(overridden.status).toBe(400);
      expect(await overridden.text()).toContain("cannot address in a URL path");
    }
  });
});

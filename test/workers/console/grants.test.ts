// Where a grant lives, in the console inside workerd: the create form passes the chosen region to
// the admin API (which judges it), and the grant's page says where its Durable Object was placed.
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, DOWN_UPSTREAM, ORIGIN, uniqueServerId } from "../admin/admin-client";
import { consoleSession, FORM } from "./console-client";

let cookie = "";
let serverId = "";

beforeAll(async () => {
  cookie = await consoleSession();
  serverId = uniqueServerId("placed");
  expect((await admin("POST", "/servers", { id: serverId, name: "Placed", url: DOWN_UPSTREAM })).status).toBe(201);
});

const create = (fields: Record<string, string>) =>
  SELF.fetch(`${ORIGIN}/console/grants`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, origin: ORIGIN, "content-type": FORM },
    body: new URLSearchParams(fields).toString(),
  });

const grantPage = async (id: string) => (await SELF.fetch(`${ORIGIN}/console/grants/${id}`, { headers: { cookie } })).text();

describe("a grant's placement in the console", () => {
  it("the create form offers every region the API accepts, and no hint by default", async () => {
    const html = await (await SELF.fetch(`${ORIGIN}/console/grants`, { headers: { cookie } })).text();
    expect(html).toContain('<label for="grant-region">Region of its Durable Object</label>');
    expect(html).toContain('<option value="" selected="">near whoever creates it (no hint)</option>');
    const offered = [...html.matchAll(/<option value="([a-z]+)">\1 · /g)].map((match) => match[1]);
    expect(offered).toEqual(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"]);
  });

  it("creates the grant in the region chosen, and its page says so", async () => {
    const created = await create({ label: "eu-agent", target: `${serverId}/`, region: "weur" });
    expect(created.status).toBe(201);
    const id = /\/mcp\/(g[0-9a-f]{32})/.exec(await created.text())![1]!;
    expect((await admin("GET", `/grants/${id}`)).json.placement).toEqual({ region: "weur", createdFrom: null });
    expect(await grantPage(id)).toContain("<dt>Placement</dt><dd>region weur (Western Europe), asked for when it was created</dd>");
  });

  it("without a region, the grant is placed near its creator (unknown locally)", async () => {
    const created = await create({ label: "anywhere", target: `${serverId}/`, region: "" });
    expect(created.status).toBe(201);
    const id = /\/mcp\/(g[0-9a-f]{32})/.exec(await created.text())![1]!;
    expect((await admin("GET", `/grants/${id}`)).json.placement).toEqual({ region: null, createdFrom: null });
    expect(await grantPage(id)).toContain("<dt>Placement</dt><dd>where it was created (location unknown)</dd>");
  });

  it("a region the API does not know is refused with its pointer, and the form keeps what was typed", async () => {
    const refused = await create({ label: "mars-agent", target: `${serverId}/`, region: "mars" });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain("<code>/region</code>: must be one of wnam, enam");
    expect(html).toContain('value="mars-agent"');
    expect((await admin("GET", `/grants?serverId=${serverId}`)).json.grants.map((grant: { label: string }) => grant.label)).not.toContain("mars-agent");
  });
});

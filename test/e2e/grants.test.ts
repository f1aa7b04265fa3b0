// Grant identity through the running gateway: which token opens which URL, rotation and revocation
// on the very next request, and what never crosses to the upstream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../support/workerd.mjs";
import { startSdkServer } from "../support/upstreams.mjs";
import { mcpHeaders } from "../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let upstream: Awaited<ReturnType<typeof startSdkServer>>;
let serverA: string;
let serverB: string;

const policy = { version: "1", default: "allow" };

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
  upstream = await startSdkServer({ json: true });
  serverA = (await admin("POST", "/servers", { name: "a", url: upstream.url })).id;
  serverB = (await admin("POST", "/servers", { name: "b", url: upstream.url })).id;
  await admin("PUT", `/servers/${serverA}/policies/open`, policy);
  await admin("PUT", `/servers/${serverB}/policies/open`, policy);
});
afterAll(async () => {
  await gateway?.dispose();
  await upstream?.close();
});

async function newGrant(serverId: string, label: string) {
  const created = await admin("POST", "/grants", { label, serverId, policyName: "open" });
  return { id: created.grant.id as string, token: created.token as string, url: created.url as string };
}

function call(
  url: string,
  token: string | null,
  body: unknown = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { message: "m" } } },
) {
  const headers = mcpHeaders(token ?? "");
  if (token === null) delete headers.authorization;
  return fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
}

describe("grant URLs and tokens", () => {
  it("opens its own URL and its server's URL", async () => {
    const g = await newGrant(serverA, "a1");
    expect((await call(g.url, g.token)).status).toBe(200);
    expect((await call(`${gateway.origin}/mcp/${serverA}`, g.token)).status).toBe(200);
  });

  it("gets a bare 401 for a missing, malformed, wrong or foreign token", async () => {
    const a1 = await newGrant(serverA, "a-owner");
    const a2 = await newGrant(serverA, "a-other");
    const b1 = await newGrant(serverB, "b-owner");
    const before = upstream.toolCalls().length;
    const attempts = [
      await call(a1.url, null),
      await call(a1.url, "not-a-token"),
      await call(a1.url, a1.token.slice(0, -1) + (a1.token.endsWith("A") ? "B" : "A")),
      await call(a1.url, a2.token), // another grant's token on this grant's URL
      await call(`${gateway.origin}/mcp/${serverB}`, a1.token), // a server the grant does not belong to
      await call(`${gateway.origin}/mcp/${serverA}`, b1.token),
    ];
    const bodies = await Promise.all(attempts.map((r) => r.text()));
    for (const r of attempts) expect(r.status).toBe(401);
    // All alike: nothing that helps guessing which part was wrong.
    expect(new Set(bodies).size).toBe(1);
    expect(upstream.toolCalls().length).toBe(before);
  });

  it("rotation: the old token stops on the very next request and the new one works", async () => {
    const g = await newGrant(serverA, "rotating");
    expect((await call(g.url, g.token)).status).toBe(200);
    const rotated = await admin("POST", `/grants/${g.id}/rotate`);
    expect(rotated.token).not.toBe(g.token);
    expect((await call(g.url, g.token)).status).toBe(401);
    expect((await call(g.url, rotated.token)).status).toBe(200);
  });

  it("revocation stops the grant on the very next request, on both URL forms", async () => {
    const g = await newGrant(serverA, "revoked");
    expect((await call(g.url, g.token)).status).toBe(200);
    await admin("POST", `/grants/${g.id}/revoke`);
    expect((await call(g.url, g.token)).status).toBe(401);
    expect((await call(`${gateway.origin}/mcp/${serverA}`, g.token)).status).toBe(401);
  });

  it("a policy change is enforced on the next call", async () => {
    const server = (await admin("POST", "/servers", { name: "c", url: upstream.url })).id;
    await admin("PUT", `/servers/${server}/policies/p`, { version: "1", default: "allow" });
    const created = await admin("POST", "/grants", { label: "policy-change", serverId: server, policyName: "p" });
    const first: any = await (await call(created.url, created.token)).json();
    expect(first.result.isError).toBeFalsy();
    await admin("PUT", `/servers/${server}/policies/p`, { version: "1", default: "deny" });
    const second: any = await (await call(created.url, created.token)).json();
    expect(second.result.content[0].text).toBe('[POLICY DENIED] Tool "echo" is not permitted by policy');
  });

  it("a grant without a policy denies every call", async () => {
    const server = (await admin("POST", "/servers", { name: "d", url: upstream.url })).id;
    const created = await admin("POST", "/grants", { label: "no-policy", serverId: server });
    const body: any = await (await call(created.url, created.token)).json();
    expect(body.result.isError).toBe(true);
    expect(body.result._meta["io.mcp-policy-gateway/decision"].code).toBe("no_policy");
  });
});

import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { newGrantId } from "../../../src/grant/token";
import { ALLOW_ALL, DENY_ALL, admin, createGrant, createServer, grantStub, savePolicy, uniqueServerId } from "./admin-client";

/**
 * A grant listed in KV whose Durable Object was never provisioned: every push to it fails for real
 * ("not_provisioned"), the way a grant that cannot be reached would.
 */
async function unreachableGrant(serverId: string, policyName: string): Promise<string> {
  const id = newGrantId(env.GRANT_ID_SECRET!);
  const record = { id, label: "ghost", serverId, policyName, created: new Date().toISOString(), revoked: null, rotated: null };
  await env.RECORDS.put(`grant:${id}`, JSON.stringify(record));
  await env.RECORDS.put(`server-grants:${serverId}:${id}`, "");
  return id;
}

describe("pushing a change to a server's grants", () => {
  it("names the grants that did not take a server change (502), updates the others, and writes KV only once all took it", async () => {
    const server = uniqueServerId("fan-srv");
    await createServer(server);
    await savePolicy(server, "p", ALLOW_ALL);
    const good = await createGrant(server, "p");
    const ghost = await unreachableGrant(server, "p");

    const reply = await admin("PATCH", `/servers/${server}`, { name: "Renamed" });
    expect(reply.status).toBe(502);
    expect(reply.json.error).toBe("grants_not_updated");
    expect(reply.json.details.grants).toEqual([ghost]);
    expect(reply.json.message).toContain(ghost);
    expect(reply.json.message).not.toContain(good.id);
    expect(reply.json.details.attempted).toMatchObject({ id: server, version: 2 });
    // The grants come first: the one that took it uses version 2 already; KV still says what every grant has.
    expect(await grantStub(good.id).info()).toMatchObject({ upstreamVersion: 2 });
    expect((await admin("GET", `/servers/${server}`)).json).toMatchObject({ name: `Server ${server}`, version: 1 });

    // Repeating the request converges once every grant can take it.
    await env.RECORDS.delete(`grant:${ghost}`);
    await env.RECORDS.delete(`server-grants:${server}:${ghost}`);
    expect((await admin("PATCH", `/servers/${server}`, { name: "Renamed" })).status).toBe(200);
    expect((await admin("GET", `/servers/${server}`)).json).toMatchObject({ name: "Renamed", version: 2 });
    expect(await grantStub(good.id).info()).toMatchObject({ upstreamVersion: 2 });
  });

  it("names the grants that did not take a new policy version; the head moves only once all took it", async () => {
    const server = uniqueServerId("fan-pol");
    await createServer(server);
    await savePolicy(server, "p", ALLOW_ALL);
    const good = await createGrant(server, "p");
    const ghost = await unreachableGrant(server, "p");

    const reply = await savePolicy(server, "p", DENY_ALL);
    expect(reply.status).toBe(502);
    expect(reply.json.details).toMatchObject({ grants: [ghost], attempted: { name: "p", version: 2 } });
    expect(await grantStub(good.id).info()).toMatchObject({ policyVersion: 2 });
    // The head moves only once every grant took the version; the immutable version itself is kept.
    expect((await admin("GET", `/servers/${server}/policies/p`)).json.version).toBe(1);
    expect((await admin("GET", `/servers/${server}/policies/p/versions/2`)).status).toBe(200);

    await env.RECORDS.delete(`grant:${ghost}`);
    await env.RECORDS.delete(`server-grants:${server}:${ghost}`);
    expect((await savePolicy(server, "p", DENY_ALL)).json).toMatchObject({ version: 3 });
    expect((await admin("GET", `/servers/${server}/policies/p`)).json.version).toBe(3);
  });

  it("keeps the policy when a grant did not take its deletion, so the delete can be retried", async () => {
    const server = uniqueServerId("fan-del");
    await createServer(server);
    await savePolicy(server, "p", ALLOW_ALL);
    const good = await createGrant(server, "p");
    const ghost = await unreachableGrant(server, "p");

    const reply = await admin("DELETE", `/servers/${server}/policies/p`);
    expect(reply.status).toBe(502);
    expect(reply.json.details.grants).toEqual([ghost]);
    expect((await admin("GET", `/servers/${server}/policies/p`)).status).toBe(200);
    expect(await grantStub(good.id).info()).toMatchObject({ policyVersion: null });

    await env.RECORDS.delete(`grant:${ghost}`);
    await env.RECORDS.delete(`server-grants:${server}:${ghost}`);
    expect((await admin("DELETE", `/servers/${server}/policies/p`)).status).toBe(200);
  });
});

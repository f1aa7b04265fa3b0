import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { newGrantId } from "../../../src/grant/token";
import { ALLOW_ALL, DENY_ALL, admin, createGrant, createServer, grantStub, savePolicy, uniqueServerId } from "./admin-client";

/**
 * A grant listed in KV whose Durable Object was never provisioned: every push to it fails for real
 * ("not_provisioned"), the way a grant that cannot be reached would.
 */
async function unreachableGrant(serverId: string, policyName: string): Promise<string> {
  const id = newGrantId();
  const record = { id, label: "ghost", serverId, policyName, created: new Date().toISOString(), revoked: null, rotated: null };
  await env.RECORDS.put(`grant:${id}`, JSON.stringify(record));
  await env.RECORDS.put(`server-grants:${serverId}:${id}`, "");
  return id;
}

describe("pushing a change to a server's grants", () => {
  it("names the grants that did not take a server change (502) and updates the others", async () => {
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
    expect(reply.json.details.saved).toMatchObject({ id: server, version: 2 });
    expect((await admin("GET", `/servers/${server}`)).json.name).toBe("Renamed");
  });

  it("names the grants that did not take a new policy version, which is still saved", async () => {
    const server = uniqueServerId("fan-pol");
    await createServer(server);
    await savePolicy(server, "p", ALLOW_ALL);
    const good = await createGrant(server, "p");
    const ghost = await unreachableGrant(server, "p");

    const reply = await savePolicy(server, "p", DENY_ALL);
    expect(reply.status).toBe(502);
    expect(reply.json.details).toMatchObject({ grants: [ghost], saved: { name: "p", version: 2 } });
    expect(await grantStub(good.id).info()).toMatchObject({ policyVersion: 2 });
    expect((await admin("GET", `/servers/${server}/policies/p`)).json.version).toBe(2);
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

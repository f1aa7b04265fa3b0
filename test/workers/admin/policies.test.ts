import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { ALLOW_ALL, DENY_ALL, admin, createGrant, createServer, grantStub, savePolicy, uniqueServerId } from "./admin-client";

describe("policies", () => {
  it("saves each PUT as a new version and serves the latest, the list and each version", async () => {
    const server = uniqueServerId("pol");
    await createServer(server);
    const first = await savePolicy(server, "support", ALLOW_ALL);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ serverId: server, name: "support", version: 1 });
    const second = await savePolicy(server, "support", DENY_ALL);
    expect(second.status).toBe(201);
    expect(second.json.version).toBe(2);

    const latest = await admin("GET", `/servers/${server}/policies/support`);
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({ name: "support", version: 2, latest: 2, document: { version: "1", default: "deny" } });

    const v1 = await admin("GET", `/servers/${server}/policies/support/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.json).toMatchObject({ version: 1, document: { default: "allow" } });
    expect((await admin("GET", `/servers/${server}/policies/support/versions/3`)).status).toBe(404);
    expect((await admin("GET", `/servers/${server}/policies/support/versions/x`)).status).toBe(400);

    const list = await admin("GET", `/servers/${server}/policies`);
    expect(list.json.policies).toEqual([expect.objectContaining({ name: "support", latest: 2 })]);
  });

  it("rejects an invalid policy with the path and text of each error", async () => {
    const server = uniqueServerId("bad");
    await createServer(server);
    const reply = await savePolicy(server, "p", {
      version: "1",
      default: "deny",
      tools: { run: { limits: [{ counter: "c", window: "fortnight", max: 1 }] } },
    });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe("invalid_policy");
    expect(reply.json.message).toBe('/tools/run/limits/0/window: expected "minute" | "hour" | "day"');
    expect(reply.json.details).toEqual([{ path: "/tools/run/limits/0/window", message: 'expected "minute" | "hour" | "day"' }]);
    expect((await admin("GET", `/servers/${server}/policies/p`)).status).toBe(404);
  });

  it("rejects a bad policy name, a missing server and a non-JSON body", async () => {
    const server = uniqueServerId("names");
    await createServer(server);
    expect((await savePolicy(server, "bad name!", ALLOW_ALL)).json.error).toBe("invalid_policy_name");
    expect((await savePolicy("no-such-server", "p", ALLOW_ALL)).status).toBe(404);
    const notJson = await admin("PUT", `/servers/${server}/policies/p`, undefined, { raw: "version: 1" });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toBe("invalid_json");
  });

  it("pushes every new version to the grants that use the policy, and only to them", async () => {
    const server = uniqueServerId("push");
    await createServer(server);
    await savePolicy(server, "support", ALLOW_ALL);
    await savePolicy(server, "other", ALLOW_ALL);
    const user = await createGrant(server, "support");
    const bystander = await createGrant(server, "other");
    expect((await grantStub(user.id).info())?.policyVersion).toBe(1);

    const saved = await savePolicy(server, "support", DENY_ALL);
    expect(saved.json).toMatchObject({ version: 2, grants: 1 });
    expect(await grantStub(user.id).info()).toMatchObject({ policyName: "support", policyVersion: 2 });
    expect(await grantStub(bystander.id).info()).toMatchObject({ policyName: "other", policyVersion: 1 });
    expect((await admin("GET", `/grants/${user.id}`)).json.policyVersion).toBe(2);
  });

  it("deleting a policy detaches it from its grants (fail closed) and keeps its versions", async () => {
    const server = uniqueServerId("del");
    await createServer(server);
    await savePolicy(server, "support", ALLOW_ALL);
    await savePolicy(server, "support", ALLOW_ALL);
    const grant = await createGrant(server, "support");

    const deleted = await admin("DELETE", `/servers/${server}/policies/support`);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toMatchObject({ deleted: true, grants: 1 });
    expect(await grantStub(grant.id).info()).toMatchObject({ policyName: "support", policyVersion: null });
    expect((await admin("GET", `/servers/${server}/policies/support`)).status).toBe(404);
    expect((await admin("DELETE", `/servers/${server}/policies/support`)).status).toBe(404);
    expect((await admin("GET", `/servers/${server}/policies/support/versions/2`)).status).toBe(200);

    // Saving the name again continues the numbering: version 1 and 2 are never rewritten.
    const again = await savePolicy(server, "support", DENY_ALL);
    expect(again.json).toMatchObject({ version: 3, grants: 1 });
    expect(await grantStub(grant.id).info()).toMatchObject({ policyVersion: 3 });
    expect((await admin("GET", `/servers/${server}/policies/support/versions/1`)).json.document.default).toBe("allow");
  });

  it("fails closed with 500 when a head names a missing version", async () => {
    const server = uniqueServerId("head");
    await createServer(server);
    const now = new Date().toISOString();
    await env.RECORDS.put(`policy:${server}:ghost`, JSON.stringify({ serverId: server, name: "ghost", latest: 4, created: now, updated: now }));
    const reply = await admin("GET", `/servers/${server}/policies/ghost`);
    expect(reply.status).toBe(500);
    expect(reply.json.error).toBe("corrupt_record");
    expect((await admin("POST", "/grants", { label: "a", serverId: server, policyName: "ghost" })).status).toBe(500);
  });
});

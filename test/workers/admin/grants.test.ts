import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import type { GateRequest } from "../../../src/grant/protocol";
import { hashToken } from "../../../src/grant/token";
import { ALLOW_ALL, ORIGIN, admin, createGrant, createServer, grantStub, savePolicy, uniqueServerId } from "./admin-client";

const listRequest = async (token: string): Promise<GateRequest> => ({
  requestId: crypto.randomUUID(),
  tokenHash: await hashToken(token),
  route: { kind: "grant" },
  httpMethod: "POST",
  sessionId: null,
  messages: [{ kind: "notification", method: "notifications/initialized" }],
});

async function serverWithPolicy(name: string): Promise<string> {
  const server = uniqueServerId(name);
  await createServer(server);
  await savePolicy(server, "support", ALLOW_ALL);
  return server;
}

describe("grants", () => {
  it("creates a grant: token shown once, its hash only in the Durable Object", async () => {
    const server = await serverWithPolicy("create");
    const { id, token, reply } = await createGrant(server, "support", "agent:alice");
    expect(reply.json.grant).toMatchObject({
      id,
      label: "agent:alice",
      serverId: server,
      policyName: "support",
      policyVersion: 1,
      revoked: null,
      rotated: null,
    });
    expect(id).toMatch(/^g[0-9a-f]{32}$/);
    expect(token).toMatch(new RegExp(`^mpg_${id}_[A-Za-z0-9_-]{43}$`));
    expect(reply.json.url).toBe(`${ORIGIN}/mcp/${id}`);
    expect(reply.json.serverUrl).toBe(`${ORIGIN}/mcp/${server}`);

    const hash = await hashToken(token);
    const stored = JSON.stringify([await env.RECORDS.get(`grant:${id}`), await env.RECORDS.get(`server-grants:${server}:${id}`)]);
    expect(stored).not.toContain(hash);
    expect(stored).not.toContain(token);
    expect((await grantStub(id).gate(await listRequest(token))).ok).toBe(true);

    const read = await admin("GET", `/grants/${id}`);
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(token.slice(30));
    expect(read.json).toMatchObject({ id, policyVersion: 1 });
  });

  it("creates a grant's Durable Object in the region asked for, and says where it was placed", async () => {
    const server = await serverWithPolicy("placed");
    const placed = await admin("POST", "/grants", { label: "eu-agent", serverId: server, policyName: "support", region: "weur" });
    expect(placed.status).toBe(201);
    expect(placed.json.grant.placement).toEqual({ region: "weur", createdFrom: null });
    expect((await admin("GET", `/grants/${placed.json.grant.id}`)).json.placement).toEqual({ region: "weur", createdFrom: null });
    const anywhere = await admin("POST", "/grants", { label: "any-agent", serverId: server, policyName: "support" });
    expect(anywhere.json.grant.placement).toEqual({ region: null, createdFrom: null });
    const wrong = await admin("POST", "/grants", { label: "x", serverId: server, region: "mars" });
    expect(wrong.status).toBe(400);
    expect(wrong.json.details).toEqual([{ path: "/region", message: expect.stringMatching(/must be one of wnam, enam/) }]);
  });

  it("lists grants, all or by server", async () => {
    const a = await serverWithPolicy("list-a");
    const b = await serverWithPolicy("list-b");
    const ga = await createGrant(a);
    const gb = await createGrant(b);
    const all = (await admin("GET", "/grants")).json.grants.map((g: { id: string }) => g.id);
    expect(all).toEqual(expect.arrayContaining([ga.id, gb.id]));
    const ofA = await admin("GET", `/grants?serverId=${a}`);
    expect(ofA.json.grants).toEqual([expect.objectContaining({ id: ga.id, serverId: a, policyName: null })]);
    expect((await admin("GET", "/grants?serverId=BAD!")).status).toBe(400);
  });

  it("refuses a policy the server does not have, a missing server and unknown fields", async () => {
    const server = await serverWithPolicy("refuse");
    const noPolicy = await admin("POST", "/grants", { label: "a", serverId: server, policyName: "nope" });
    expect(noPolicy.status).toBe(400);
    expect(noPolicy.json).toMatchObject({ error: "unknown_policy", details: [{ path: "/policyName" }] });
    const noServer = await admin("POST", "/grants", { label: "a", serverId: "missing-server" });
    expect(noServer.status).toBe(400);
    expect(noServer.json.error).toBe("unknown_server");
    const extra = await admin("POST", "/grants", { label: "a", serverId: server, token: "mine" });
    expect(extra.status).toBe(400);
    expect(extra.json.details).toContainEqual({ path: "/token", message: "unknown field" });
    const badLabel = await admin("POST", "/grants", { label: "has space", serverId: server });
    expect(badLabel.status).toBe(400);
    expect(badLabel.json.details[0].path).toBe("/label");
  });

  it("rotates: a new token, the Durable Object holds its hash, the old one stops working", async () => {
    const server = await serverWithPolicy("rotate");
    const { id, token } = await createGrant(server, "support");
    const reply = await admin("POST", `/grants/${id}/rotate`);
    expect(reply.status).toBe(200);
    const fresh: string = reply.json.token;
    expect(fresh).not.toBe(token);
    expect(fresh.startsWith(`mpg_${id}_`)).toBe(true);
    expect(reply.json.grant.rotated).not.toBeNull();
    expect((await grantStub(id).gate(await listRequest(fresh))).ok).toBe(true);
    expect(await grantStub(id).gate(await listRequest(token))).toEqual({ ok: false, reason: "unauthenticated" });
    expect(JSON.parse((await env.RECORDS.get(`grant:${id}`)) ?? "{}").rotated).toBe(reply.json.grant.rotated);
  });

  it("revokes for good: the token stops working and rotation answers 409", async () => {
    const server = await serverWithPolicy("revoke");
    const { id, token } = await createGrant(server, "support");
    const reply = await admin("POST", `/grants/${id}/revoke`);
    expect(reply.status).toBe(200);
    expect(reply.json.grant.revoked).toEqual(expect.any(String));
    expect(await grantStub(id).gate(await listRequest(token))).toEqual({ ok: false, reason: "unauthenticated" });
    expect((await admin("GET", `/grants/${id}`)).json.revoked).toBe(reply.json.grant.revoked);
    const rotate = await admin("POST", `/grants/${id}/rotate`);
    expect(rotate.status).toBe(409);
    expect(rotate.json.error).toBe("grant_revoked");
    expect((await admin("PATCH", `/grants/${id}`, { label: "x" })).status).toBe(409);
  });

  it("updates label and policy, Durable Object first", async () => {
    const server = await serverWithPolicy("patch");
    await savePolicy(server, "strict", { version: "1", default: "deny" });
    const { id } = await createGrant(server);
    const reply = await admin("PATCH", `/grants/${id}`, { label: "renamed", policyName: "strict" });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ label: "renamed", policyName: "strict", policyVersion: 1 });
    expect(await grantStub(id).info()).toMatchObject({ label: "renamed", policyName: "strict", policyVersion: 1 });
    expect((await admin("GET", `/grants?serverId=${server}`)).json.grants[0]).toMatchObject({ label: "renamed", policyName: "strict" });

    const missing = await admin("PATCH", `/grants/${id}`, { label: "again", policyName: "nope" });
    expect(missing.status).toBe(400);
    expect((await grantStub(id).info())?.label).toBe("renamed");

    const detached = await admin("PATCH", `/grants/${id}`, { policyName: null });
    expect(detached.json).toMatchObject({ policyName: null, policyVersion: null });
  });

  it("deletes a grant: gone from KV, revoked in its Durable Object, audit still readable", async () => {
    const server = await serverWithPolicy("delete");
    const { id, token } = await createGrant(server, "support");
    const reply = await admin("DELETE", `/grants/${id}`);
    expect(reply.status).toBe(200);
    expect((await admin("GET", `/grants/${id}`)).status).toBe(404);
    expect(await env.RECORDS.get(`server-grants:${server}:${id}`)).toBeNull();
    expect(await grantStub(id).gate(await listRequest(token))).toEqual({ ok: false, reason: "unauthenticated" });
    const audit = await admin("GET", `/grants/${id}/audit`);
    expect(audit.status).toBe(200);
    // provision, revoke, then the refused gate() call above.
    expect(audit.json.records.map((r: { decision: string }) => r.decision).slice(0, 2)).toEqual(["provision", "revoke"]);
    expect(audit.json.records).toHaveLength(3);
  });

  it("pages through the audit log and verifies it", async () => {
    const server = await serverWithPolicy("audit");
    const { id } = await createGrant(server, "support");
    await admin("POST", `/grants/${id}/rotate`);
    await admin("PATCH", `/grants/${id}`, { label: "second" });

    const first = await admin("GET", `/grants/${id}/audit?limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.records).toHaveLength(2);
    expect(first.json.next).toBe(first.json.records[1].seq);
    const rest = await admin("GET", `/grants/${id}/audit?after=${first.json.next}&limit=2`);
    expect(rest.json.records).toHaveLength(1);
    expect(rest.json.next).toBeNull();
    expect([...first.json.records, ...rest.json.records].map((r: { decision: string }) => r.decision)).toEqual(["provision", "rotate", "set_label"]);

    expect((await admin("GET", `/grants/${id}/audit?limit=0`)).status).toBe(400);
    expect((await admin("GET", `/grants/${id}/audit?limit=5&extra=1`)).status).toBe(400);
    const verify = await admin("GET", `/grants/${id}/audit/verify`);
    expect(verify.json).toEqual({ ok: true, count: 3 });
  });

  it("answers 404 for ids that are not provisioned grants", async () => {
    for (const path of ["/grants/g000000000000000000000000", "/grants/not-a-grant", "/grants/g000000000000000000000000/audit", "/grants/nope/audit/verify"]) {
      const reply = await admin("GET", path);
      expect(reply.status, path).toBe(404);
      expect(reply.json.error).toBe("grant_not_found");
    }
  });
});

import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { hashToken } from "../../../src/grant/token";
import { admin, createGrant, createServer, DOWN_UPSTREAM, downUpstream, grantStub, uniqueServerId } from "./admin-client";

const SECRET = "sk-live-very-secret-value-42";

describe("servers", () => {
  it("creates, reads, lists, updates and deletes a server", async () => {
    const id = uniqueServerId("crud");
    const created = await admin("POST", "/servers", { id, name: "CRM", url: downUpstream("crm"), headers: { "X-Api-Key": SECRET } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id, name: "CRM", url: downUpstream("crm"), headers: ["X-Api-Key"], version: 1 });

    const read = await admin("GET", `/servers/${id}`);
    expect(read.status).toBe(200);
    expect(read.json.headers).toEqual(["X-Api-Key"]);

    const list = await admin("GET", "/servers");
    expect(list.status).toBe(200);
    expect(list.json.servers.map((s: { id: string }) => s.id)).toContain(id);

    const patched = await admin("PATCH", `/servers/${id}`, { name: "CRM 2", headers: { Authorization: `Bearer ${SECRET}` } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ name: "CRM 2", version: 2, headers: ["Authorization"] });

    for (const reply of [created, read, list, patched]) expect(reply.text).not.toContain(SECRET);

    const deleted = await admin("DELETE", `/servers/${id}`);
    expect(deleted.status).toBe(200);
    expect((await admin("GET", `/servers/${id}`)).status).toBe(404);
  });

  it("keeps header values out of storage listings but in the record the gateway uses", async () => {
    const id = uniqueServerId("secret");
    await createServer(id, { "X-Api-Key": SECRET });
    const stored = await env.RECORDS.get(`server:${id}`, "json");
    expect(stored).toMatchObject({ headers: { "X-Api-Key": SECRET } });
    const list = await admin("GET", "/servers");
    expect(list.text).not.toContain(SECRET);
  });

  it("generates an id when none is given", async () => {
    const reply = await admin("POST", "/servers", { name: "Anon", url: DOWN_UPSTREAM });
    expect(reply.status).toBe(201);
    expect(reply.json.id).toMatch(/^srv-[0-9a-f]{12}$/);
  });

  it.each([
    [{ name: "x", url: "ftp://example.com/mcp" }, "/url"],
    [{ name: "x", url: "https://user:pw@example.com/mcp" }, "/url"],
    [{ id: "Upper", name: "x", url: "https://example.com" }, "/id"],
    [{ id: "g0123456789abcdef0123456789abcdef", name: "x", url: "https://example.com" }, "/id"],
    [{ name: "x", url: "https://example.com", headers: { "Bad Header": "v" } }, "/headers/Bad Header"],
    [{ name: "x", url: "https://example.com", headers: { "X-A": "a\r\nInjected: yes" } }, "/headers/X-A"],
    [{ name: "x", url: "https://example.com", headers: { "Mcp-Session-Id": "s" } }, "/headers/Mcp-Session-Id"],
    [{ name: "x", url: "https://example.com", color: "red" }, "/color"],
    [{ url: "https://example.com" }, "/name"],
  ])("rejects %j naming %s", async (body, path) => {
    const reply = await admin("POST", "/servers", body);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe("invalid_body");
    expect(reply.json.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(reply.json.message).toContain(path);
  });

  it("answers 400 JSON to a body that is not JSON", async () => {
    const reply = await admin("POST", "/servers", undefined, { raw: "{not json" });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ error: "invalid_json" });
  });

  it("refuses a duplicate id with 409", async () => {
    const id = uniqueServerId("dup");
    await createServer(id);
    const reply = await admin("POST", "/servers", { id, name: "again", url: "https://example.com" });
    expect(reply.status).toBe(409);
    expect(reply.json.error).toBe("server_exists");
  });

  it("refuses an empty PATCH and unknown fields in a PATCH", async () => {
    const id = uniqueServerId("patch");
    await createServer(id);
    expect((await admin("PATCH", `/servers/${id}`, {})).status).toBe(400);
    const unknown = await admin("PATCH", `/servers/${id}`, { version: 9 });
    expect(unknown.status).toBe(400);
    expect(unknown.json.details).toContainEqual({ path: "/version", message: "unknown field" });
  });

  it("refuses to delete a server that has grants (409)", async () => {
    const id = uniqueServerId("busy");
    await createServer(id);
    const grant = await createGrant(id);
    const reply = await admin("DELETE", `/servers/${id}`);
    expect(reply.status).toBe(409);
    expect(reply.json.error).toBe("server_has_grants");
    expect((await admin("DELETE", `/grants/${grant.id}`)).status).toBe(200);
    expect((await admin("DELETE", `/servers/${id}`)).status).toBe(200);
  });

  it("pushes an updated upstream to every grant of the server", async () => {
    const id = uniqueServerId("push");
    await createServer(id, { "X-Api-Key": "old" });
    const grant = await createGrant(id);
    const reply = await admin("PATCH", `/servers/${id}`, { url: downUpstream("new"), headers: { "X-Api-Key": "new" } });
    expect(reply.status).toBe(200);
    const gate = await grantStub(grant.id).gate({
      requestId: crypto.randomUUID(),
      tokenHash: await hashToken(grant.token),
      route: { kind: "grant" },
      httpMethod: "POST",
      sessionId: null,
      messages: [{ kind: "notification", method: "notifications/initialized" }],
    });
    expect(gate.ok).toBe(true);
    if (!gate.ok) return;
    expect(gate.upstream).toEqual({ serverId: id, serverName: `Server ${id}`, url: downUpstream("new"), headers: { "X-Api-Key": "new" }, version: 2 });
  });

  it("fails closed with 500 on a corrupt server record", async () => {
    const id = uniqueServerId("corrupt");
    await env.RECORDS.put(`server:${id}`, JSON.stringify({ id, name: "half" }));
    const reply = await admin("GET", `/servers/${id}`);
    expect(reply.status).toBe(500);
    expect(reply.json.error).toBe("corrupt_record");
    const list = await admin("GET", "/servers");
    expect(list.status).toBe(500);
    await env.RECORDS.delete(`server:${id}`);
  });
});

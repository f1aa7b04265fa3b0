// GET /admin/grants/:id/audit with filters and newest-first pages, and …/audit/hourly, inside workerd
// over a real grant Durable Object: tools/call decisions written by gate(), admin records by changes.
import { describe, expect, it } from "vitest";
import type { GateRequest } from "../../../src/grant/protocol";
import { hashToken } from "../../../src/grant/token";
import { admin, createGrant, createServer, grantStub, savePolicy, uniqueServerId } from "./admin-client";

const POLICY = { version: "1", default: "deny", tools: { echo: { limits: [{ counter: "echo", window: "minute", max: 2 }] } } };

async function call(token: string, tool: string): Promise<void> {
  const request: GateRequest = {
    requestId: crypto.randomUUID(),
    tokenHash: await hashToken(token),
    route: { kind: "grant" },
    httpMethod: "POST",
    sessionId: null,
    messages: [{ kind: "request", method: "tools/call", id: 1, tool, args: { message: "x" } }],
  };
  expect((await grantStub(token.slice(4, 37)).gate(request)).ok).toBe(true);
}

async function grantWithCalls() {
  const server = uniqueServerId("audit-q");
  await createServer(server);
  await savePolicy(server, "p", POLICY);
  const { id, token } = await createGrant(server, "p");
  // echo allowed twice, then rate-limited; delete denied (not listed).
  for (const tool of ["echo", "echo", "echo", "delete"]) await call(token, tool);
  await admin("POST", `/grants/${id}/rotate`);
  return id;
}

describe("audit filters", () => {
  it("filters by decision, code, tool and type; newest first with order=desc", async () => {
    const id = await grantWithCalls();
    const get = async (query: string) => (await admin("GET", `/grants/${id}/audit?${query}`)).json;
    const all = await get("limit=1000");
    expect(all.records.length).toBeGreaterThanOrEqual(6);

    const limited = await get("code=rate_limited");
    expect(limited.records.map((r: any) => [r.tool, r.decision, r.code])).toEqual([["echo", "deny", "rate_limited"]]);
    const allowedEcho = await get("decision=allow&tool=echo&order=desc");
    expect(allowedEcho.records).toHaveLength(2);
    expect(allowedEcho.records[0].seq).toBeGreaterThan(allowedEcho.records[1].seq);
    const denied = await get("type=decision&decision=deny&tool=delete");
    expect(denied.records.map((r: any) => r.code)).toEqual(["not_permitted"]);
    const adminRecords = await get("type=admin&order=desc&limit=1");
    expect(adminRecords.records[0].decision).toBe("rotate");
    expect(adminRecords.next).toBe(adminRecords.records[0].seq);
    const older = await get(`type=admin&order=desc&before=${adminRecords.next}`);
    expect(older.records.map((r: any) => r.decision)).toEqual(["provision"]);
    expect(older.next).toBeNull();
  });

  it("filters by time: a window before the grant existed is empty", async () => {
    const id = await grantWithCalls();
    const before = await admin("GET", `/grants/${id}/audit?until=2020-01-01T00:00:00Z&order=desc`);
    expect(before.json).toEqual({ records: [], next: null });
    const since = await admin("GET", `/grants/${id}/audit?since=2020-01-01T00:00:00Z&tool=echo`);
    expect(since.json.records).toHaveLength(3);
  });

  it("counts tools/call decisions per hour", async () => {
    const id = await grantWithCalls();
    const hourly = await admin("GET", `/grants/${id}/audit/hourly`);
    expect(hourly.status).toBe(200);
    expect(hourly.json.hours).toHaveLength(24);
    expect(hourly.json.complete).toBe(true);
    expect(hourly.json.hours.at(-1)).toMatchObject({ allowed: 2, denied: 1, rateLimited: 1 });
  });

  it("refuses bad queries by name", async () => {
    const id = await grantWithCalls();
    for (const query of ["before=3", "order=desc&after=1", "since=yesterday", "type=nope", "hours=1", "extra=1"]) {
      const reply = await admin("GET", `/grants/${id}/audit?${query}`);
      expect([query, reply.status, reply.json.error]).toEqual([query, 400, "invalid_query"]);
    }
    expect((await admin("GET", `/grants/${id}/audit/hourly?hours=500`)).status).toBe(400);
  });
});

// End to end: the real @modelcontextprotocol/sdk Client talks through the gateway (workerd, via
// Miniflare) to real upstream MCP servers started here, and every decision lands in the grant's
// audit log. Nothing in this file is mocked.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../support/workerd.mjs";
import { freePort, startEverything, startSdkServer } from "../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type AuditRecord = Record<string, any>;

const demoPolicy = JSON.parse(readFileSync(new URL("../../scripts/demo-policy.json", import.meta.url), "utf8"));
const DECISION = "io.mcp-policy-gateway/decision";

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
});
afterAll(async () => {
  await gateway?.dispose();
});

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
}

const audit = (grantId: string): Promise<AuditRecord[]> => readAudit(admin, grantId);

const text = (result: any): string => result.content?.[0]?.text;

describe("through the gateway to an SDK McpServer with JSON responses", () => {
  let upstream: Awaited<ReturnType<typeof startSdkServer>>;
  let grant: { id: string; token: string; url: string };
  let client: Client;

  beforeAll(async () => {
    upstream = await startSdkServer({ json: true });
    const server = await admin("POST", "/servers", { name: "json-upstream", url: upstream.url, headers: { "X-Upstream-Key": "upstream-secret-123" } });
    await admin("PUT", `/servers/${server.id}/policies/default`, demoPolicy);
    const created = await admin("POST", "/grants", { label: "e2e-json", serverId: server.id, policyName: "default" });
    grant = { id: created.grant.id, token: created.token, url: created.url };
    client = await connect(grant.url, grant.token);
  });
  afterAll(async () => {
    await client?.close();
    await upstream?.close();
  });

  it("filters tools/list: hidden and unlisted tools are absent", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(["add", "create_refund", "echo", "list_customers", "slow_count"]);
    expect(names).not.toContain("delete_account");
  });

  it("forwards an allowed call with the server's credentials and never the agent's token", async () => {
    const result = await client.callTool({ name: "echo", arguments: { message: "hello through the gateway" } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe("hello through the gateway");
    const seen = upstream.requests.filter((r: any) => r.method === "POST");
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers.cookie).toBeUndefined();
      expect(r.headers["x-upstream-key"]).toBe("upstream-secret-123");
    }
  });

  it("denies with deny_if, never reaching the upstream", async () => {
    const result: any = await client.callTool({ name: "create_refund", arguments: { customer: 1, amount: 20000, reason: "broken" } });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe("[POLICY DENIED] Refund exceeds the policy limit.");
    expect(result._meta[DECISION]).toEqual({ code: "deny_if", rule: "/tools/create_refund/deny_if/0" });
    expect(upstream.toolCalls().some((c: any) => c.name === "create_refund" && c.arguments.amount === 20000)).toBe(false);
  });

  it("denies with require when a required argument is missing", async () => {
    const result: any = await client.callTool({ name: "create_refund", arguments: { customer: 1, amount: 5 } });
    expect(text(result)).toBe("[POLICY DENIED] Refunds need a reason.");
    expect(result._meta[DECISION]).toEqual({ code: "require", rule: "/tools/create_refund/require/0" });
    expect(upstream.toolCalls().filter((c: any) => c.name === "create_refund")).toHaveLength(0);
  });

  it("answers a hidden tool exactly like a tool that does not exist, and never forwards it", async () => {
    // Under default deny a name the policy does not list is refused by step 3; a hidden tool gets
    // the very same answer, so the two cannot be told apart.
    const hidden: any = await client.callTool({ name: "delete_account", arguments: { customer: 1 } });
    const missing: any = await client.callTool({ name: "no_such_tool", arguments: {} });
    expect(hidden.isError).toBe(true);
    expect(text(hidden)).toBe('[POLICY DENIED] Tool "delete_account" is not permitted by policy');
    expect(text(missing)).toBe('[POLICY DENIED] Tool "no_such_tool" is not permitted by policy');
    expect(hidden._meta).toEqual(missing._meta);
    expect(upstream.toolCalls().some((c: any) => c.name === "delete_account")).toBe(false);
  });

  it("allows 10 refunds a minute and denies the 11th with a retry-after", async () => {
    const before = upstream.toolCalls().filter((c: any) => c.name === "create_refund").length;
    for (let i = 0; i < 10; i++) {
      const ok = await client.callTool({ name: "create_refund", arguments: { customer: 1, amount: 10 + i, reason: "late delivery" } });
      expect(ok.isError, `call ${i + 1}`).toBeFalsy();
    }
    const eleventh: any = await client.callTool({ name: "create_refund", arguments: { customer: 1, amount: 99, reason: "late delivery" } });
    expect(eleventh.isError).toBe(true);
    expect(text(eleventh)).toMatch(/^\[POLICY DENIED\] /);
    const meta = eleventh._meta[DECISION];
    expect(meta.code).toBe("rate_limited");
    expect(meta.rule).toBe("/tools/create_refund/limits/0");
    expect(meta.retryAfter).toBeGreaterThanOrEqual(1);
    expect(meta.retryAfter).toBeLessThanOrEqual(60);
    expect(upstream.toolCalls().filter((c: any) => c.name === "create_refund").length - before).toBe(10);
  });

  it("forwards exactly 10 of 50 concurrent calls against max: 10", async () => {
    const server = await admin("POST", "/servers", { name: "concurrency", url: upstream.url });
    await admin("PUT", `/servers/${server.id}/policies/ten`, {
      version: "1",
      default: "deny",
      tools: { add: { limits: [{ counter: "adds", window: "minute", max: 10, scope: "grant" }] } },
    });
    const created = await admin("POST", "/grants", { label: "concurrent", serverId: server.id, policyName: "ten" });
    const before = upstream.toolCalls().filter((c: any) => c.name === "add").length;
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(created.url, {
          method: "POST",
          headers: mcpHeaders(created.token),
          body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "add", arguments: { a: i, b: 1 } } }),
        }).then((r) => r.json() as Promise<any>),
      ),
    );
    const allowed = responses.filter((r) => !r.result.isError);
    const limited = responses.filter((r) => r.result._meta?.[DECISION]?.code === "rate_limited");
    expect(allowed).toHaveLength(10);
    expect(limited).toHaveLength(40);
    expect(upstream.toolCalls().filter((c: any) => c.name === "add").length - before).toBe(10);
  });

  it("records every decision in the audit log, with argument keys and never values", async () => {
    const records = await audit(grant.id);
    const decisions = records.filter((r) => r.type === "decision");
    const calls = decisions.filter((r) => r.rpcMethod === "tools/call");
    const byCode = (code: string) => calls.filter((r) => r.code === code);
    expect(byCode("deny_if")).toHaveLength(1);
    expect(byCode("require")).toHaveLength(1);
    expect(byCode("hidden")).toHaveLength(1);
    expect(byCode("rate_limited")).toHaveLength(1);
    expect(calls.filter((r) => r.decision === "allow" && r.tool === "create_refund")).toHaveLength(10);
    const denyIf = byCode("deny_if")[0]!;
    expect(denyIf).toMatchObject({
      grantId: grant.id,
      label: "e2e-json",
      tool: "create_refund",
      decision: "deny",
      rule: "/tools/create_refund/deny_if/0",
      argKeys: ["amount", "customer", "reason"],
      policy: { name: "default", version: 1 },
    });
    expect(decisions.some((r) => r.rpcMethod === "tools/list")).toBe(true);
    const serialized = JSON.stringify(records);
    expect(serialized).not.toContain("hello through the gateway");
    expect(serialized).not.toContain("late delivery");
    expect(serialized).not.toContain("upstream-secret-123");
    // Forwarded calls get an outcome record with the upstream status.
    const allowedEcho = calls.find((r) => r.tool === "echo" && r.decision === "allow")!;
    await expect.poll(async () => (await audit(grant.id)).find((r) => r.type === "outcome" && r.ref === allowedEcho.seq)?.status).toBe(200);
    const verify = await admin("GET", `/grants/${grant.id}/audit/verify`);
    expect(verify.ok).toBe(true);
  });

  it("revocation takes effect on the very next call", async () => {
    const before = upstream.toolCalls().length;
    await admin("POST", `/grants/${grant.id}/revoke`);
    await expect(client.callTool({ name: "echo", arguments: { message: "after revoke" } })).rejects.toThrow();
    expect(upstream.toolCalls().length).toBe(before);
    const raw = await fetch(grant.url, {
      method: "POST",
      headers: { authorization: `Bearer ${grant.token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(raw.status).toBe(401);
  });
});

describe("through the gateway to @modelcontextprotocol/server-everything (sessions, SSE, progress)", () => {
  let everything: Awaited<ReturnType<typeof startEverything>>;
  let grant: { id: string; token: string; url: string; serverId: string };
  let client: Client;

  beforeAll(async () => {
    everything = await startEverything(await freePort());
    const server = await admin("POST", "/servers", { name: "everything", url: everything.url });
    await admin("PUT", `/servers/${server.id}/policies/everything`, {
      version: "1",
      default: "allow",
      hide: ["get-env"],
      tools: { "get-sum": { deny_if: [{ conditions: [{ path: "args.a", op: "gt", value: 1000 }], on_deny: "Sums of large numbers are not allowed." }] } },
    });
    const created = await admin("POST", "/grants", { label: "e2e-everything", serverId: server.id, policyName: "everything" });
    grant = { id: created.grant.id, token: created.token, url: created.url, serverId: server.id };
    client = await connect(grant.url, grant.token);
  });
  afterAll(async () => {
    await client?.close();
    await everything?.close();
  });

  it("opens a session and filters the SSE tools/list", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain("echo");
    expect(names).toContain("trigger-long-running-operation");
    expect(names).not.toContain("get-env");
  });

  it("streams progress notifications before the call ends", async () => {
    const progressAt: number[] = [];
    const started = Date.now();
    const result = await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } }, undefined, {
      onprogress: () => progressAt.push(Date.now() - started),
      timeout: 30_000,
    });
    const endedAt = Date.now() - started;
    expect(result.isError).toBeFalsy();
    expect(progressAt.length).toBeGreaterThanOrEqual(3);
    // The first progress reached the client well before the result did: nothing was buffered.
    expect(endedAt - progressAt[0]!).toBeGreaterThan(800);
  });

  it("denies with deny_if and hides get-env over the session", async () => {
    const denied: any = await client.callTool({ name: "get-sum", arguments: { a: 5000, b: 1 } });
    expect(text(denied)).toBe("[POLICY DENIED] Sums of large numbers are not allowed.");
    const allowed: any = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } });
    expect(allowed.isError).toBeFalsy();
    expect(text(allowed)).toContain("5");
    // Under default allow an unknown name reaches the upstream, which answers "not found"; a hidden
    // tool gets that same answer without reaching it.
    const hidden: any = await client.callTool({ name: "get-env", arguments: {} });
    const missing: any = await client.callTool({ name: "no-such-tool", arguments: {} });
    expect(hidden).toEqual({ ...missing, content: [{ type: "text", text: "MCP error -32602: Tool get-env not found" }] });
    expect(text(missing)).toBe("MCP error -32602: Tool no-such-tool not found");
  });

  it("accepts the server URL form with a grant token of that server", async () => {
    const viaServer = await connect(grant.url.replace(grant.id, grant.serverId), grant.token);
    const { tools } = await viaServer.listTools();
    expect(tools.map((t) => t.name)).not.toContain("get-env");
    await viaServer.close();
  });

  it("records the session's requests in the audit log", async () => {
    const records = await audit(grant.id);
    const methods = new Set(records.filter((r) => r.type === "decision").map((r) => r.rpcMethod));
    expect(methods).toContain("initialize");
    expect(methods).toContain("tools/list");
    expect(methods).toContain("tools/call");
    expect(records.some((r) => r.code === "deny_if" && r.tool === "get-sum")).toBe(true);
    expect(records.some((r) => r.code === "hidden" && r.tool === "get-env")).toBe(true);
  });
});

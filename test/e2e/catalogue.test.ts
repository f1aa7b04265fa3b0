// The tool catalogue end to end: the gateway in workerd (Miniflare) discovers real upstreams on
// 127.0.0.1 — server-everything, v1 SDK servers (JSON and paginated SSE with sessions), the v2 SDK
// server in the 2026-07-28 era, one behind a credential header, one that is down, and raw
// upstreams that redirect, are not MCP or answer too much — then a recommended policy is saved
// unchanged and enforced through the real SDK client.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { toolFingerprint } from "../../src/catalogue/fingerprint";
import { startV2Server, V2_TOOLS_PAGE_SIZE } from "../support/peers-v2.mjs";
import {
  freePort,
  readRawBody,
  registerDemoTools,
  startEverything,
  startMatrixSdkServer,
  startRawRecorder,
  startSdkServer,
  SDK_TOOLS_PAGE_SIZE,
} from "../support/upstreams.mjs";
import { adminClient, startGateway } from "../support/workerd.mjs";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await gateway?.dispose();
});

/** The admin call's error status and body, for calls expected to fail. */
async function failing(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  try {
    await admin(method, path, body);
  } catch (e: any) {
    return { status: e.status, body: e.body };
  }
  throw new Error(`${method} ${path} succeeded`);
}

/** What the real SDK client lists, following every page. */
async function listedBySdk(url: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: "catalogue-check", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  const tools: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  await client.close();
  return tools;
}

/** A v1 SDK server (stateless, JSON) that answers 401 unless the request carries `X-Api-Key: key`. */
async function startKeyedUpstream(key: string) {
  const seenKeys: (string | undefined)[] = [];
  const http = createServer(async (req, res) => {
    const body = req.method === "POST" ? JSON.parse((await readRawBody(req)).toString("utf8")) : undefined;
    const presented = req.headers["x-api-key"];
    seenKeys.push(typeof presented === "string" ? presented : undefined);
    if (presented !== key) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="keyed"' }).end('{"error":"unauthorized"}');
      return;
    }
    const server = new McpServer({ name: "keyed", version: "1.0.0" });
    registerDemoTools(server);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const { port } = http.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seenKeys,
    close: () =>
      new Promise<void>((r) => {
        http.closeAllConnections?.();
        http.close(() => r());
      }),
  };
}

describe("discovery against real upstreams", () => {
  it("server-everything: every tool, fingerprinted exactly as the SDK client lists it, classified", async () => {
    const everything = await startEverything(await freePort());
    closers.push(everything.close);
    const created = await admin("POST", "/servers", { name: "everything", url: everything.url });
    expect(created.discovery.outcome).toBe("ok");

    const expected = await listedBySdk(everything.url);
    const catalogue = await admin("GET", `/servers/${created.id}/tools`);
    expect(catalogue.tools.map((t: any) => t.name)).toEqual(expected.map((t) => t.name));
    expect(created.discovery.tools).toBe(expected.length);
    expect(catalogue.stale).toBe(false);
    for (const [i, tool] of catalogue.tools.entries()) {
      expect(tool.fingerprint).toBe(toolFingerprint(expected[i]));
      expect(tool.classification.reasons.length).toBeGreaterThan(0);
      expect(tool.override).toBeNull();
    }
    const echo = catalogue.tools.find((t: any) => t.name === "echo");
    expect(echo).toMatchObject({ category: "read", risk: "low", recommended: { allowed: true } });
    expect(echo.recommended.rules).toEqual({ limits: [{ counter: "echo_rate", window: "minute", max: 60, scope: "grant" }] });
  });

  it("a v1 SDK server with sessions, SSE answers and tools/list in pages: every page, and the session is ended", async () => {
    const upstream = await startMatrixSdkServer();
    closers.push(upstream.close);
    const created = await admin("POST", "/servers", { name: "v1-paged", url: upstream.url });
    expect(created.discovery).toMatchObject({ outcome: "ok", tools: 7 });
    const listCalls = upstream.received.filter((m: any) => m.method === "tools/list");
    expect(listCalls.length).toBe(Math.ceil(7 / SDK_TOOLS_PAGE_SIZE));
    expect(upstream.received.some((m: any) => m.method === "initialize")).toBe(true);
    expect(upstream.sessions.size).toBe(0);
    const catalogue = await admin("GET", `/servers/${created.id}/tools`);
    expect(catalogue.protocolVersion).toMatch(/^2025-/);
    expect(catalogue.tools.map((t: any) => t.name).sort()).toEqual([
      "add",
      "confirm_action",
      "create_refund",
      "delete_account",
      "echo",
      "list_customers",
      "slow_count",
    ]);
  });

  it("a v1 SDK server, stateless with JSON answers", async () => {
    const upstream = await startSdkServer({ json: true });
    closers.push(upstream.close);
    const created = await admin("POST", "/servers", { name: "v1-json", url: upstream.url });
    expect(created.discovery).toMatchObject({ outcome: "ok", tools: 6 });
  });

  it("the v2 SDK server speaks 2026-07-28: server/discover, no initialize, every page", async () => {
    const upstream = await startV2Server();
    closers.push(upstream.close);
    const created = await admin("POST", "/servers", { name: "v2", url: upstream.url });
    expect(created.discovery).toMatchObject({ outcome: "ok", protocolVersion: "2026-07-28", tools: 7 });
    const methods = upstream.received.map((m: any) => m.method);
    expect(methods[0]).toBe("server/discover");
    expect(methods).not.toContain("initialize");
    expect(methods.filter((m: string) => m === "tools/list").length).toBe(Math.ceil(7 / V2_TOOLS_PAGE_SIZE));
    for (const m of upstream.received) expect(m.params._meta["io.modelcontextprotocol/protocolVersion"]).toBe("2026-07-28");
  });

  it("an upstream that needs a credential header: 401 without it (the server is still saved), the tools once it is set", async () => {
    const keyed = await startKeyedUpstream("k-123");
    closers.push(keyed.close);
    const created = await admin("POST", "/servers", { name: "keyed", url: keyed.url });
    expect(created.discovery).toMatchObject({ outcome: "failed", error: { code: "unauthorized" }, snapshotKept: false });
    expect((await admin("GET", `/servers/${created.id}`)).id).toBe(created.id);
    const empty = await admin("GET", `/servers/${created.id}/tools`);
    expect(empty).toMatchObject({ fetched: null, tools: [], lastAttempt: { outcome: "failed", error: { code: "unauthorized" } } });

    const patched = await admin("PATCH", `/servers/${created.id}`, { headers: { "X-Api-Key": "k-123" } });
    expect(patched.discovery).toMatchObject({ outcome: "ok", tools: 6 });
    expect(keyed.seenKeys.at(-1)).toBe("k-123");
    // The secret is never echoed back.
    expect(JSON.stringify(patched)).not.toContain("k-123");
    expect(JSON.stringify(await admin("GET", `/servers/${created.id}/tools`))).not.toContain("k-123");
  });

  it("an upstream that is down: unreachable, recorded, and POST …/discover answers 502", async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const created = await admin("POST", "/servers", { name: "down", url });
    expect(created.discovery).toMatchObject({ outcome: "failed", error: { code: "unreachable" } });
    const again = await failing("POST", `/servers/${created.id}/discover`);
    expect(again.status).toBe(502);
    expect(again.body).toMatchObject({ error: "discovery_failed", details: { error: { code: "unreachable" } } });
    expect((await failing("GET", `/servers/${created.id}/recommended-policy`)).body.error).toBe("catalogue_empty");
  });

  it("a redirect is an error and is never followed: the credentials stay with the configured URL", async () => {
    const target = await startRawRecorder();
    closers.push(target.close);
    const redirecting = await startRawRecorder({ respond: () => ({ status: 307, headers: { location: target.url } }) });
    closers.push(redirecting.close);
    const created = await admin("POST", "/servers", { name: "redirects", url: redirecting.url, headers: { "X-Api-Key": "never-follows" } });
    expect(created.discovery).toMatchObject({ outcome: "failed", error: { code: "redirect" } });
    expect(target.requests.length).toBe(0);
  });

  it("an answer that is not MCP, and one that is too large, each get their own error", async () => {
    const html = await startRawRecorder({ respond: () => ({ status: 200, headers: { "content-type": "text/html" }, body: "<html>hello</html>" }) });
    closers.push(html.close);
    expect((await admin("POST", "/servers", { name: "html", url: html.url })).discovery.error.code).toBe("not_mcp");

    const huge = "x".repeat(5 * 1024 * 1024);
    const large = await startRawRecorder({
      respond: ({ id }) => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, result: { padding: huge } }),
      }),
    });
    closers.push(large.close);
    expect((await admin("POST", "/servers", { name: "large", url: large.url })).discovery.error.code).toBe("too_large");
  });

  it("a failed re-discovery keeps the previous snapshot and says so", async () => {
    const upstream = await startSdkServer({ json: true });
    const created = await admin("POST", "/servers", { name: "goes-down", url: upstream.url });
    expect(created.discovery.outcome).toBe("ok");
    await upstream.close();
    const failed = await failing("POST", `/servers/${created.id}/discover`);
    expect(failed.body.details).toMatchObject({ outcome: "failed", snapshotKept: true });
    const catalogue = await admin("GET", `/servers/${created.id}/tools`);
    expect(catalogue.tools.length).toBe(6);
    expect(catalogue.lastAttempt.outcome).toBe("failed");
  });
});

describe("the policy JSON Schema", () => {
  it("is served at /schema/policy-v1.json without auth, exactly as committed in docs/", async () => {
    const answer = await fetch(`${gateway.origin}/schema/policy-v1.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await answer.json()).toEqual(JSON.parse(readFileSync(new URL("../../docs/policy.schema.json", import.meta.url), "utf8")));
  });
});

describe("overrides", () => {
  let serverId: string;
  beforeAll(async () => {
    const upstream = await startSdkServer({ json: true });
    closers.push(upstream.close);
    serverId = (await admin("POST", "/servers", { name: "overrides", url: upstream.url })).id;
  });

  it("an operator's category is shown as an override and survives re-discovery", async () => {
    const before = (await admin("GET", `/servers/${serverId}/tools`)).tools.find((t: any) => t.name === "echo");
    expect(before.category).toBe("read");
    const set = await admin("PUT", `/servers/${serverId}/tools/echo/classification`, { category: "execute" });
    expect(set).toMatchObject({ name: "echo", category: "execute", risk: "high", override: { category: "execute" }, classification: { category: "read" } });
    await admin("POST", `/servers/${serverId}/discover`);
    const after = (await admin("GET", `/servers/${serverId}/tools`)).tools.find((t: any) => t.name === "echo");
    expect(after).toMatchObject({ category: "execute", override: { category: "execute" }, classification: { category: "read" } });
    const recommended = await admin("GET", `/servers/${serverId}/tools/echo/recommended-policy`);
    expect(recommended.overridden).toBe(true);
    expect(recommended.policy.tools.echo.limits[0].max).toBe(10);
    const cleared = await admin("DELETE", `/servers/${serverId}/tools/echo/classification`);
    expect(cleared).toMatchObject({ category: "read", override: null });
  });

  it("refuses an unknown category, an unknown tool and a name outside MCP's characters", async () => {
    expect((await failing("PUT", `/servers/${serverId}/tools/echo/classification`, { category: "harmless" })).status).toBe(400);
    expect((await failing("PUT", `/servers/${serverId}/tools/nope/classification`, { category: "read" })).body.error).toBe("tool_not_found");
    expect((await failing("PUT", `/servers/${serverId}/tools/${encodeURIComponent("bad name")}/classification`, { category: "read" })).body.error).toBe(
      "invalid_tool_name",
    );
    expect((await failing("PUT", `/servers/${serverId}/tools/__proto__/classification`, { category: "read" })).body.error).toBe("invalid_tool_name");
  });
});

describe("a recommended policy, saved unchanged, is what a grant enforces", () => {
  let upstream: Awaited<ReturnType<typeof startSdkServer>>;
  let serverId: string;

  beforeAll(async () => {
    upstream = await startSdkServer({
      json: true,
      register: (server: McpServer) => {
        server.registerTool("run", { description: "Run a job", inputSchema: { job: z.string() } }, async ({ job }) => ({
          content: [{ type: "text", text: `ran ${job}` }],
        }));
        server.registerTool("list_runs", { description: "List recent runs", inputSchema: {} }, async () => ({ content: [{ type: "text", text: "[]" }] }));
        server.registerTool(
          "delete_repo",
          { description: "Delete a repository", inputSchema: { repo: z.string() }, annotations: { readOnlyHint: true } },
          async () => ({
            content: [{ type: "text", text: "deleted" }],
          }),
        );
      },
    });
    closers.push(upstream.close);
    serverId = (await admin("POST", "/servers", { name: "recommended", url: upstream.url })).id;
  });

  it("the catalogue classifies run as execute, list_runs as read, delete_repo as destructive with a conflict", async () => {
    const { tools } = await admin("GET", `/servers/${serverId}/tools`);
    const byName = Object.fromEntries(tools.map((t: any) => [t.name, t]));
    expect(byName.run).toMatchObject({ category: "execute", risk: "high" });
    expect(byName.list_runs).toMatchObject({ category: "read", risk: "low" });
    expect(byName.delete_repo).toMatchObject({
      category: "destructive",
      risk: "critical",
      classification: { conflict: true },
      recommended: { allowed: false },
    });
  });

  it("one tool's recommended policy is exactly the documented document", async () => {
    const answer = await fetch(`${gateway.origin}/admin/servers/${serverId}/tools/run/recommended-policy`, {
      headers: { authorization: `Bearer ${gateway.adminToken}` },
    });
    const body = (await answer.json()) as any;
    expect(JSON.stringify(body.policy)).toBe(
      '{"version":"1","default":"deny","tools":{"run":{"limits":[{"counter":"run_rate","window":"minute","max":10,"scope":"grant"}]}}}',
    );
    expect(body.explanations.run).toMatch(/^run stays usable but rate-capped/);
  });

  it("saved unchanged: run 10 times a minute (the 11th denied), delete_repo denied, through the SDK client", async () => {
    const recommended = await admin("GET", `/servers/${serverId}/recommended-policy`);
    expect(Object.keys(recommended.policy.tools)).toEqual(["run", "list_runs"]);
    expect(Object.keys(recommended.explanations)).toEqual(["run", "list_runs", "delete_repo"]);
    await admin("PUT", `/servers/${serverId}/policies/recommended`, recommended.policy);
    const saved = await admin("GET", `/servers/${serverId}/policies/recommended`);
    expect(saved.document).toMatchObject(recommended.policy);
    const grant = await admin("POST", "/grants", { label: "recommended-agent", serverId, policyName: "recommended" });

    const client = new Client({ name: "recommended-agent", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(grant.url), { requestInit: { headers: { authorization: `Bearer ${grant.token}` } } }));
    try {
      const listed = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(listed).toEqual(["list_runs", "run"]);
      for (let i = 1; i <= 10; i++) {
        const result = await client.callTool({ name: "run", arguments: { job: `j${i}` } });
        expect(result.isError, `call ${i}`).toBeFalsy();
      }
      const eleventh = await client.callTool({ name: "run", arguments: { job: "j11" } });
      expect(eleventh.isError).toBe(true);
      expect(JSON.stringify(eleventh.content)).toContain("[POLICY DENIED]");
      const destroyed = await client.callTool({ name: "delete_repo", arguments: { repo: "r" } });
      expect(destroyed.isError).toBe(true);
      expect(upstream.toolCalls().filter((c: any) => c.name === "run").length).toBe(10);
      expect(upstream.toolCalls().some((c: any) => c.name === "delete_repo")).toBe(false);
    } finally {
      await client.close();
    }
  });
});

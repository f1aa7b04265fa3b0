// A hidden tool must be indistinguishable from a missing one by every observable — body bytes,
// content type, status, headers and counting — and one grant must not reach another grant's tasks
// on a shared upstream (docs/policy.md, "Hidden tools"; docs/mcp.md, "Tasks"). Judged by real SDK
// upstreams, JSON and SSE, and by what reached them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { registerDemoTools, startRawRecorder, startSdkServer, startTaskUpstream } from "../../support/upstreams.mjs";
import { mcpHeaders } from "../../support/mcp-http";
import { z } from "zod";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string };

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await gateway?.dispose();
});

async function grantsFor(url: string, policy: unknown, count: number): Promise<Grant[]> {
  const server = await admin("POST", "/servers", { name: "concealment-upstream", url });
  await admin("PUT", `/servers/${server.id}/policies/p`, policy);
  const grants: Grant[] = [];
  for (let i = 0; i < count; i++) {
    const created = await admin("POST", "/grants", { label: `agent-${i}`, serverId: server.id, policyName: "p" });
    grants.push({ id: created.grant.id, token: created.token, url: created.url });
  }
  return grants;
}

async function post(grant: Grant, message: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(grant.url, { method: "POST", headers: mcpHeaders(grant.token, headers), body: JSON.stringify(message) });
  return { status: res.status, headers: [...res.headers.keys()].sort(), contentType: res.headers.get("content-type"), text: await res.text() };
}

const call = (name: string, id: number, args: Record<string, unknown> = { path: "/" }) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
/** The JSON-RPC message of a body, JSON or a single SSE event. */
const messageOf = (text: string): any => JSON.parse(text.startsWith("{") ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? "null"));

describe.each([
  ["a JSON upstream", true],
  ["an SSE upstream", false],
])("a hidden tool and a missing one, answered by %s", (_name, json) => {
  let upstream: Awaited<ReturnType<typeof startSdkServer>>;
  let hiding: Grant;
  let asking: Grant;
  const policy = { version: "1", default: "allow", hide: ["rm"], all_tools: { limits: [{ counter: "calls", window: "minute", max: 3 }] } };

  beforeAll(async () => {
    upstream = await startSdkServer({
      json,
      register: (server: any) => {
        registerDemoTools(server);
        server.registerTool("rm", { description: "Remove files", inputSchema: { path: z.string().optional() } }, async () => ({
          content: [{ type: "text", text: "REMOVED" }],
        }));
      },
    });
    closers.push(upstream.close);
    [hiding, asking] = (await grantsFor(upstream.url, policy, 2)) as [Grant, Grant];
  });

  it("status, content type, header names and body bytes are the same", async () => {
    const hidden = await post(hiding!, call("rm", 7));
    const missing = await post(asking!, call("no_such_tool", 7));
    expect(hidden.status).toBe(missing.status);
    expect(hidden.contentType).toBe(missing.contentType);
    expect(hidden.headers).toEqual(missing.headers);
    expect(hidden.text).toBe(missing.text.replaceAll("no_such_tool", "rm"));
    expect(messageOf(hidden.text).result.content[0].text).toBe("MCP error -32602: Tool rm not found");
  });

  it("both count against all_tools alike: the fourth call of either grant is rate-limited", async () => {
    for (const id of [8, 9]) {
      await post(hiding!, call("rm", id));
      await post(asking!, call("no_such_tool", id));
    }
    const afterHidden = messageOf((await post(hiding!, call("echo", 10, { message: "x" }))).text);
    const afterMissing = messageOf((await post(asking!, call("echo", 10, { message: "x" }))).text);
    expect(afterHidden.result._meta["io.mcp-policy-gateway/decision"]).toMatchObject({ code: "rate_limited", rule: "/all_tools/limits/0" });
    expect(afterMissing.result._meta["io.mcp-policy-gateway/decision"]).toMatchObject({ code: "rate_limited", rule: "/all_tools/limits/0" });
    // Over the limit, the hidden tool gets the very same refusal too.
    expect(messageOf((await post(hiding!, call("rm", 11))).text).result.content[0].text).toBe(
      messageOf((await post(asking!, call("no_such_tool", 11))).text).result.content[0].text,
    );
  });

  it("rm itself never reached the upstream", () => {
    expect(upstream.toolCalls().filter((c: any) => c.name === "rm")).toEqual([]);
    expect(upstream.toolCalls().filter((c: any) => /^rm-[0-9a-f]{16}$/.test(c.name))).toHaveLength(3);
  });
});

describe("an upstream that refuses an unknown tool with an HTTP error naming it", () => {
  it.each([
    ["text/plain", (name: string) => `Unknown tool: ${name}`],
    ["application/json", (name: string) => JSON.stringify({ error: `Unknown tool: ${name}` })],
  ])("as %s: the hidden tool's answer names it as the missing one's names itself, never the stand-in", async (type, body) => {
    const upstream = await startRawRecorder({
      respond: ({ body: sent }: { body: string }) => ({ status: 400, headers: { "content-type": type }, body: body(JSON.parse(sent).params?.name ?? "") }),
    });
    closers.push(upstream.close);
    const [grant] = (await grantsFor(upstream.url, { version: "1", default: "allow", hide: ["rm"] }, 1)) as [Grant];
    const hidden = await post(grant, call("rm", 1));
    const missing = await post(grant, call("rn", 2));
    expect(upstream.bodies.at(-2)).not.toContain('"rm"');
    expect([hidden.status, hidden.contentType, hidden.text]).toEqual([400, type, body("rm")]);
    expect([missing.status, missing.contentType, missing.text]).toEqual([400, type, body("rn")]);
  });
});

describe("tasks belong to the grant that created them", () => {
  let owner: Grant;
  let other: Grant;
  let taskId: string;
  let upstreamUrl: string;
  const tasksHeaders = { "mcp-protocol-version": "2025-11-25" };

  beforeAll(async () => {
    const upstream = await startTaskUpstream();
    closers.push(upstream.close);
    upstreamUrl = upstream.url;
    [owner, other] = (await grantsFor(upstream.url, { version: "1", default: "allow" }, 2)) as [Grant, Grant];
    const created = messageOf(
      (
        await post(
          owner!,
          { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow_task", arguments: { label: "mine" }, task: { ttl: 60_000 } } },
          tasksHeaders,
        )
      ).text,
    );
    taskId = created.result.task.taskId;
    expect(taskId).toEqual(expect.any(String));
  });

  const ask = (grant: Grant, method: string, params: Record<string, unknown>, id = 2) => post(grant, { jsonrpc: "2.0", id, method, params }, tasksHeaders);

  it("the owner reads its task and its result", async () => {
    expect(messageOf((await ask(owner, "tasks/get", { taskId })).text).result).toMatchObject({ taskId, status: "completed" });
    expect(messageOf((await ask(owner, "tasks/result", { taskId })).text).result.content[0].text).toBe("done mine");
  });

  it.each(["tasks/get", "tasks/result", "tasks/cancel"])("another grant's %s of it is answered exactly as for a task that does not exist", async (method) => {
    const unknown = crypto.randomUUID();
    const foreign = await ask(other, method, { taskId });
    const missing = await ask(other, method, { taskId: unknown });
    expect(foreign.status).toBe(missing.status);
    expect(foreign.text).toBe(missing.text.replaceAll(unknown, taskId));
    expect(foreign.text).not.toContain("done mine");
  });

  it("the isolation is the gateway's: straight to the upstream, anyone reads the task", async () => {
    const res = await fetch(upstreamUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...tasksHeaders },
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tasks/get", params: { taskId } }),
    });
    expect(messageOf(await res.text()).result).toMatchObject({ taskId, status: "completed" });
  });

  it("tasks/list shows each grant only its own tasks", async () => {
    const own = messageOf((await ask(owner, "tasks/list", {})).text).result.tasks.map((t: any) => t.taskId);
    const others = messageOf((await ask(other, "tasks/list", {})).text).result.tasks.map((t: any) => t.taskId);
    expect(own).toContain(taskId);
    expect(others).not.toContain(taskId);
  });
});

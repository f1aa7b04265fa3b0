// The bypass corpus, forwarding half: what the upstream receives and what the gateway counts, for
// the classes an outside review found (docs/architecture.md, "What the upstream receives"). Every
// case is judged by what actually reached a real upstream — the MCP SDK's own Express app, or a raw
// socket — never by the gateway's answer alone.
import { readdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { freePort, readRawBody, startExpressUpstream, startRawRecorder, startResettingUpstream } from "../../support/upstreams.mjs";
import { mcpHeaders, readAudit, readAuditUntil } from "../../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string; serverId: string };

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let persistTo: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  persistTo = mkdtempSync(join(tmpdir(), "mpg-forwarding-"));
  gateway = await startGateway({ persistTo });
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await gateway?.dispose();
});

async function grantFor(url: string, policy: unknown, headers: Record<string, string> = {}): Promise<Grant> {
  const server = await admin("POST", "/servers", { name: "forwarding-upstream", url, headers });
  await admin("PUT", `/servers/${server.id}/policies/p`, policy);
  const created = await admin("POST", "/grants", { label: "forwarding", serverId: server.id, policyName: "p" });
  return { id: created.grant.id, token: created.token, url: created.url, serverId: server.id };
}

async function post(grant: Grant, body: string | Uint8Array, headers: Record<string, string> = {}, init: RequestInit = {}) {
  const res = await fetch(grant.url, { method: "POST", headers: mcpHeaders(grant.token, headers), body, ...init });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

const call = (name: string, args: Record<string, unknown> = {}, id = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
const echoDenyingProd = {
  version: "1",
  default: "deny",
  tools: { echo: { deny_if: [{ conditions: [{ path: "args.env", op: "eq", value: "prod" }], on_deny: "Not in prod." }] } },
};

describe("the upstream decodes exactly the bytes the gateway evaluated", () => {
  let express: Awaited<ReturnType<typeof startExpressUpstream>>;
  let grant: Grant;
  // UTF-8 sees one echo call; a UTF-7 reader sees a second "name" and "arguments": a call of rm.
  const smuggled =
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x+ACI-},+ACI-name+ACI-:+ACI-rm+ACI-,+ACI-arguments+ACI-:{+ACI-path+ACI-:+ACI-/"}}}';

  beforeAll(async () => {
    express = await startExpressUpstream();
    closers.push(express.close);
    grant = await grantFor(express.url, { version: "1", default: "deny", tools: { echo: {} } }, { "X-Api-Key": "upstream-key" });
  });

  it("the attack is real: sent straight to the SDK's Express app as UTF-7, the same bytes run rm", async () => {
    const before = express.toolCalls().length;
    const res = await fetch(express.url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-7", accept: "application/json, text/event-stream" },
      body: smuggled,
    });
    await res.text();
    expect(
      express
        .toolCalls()
        .slice(before)
        .map((c: any) => c.name),
    ).toEqual(["rm"]);
  });

  it.each([
    "application/json; charset=utf-7",
    "application/json;charset=UTF-7",
    'application/json; charset="utf-7"',
    "application/json; charset=utf-16le",
    "application/json; charset=latin1",
    "application/json; charset=utf-8; charset=utf-7",
    "application/json; boundary=x",
    "application/json, text/plain",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
  ])("Content-Type %j is refused with 415 and nothing reaches the upstream", async (contentType) => {
    const before = express.received.length;
    const res = await post(grant, smuggled, { "content-type": contentType });
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe(-32009);
    expect(express.received.length).toBe(before);
  });

  it.each([
    ["gzip", gzipSync(Buffer.from(call("echo", { message: "x" })))],
    ["deflate", deflateSync(Buffer.from(call("echo", { message: "x" })))],
    ["gzip, identity", gzipSync(Buffer.from(call("echo", { message: "x" })))],
  ])("Content-Encoding %j is refused with 415 and nothing reaches the upstream", async (encoding, body) => {
    const before = express.received.length;
    const res = await post(grant, new Uint8Array(body), { "content-encoding": encoding });
    expect(res.status).toBe(415);
    expect(express.received.length).toBe(before);
  });

  it.each(["application/json", "application/json; charset=utf-8", 'Application/JSON; Charset="UTF-8"', "application/json ;charset=utf-8"])(
    "Content-Type %j is accepted; the upstream gets exactly the gateway's header set",
    async (contentType) => {
      const before = express.requests.length;
      const res = await post(grant, call("echo", { message: "hi" }), {
        "content-type": contentType,
        cookie: "session=agent",
        "x-forwarded-for": "10.0.0.1",
        "x-api-key": "agent-supplied",
        "content-encoding": "identity",
        "mcp-session-id": "agent-picked-session",
      });
      // The session id was never opened through this grant: refused before anything is forwarded.
      expect(res.status).toBe(404);
      const ok = await post(grant, call("echo", { message: "hi" }), { "content-type": contentType });
      expect(ok.json.result.content[0].text).toBe("hi");
      const seen = express.requests.slice(before);
      expect(seen).toHaveLength(1);
      const headers = seen[0]!.headers;
      expect(headers["content-type"]).toBe("application/json");
      expect(headers["x-api-key"]).toBe("upstream-key");
      // Beyond what HTTP itself needs (host, connection, length) and what the runtime adds to every
      // subrequest (cf-worker), exactly the gateway's own set.
      const transport = new Set(["host", "connection", "content-length", "cf-worker", "accept-encoding"]);
      expect(
        Object.keys(headers)
          .filter((h) => !transport.has(h))
          .sort(),
      ).toEqual(["accept", "content-type", "mcp-protocol-version", "x-api-key"]);
    },
  );

  it("a deny_if on env cannot be passed by a value only a UTF-7 reader sees", async () => {
    const denying = await grantFor(express.url, echoDenyingProd);
    const before = express.received.length;
    const body = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"+ACIAL-+ACI-env+ACI-:+ACI-prod"}}}';
    expect((await post(denying, body, { "content-type": "application/json; charset=utf-7" })).status).toBe(415);
    expect(express.received.length).toBe(before);
  });

  it("HEAD is 405 and never reaches the upstream", async () => {
    const before = express.requests.length;
    const res = await fetch(grant.url, { method: "HEAD", headers: { authorization: `Bearer ${grant.token}` } });
    expect(res.status).toBe(405);
    expect(express.requests.length).toBe(before);
  });
});

describe("a call the upstream received is never refunded", () => {
  const twoPerMinute = { version: "1", default: "allow", all_tools: { limits: [{ counter: "calls", window: "minute", max: 2 }] } };

  it("the upstream runs the call and resets before answering: counted, so six calls run it only twice", async () => {
    const upstream = await startResettingUpstream();
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, twoPerMinute);
    const answers = [];
    for (let i = 1; i <= 6; i++) answers.push(await post(grant, call("charge", { n: i }, i)));
    expect(upstream.ran.filter((m: any) => m.method === "tools/call")).toHaveLength(2);
    expect(answers.slice(0, 2).map((a) => a.status)).toEqual([502, 502]);
    for (const later of answers.slice(2)) expect(later.json.result._meta["io.mcp-policy-gateway/decision"].code).toBe("rate_limited");
    const outcomesOf = (records: any[]) => records.filter((r) => r.type === "outcome");
    const outcomes = outcomesOf(await readAuditUntil(admin, grant.id, (r) => outcomesOf(r).length >= 2));
    expect(outcomes.map((o) => o.code)).toEqual(["upstream_connection_lost", "upstream_connection_lost"]);
    for (const o of outcomes) expect(o.message ?? "").not.toMatch(/released/);
  });

  it("the connection is refused: provably never received, so the reservation is released", async () => {
    const grant = await grantFor(`http://127.0.0.1:${await freePort()}/mcp`, twoPerMinute);
    for (let i = 1; i <= 4; i++) expect((await post(grant, call("charge", {}, i))).json.error.code).toBe(-32007);
    const outcomesOf = (records: any[]) => records.filter((r) => r.type === "outcome");
    const outcomes = outcomesOf(await readAuditUntil(admin, grant.id, (r) => outcomesOf(r).length >= 4));
    expect(outcomes).toHaveLength(4);
    for (const o of outcomes) expect(o).toMatchObject({ code: "upstream_unreachable", message: expect.stringMatching(/reservations were released/) });
  });
});

describe("credentials never follow a redirect", () => {
  async function elsewhere() {
    const requests: Record<string, unknown>[] = [];
    const http = createServer(async (req, res) => {
      await readRawBody(req);
      requests.push({ ...req.headers });
      res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise((r) => http.close(() => r())));
    return { url: `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`, requests };
  }

  it("a forwarded call answered 307 is an upstream error; the redirect target receives nothing", async () => {
    const target = await elsewhere();
    const redirecting = await startRawRecorder({ respond: () => ({ status: 307, headers: { location: target.url } }) });
    closers.push(redirecting.close);
    const grant = await grantFor(redirecting.url, { version: "1", default: "allow" }, { "X-Api-Key": "upstream-key" });
    const res = await post(grant, call("echo", { message: "x" }));
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ code: -32004, message: expect.stringMatching(/redirect/) });
    expect(target.requests).toEqual([]);
  });

  it("the cancellation sent after the agent disconnects does not follow a redirect either", async () => {
    const target = await elsewhere();
    const bodies: string[] = [];
    // Streams the call's answer (headers, one progress event, keep-alives) and never finishes it;
    // answers the cancellation with a redirect.
    const http = createServer(async (req, res) => {
      const body = (await readRawBody(req)).toString("utf8");
      bodies.push(body);
      if (body.includes("notifications/cancelled")) {
        res.writeHead(307, { location: target.url }).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}\n\n');
      // Keep-alives, as long calls send them: writing them is how the gateway learns the agent left.
      const keepAlive = setInterval(() => res.write(":\n\n"), 100);
      res.on("close", () => clearInterval(keepAlive));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    closers.push(
      () =>
        new Promise((r) => {
          http.closeAllConnections();
          http.close(() => r());
        }),
    );
    const grant = await grantFor(
      `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`,
      { version: "1", default: "allow" },
      { "X-Api-Key": "upstream-key" },
    );
    const controller = new AbortController();
    const res = await fetch(grant.url, { method: "POST", headers: mcpHeaders(grant.token), body: call("slow", {}, 9), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await expect.poll(() => bodies.some((b) => b.includes("notifications/cancelled")), { timeout: 5_000, interval: 50 }).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(target.requests).toEqual([]);
  });
});

describe("unauthenticated requests create no storage", () => {
  const sqliteFiles = (): string[] => {
    const root = join(persistTo, "do");
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (entry.name.endsWith(".sqlite")) found.push(join(dir, entry.name));
      }
    };
    try {
      walk(root);
    } catch {}
    return found.sort();
  };

  it("1,000 random well-formed tokens: 1,000 × 401, and not one Durable Object or row more", async () => {
    // One real grant first, so the storage folder exists and holds what a live gateway holds.
    const recorder = await startRawRecorder();
    closers.push(recorder.close);
    const real = await grantFor(recorder.url, { version: "1", default: "allow" });
    await post(real, call("echo"));
    // The call's outcome is recorded shortly after the answer; let it land before counting.
    await expect.poll(async () => (await readAudit(admin, real.id)).some((r) => r.type === "outcome"), { timeout: 5_000 }).toBe(true);
    const before = sqliteFiles();
    const auditBefore = (await readAudit(admin, real.id)).length;
    expect(before.length).toBeGreaterThan(0);

    const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
    const base64url = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const grantId = `g${hex(16)}`;
          const url = batch % 2 === 0 ? `${gateway.origin}/mcp/${grantId}` : `${gateway.origin}/mcp/${real.serverId}`;
          const res = await fetch(url, { method: "POST", headers: mcpHeaders(`mpg_${grantId}_${base64url(32)}`), body: call("echo") });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      for (const status of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 1000 });
    expect(sqliteFiles()).toEqual(before);
    expect((await readAudit(admin, real.id)).length).toBe(auditBefore);
    expect(recorder.bodies.filter((b: string) => b.includes('"tools/call"'))).toHaveLength(1);
  });
});

describe("every authenticated request gets a bounded record, and a batch is recorded whole", () => {
  it("a 3 MiB method name is recorded cut short, with its length and SHA-256, and answered", async () => {
    const recorder = await startRawRecorder();
    closers.push(recorder.close);
    const grant = await grantFor(recorder.url, { version: "1", default: "allow" });
    const method = "x".repeat(3 * 1024 * 1024);
    const res = await post(grant, JSON.stringify({ jsonrpc: "2.0", id: 5, method, params: {} }));
    expect(res.status).toBe(200);
    await expect.poll(async () => (await readAudit(admin, grant.id)).some((r) => r.type === "outcome"), { timeout: 5_000 }).toBe(true);
    const records = await readAudit(admin, grant.id);
    const decision = records.find((r) => r.type === "decision" && r.rpcId === 5);
    expect(decision.rpcMethod.length).toBeLessThan(400);
    expect(decision.rpcMethod).toMatch(/truncated: 3145728 characters, sha256 [0-9a-f]{64}/);
    expect(records.filter((r) => r.type === "outcome" && r.ref === decision.seq)).toHaveLength(1);
    expect(await admin("GET", `/grants/${grant.id}/audit/verify`)).toMatchObject({ ok: true });
  });

  it("a 2025-03-26 batch [allowed call, 3 MiB method] gets one record per message and one outcome", async () => {
    const recorder = await startRawRecorder();
    closers.push(recorder.close);
    const grant = await grantFor(recorder.url, { version: "1", default: "allow", all_tools: { limits: [{ counter: "c", window: "minute", max: 5 }] } });
    const batch = `[${call("echo", { message: "a" }, 1)},${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "m".repeat(3 * 1024 * 1024) })}]`;
    const res = await post(grant, batch, { "mcp-protocol-version": "2025-03-26" });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await readAudit(admin, grant.id)).some((r) => r.type === "outcome"), { timeout: 5_000 }).toBe(true);
    const records = await readAudit(admin, grant.id);
    const decisions = records.filter((r) => r.type === "decision" && r.requestId === records.at(-1).requestId);
    expect(decisions[1].rpcMethod).toMatch(/truncated: 3145728 characters/);
    expect(decisions.map((d) => d.rpcId)).toEqual([1, 2]);
    expect(records.filter((r) => r.type === "outcome")).toHaveLength(1);
  });
});

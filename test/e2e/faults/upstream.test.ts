// Upstream faults through the running gateway: each one is answered with a JSON-RPC error that
// names the cause, leaves exactly one outcome record for every forwarded decision, and does not
// affect the next call. The gateway runs with a short UPSTREAM_TIMEOUT_MS so a slow upstream
// trips it quickly, and a small MAX_RESPONSE_BYTES so an answer can pass it cheaply.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { freePort, startConnectionWatcher, startRawRecorder, startScriptedSseUpstream, startSdkServer } from "../../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string; serverId: string };

const UPSTREAM_TIMEOUT_MS = 300;
const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const policy = { version: "1", default: "deny", tools: { echo: {}, slow_count: {} } };
/** At most one echo a minute: shows whether a failed call's reservation was released. */
const onePerMinute = { version: "1", default: "deny", tools: { echo: { limits: [{ counter: "echo", window: "minute", max: 1, scope: "grant" }] } } };

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let healthy: Awaited<ReturnType<typeof startSdkServer>>;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gateway = await startGateway({ vars: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS), MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES) } });
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
  healthy = await startSdkServer({ json: true });
  closers.push(healthy.close);
});
afterAll(async () => {
  for (const close of closers) await close();
  await gateway?.dispose();
});

let serverCount = 0;
async function grantFor(url: string, label: string, document: unknown = policy): Promise<Grant> {
  const server = await admin("POST", "/servers", { name: `${label}-${++serverCount}`, url });
  await admin("PUT", `/servers/${server.id}/policies/p`, document);
  const created = await admin("POST", "/grants", { label, serverId: server.id, policyName: "p" });
  return { id: created.grant.id, token: created.token, url: created.url, serverId: server.id };
}

const audit = (grantId: string) => readAudit(admin, grantId);

function post(grant: Grant, message: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(grant.url, {
    method: "POST",
    headers: mcpHeaders(grant.token, headers),
    body: JSON.stringify(message),
    signal,
  });
}

const echo = (id: number, message = "after the fault") => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message } } });

/** A normal call right after the fault succeeds. */
async function expectEchoWorks(grant: Grant, id: number) {
  const res = await post(grant, echo(id));
  expect(res.status).toBe(200);
  const body: any = await res.json();
  expect(body.id).toBe(id);
  expect(body.result.isError).toBeFalsy();
  expect(body.result.content[0].text).toBe("after the fault");
}

/**
 * No audit record is lost: every request with a forwarded decision ends with exactly one outcome
 * record (written after the response, so polled). Returns the outcomes by request id.
 */
async function expectOneOutcomePerForward(grantId: string): Promise<Map<string, any>> {
  let records: any[] = [];
  let forwarded: string[] = [];
  await expect
    .poll(
      async () => {
        records = await audit(grantId);
        forwarded = [...new Set(records.filter((r) => r.type === "decision" && r.decision === "allow").map((r) => r.requestId as string))];
        return forwarded.every((id) => records.some((r) => r.type === "outcome" && r.requestId === id));
      },
      { timeout: 5_000, interval: 100 },
    )
    .toBe(true);
  const outcomes = new Map<string, any>();
  for (const id of forwarded) {
    const mine = records.filter((r) => r.type === "outcome" && r.requestId === id);
    expect(mine, `outcomes of request ${id}`).toHaveLength(1);
    const decision = records.find((r) => r.type === "decision" && r.requestId === id);
    expect(mine[0].ref).toBe(decision.seq);
    outcomes.set(id, mine[0]);
  }
  // And no outcome for something never forwarded.
  for (const r of records.filter((x) => x.type === "outcome")) expect(forwarded).toContain(r.requestId);
  return outcomes;
}

/** The outcome record of the tools/call with this JSON-RPC id. */
async function outcomeOfCall(grantId: string, rpcId: number) {
  const outcomes = await expectOneOutcomePerForward(grantId);
  const records = await audit(grantId);
  const decision = records.find((r) => r.type === "decision" && r.rpcMethod === "tools/call" && r.rpcId === rpcId);
  expect(decision, `decision of call ${rpcId}`).toBeDefined();
  return outcomes.get(decision.requestId);
}

async function sseMessages(res: Response): Promise<any[]> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(await res.text());
  return events.map((e) => JSON.parse(e.data));
}

describe("upstream faults", () => {
  it("connection refused: 502 / -32007, upstream_unreachable, and the reservation released", async () => {
    const grant = await grantFor(`http://127.0.0.1:${await freePort()}/mcp`, "refused", onePerMinute);
    const res = await post(grant, echo(1, "into the void"));
    expect(res.status).toBe(502);
    const body: any = await res.json();
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32007 } });
    expect(body.error.message).toMatch(/could not be reached/);
    expect((await outcomeOfCall(grant.id, 1)).code).toBe("upstream_unreachable");

    // The upstream comes back: the one call a minute that failed did not use up the quota.
    await admin("PATCH", `/servers/${grant.serverId}`, { url: healthy.url });
    await expectEchoWorks(grant, 2);
    const third: any = await (await post(grant, echo(3))).json();
    expect(third.result._meta["io.mcp-policy-gateway/decision"].code).toBe("rate_limited");
    expect((await outcomeOfCall(grant.id, 2)).decision).toBe("ok");
  });

  it("slower than UPSTREAM_TIMEOUT_MS: 504 / -32002 and upstream_timeout", async () => {
    const slow = await startRawRecorder({ respond: ({ id }: { id: unknown }) => ({ ...slowAnswer(id), delayMs: UPSTREAM_TIMEOUT_MS * 4 }) });
    closers.push(slow.close);
    const grant = await grantFor(slow.url, "slow");
    const started = Date.now();
    const res = await post(grant, echo(1));
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS * 4);
    const body: any = await res.json();
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32002 } });
    expect(body.error.message).toMatch(/did not answer in time/);
    expect((await outcomeOfCall(grant.id, 1)).code).toBe("upstream_timeout");

    slow.setRespond(null);
    const next: any = await (await post(grant, echo(2))).json();
    expect(next).toMatchObject({ id: 2, result: { content: [{ text: "recorded" }] } });
  });

  it("HTTP 500: 502 / -32004 naming the status", async () => {
    const failing = await startRawRecorder({ respond: () => ({ status: 500, headers: { "content-type": "text/plain" }, body: "Internal Server Error" }) });
    closers.push(failing.close);
    const grant = await grantFor(failing.url, "http-500");
    const res = await post(grant, echo(1));
    const text = await res.text();
    expect(res.status).toBe(502);
    const body = JSON.parse(text);
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32004 } });
    expect(body.error.message).toMatch(/HTTP 500/);
    const outcome = await outcomeOfCall(grant.id, 1);
    expect(outcome.decision).toBe("error");
    expect(outcome.status).toBe(500);

    failing.setRespond(null);
    const next: any = await (await post(grant, echo(2))).json();
    expect(next).toMatchObject({ id: 2, result: { content: [{ text: "recorded" }] } });
  });

  it("a non-JSON body labelled application/json (200) answering a tools/call: a JSON-RPC error", async () => {
    const garbage = await startRawRecorder({
      respond: () => ({ status: 200, headers: { "content-type": "application/json" }, body: "<html>not json</html>" }),
    });
    closers.push(garbage.close);
    const grant = await grantFor(garbage.url, "garbage-call");
    const res = await post(grant, echo(1));
    const text = await res.text();
    expect(text).not.toContain("<html>");
    const body = JSON.parse(text);
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32004 } });
    expect(res.status).toBe(502);
    expect((await outcomeOfCall(grant.id, 1)).code).toBe("upstream_invalid");

    garbage.setRespond(null);
    const next: any = await (await post(grant, echo(2))).json();
    expect(next).toMatchObject({ id: 2, result: { content: [{ text: "recorded" }] } });
  });

  it("a non-JSON body labelled application/json (200) answering tools/list: 502 / -32004, upstream_invalid", async () => {
    const garbage = await startRawRecorder({
      respond: () => ({ status: 200, headers: { "content-type": "application/json" }, body: '{"jsonrpc":"2.0","id":1,"result":{"tools":[' }),
    });
    closers.push(garbage.close);
    const grant = await grantFor(garbage.url, "garbage-list");
    const res = await post(grant, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32004 } });
    const outcomes = await expectOneOutcomePerForward(grant.id);
    expect([...outcomes.values()].map((o) => o.code)).toEqual(["upstream_invalid"]);
  });

  it("an SSE stream that ends before the result: the pending request gets a JSON-RPC error", async () => {
    const progress = JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "p", progress: 1, total: 2 } });
    const truncated = await startScriptedSseUpstream((m: any) =>
      m?.params?.arguments?.message === "after the fault"
        ? [`data: ${JSON.stringify({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "after the fault" }] } })}\n\n`]
        : [`data: ${progress}\n\n`, `data: {"jsonrpc":"2.0","id":${m.id},"res`],
    );
    closers.push(truncated.close);
    const grant = await grantFor(truncated.url, "truncated-sse");
    const cutOff = echo(1, "cut off");
    const res = await post(grant, { ...cutOff, params: { ...cutOff.params, _meta: { progressToken: "p" } } });
    expect(res.status).toBe(200);
    const messages = await sseMessages(res);
    expect(messages[0]?.method).toBe("notifications/progress");
    const last = messages.at(-1);
    expect(last).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: expect.any(Number), message: expect.any(String) } });
    const outcome = await outcomeOfCall(grant.id, 1);
    expect(outcome.decision).toBe("error");
    expect(outcome.code).toMatch(/^upstream_/);

    const next = await post(grant, echo(2));
    expect((await sseMessages(next)).at(-1)).toMatchObject({ id: 2, result: { content: [{ text: "after the fault" }] } });
  });
});

describe("an answer larger than MAX_RESPONSE_BYTES", () => {
  const over = (id: unknown) => `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${"x".repeat(MAX_RESPONSE_BYTES)}"}]}}`;
  const json = (id: unknown, headers: Record<string, string> = {}) => ({
    status: 200,
    headers: { "content-type": "application/json", ...headers },
    body: over(id),
  });

  it("with a Content-Length that says so: 502 / -32010 naming the limit, response_too_large", async () => {
    const upstream = await startRawRecorder({ respond: ({ id }: { id: unknown }) => json(id, { "content-length": String(over(id).length) }) });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "too-large-declared");
    const res = await post(grant, echo(1));
    expect(res.status).toBe(502);
    const body: any = await res.json();
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32010 } });
    expect(body.error.message).toContain(String(MAX_RESPONSE_BYTES));
    expect((await outcomeOfCall(grant.id, 1)).code).toBe("response_too_large");
  });

  it("chunked, answering tools/list (held to be filtered): 502 / -32010", async () => {
    const upstream = await startRawRecorder({ respond: ({ id }: { id: unknown }) => json(id) });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "too-large-list", { version: "1", default: "allow" });
    const res = await post(grant, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ id: 1, error: { code: -32010 } });
  });

  it("chunked, answering a tools/call (passed as it arrives): cut at the limit, never a complete message, response_too_large", async () => {
    const upstream = await startRawRecorder({ respond: ({ id }: { id: unknown }) => json(id) });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "too-large-chunked");
    const res = await post(grant, echo(1));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(() => JSON.parse(text)).toThrow();
    expect((await outcomeOfCall(grant.id, 1)).code).toBe("response_too_large");
  });

  it("as one SSE event: the event is discarded and an error event names the limit", async () => {
    const upstream = await startScriptedSseUpstream((m: any) => [`data: ${over(m.id)}\n\n`]);
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "too-large-sse");
    const res = await post(grant, echo(1));
    const events: EventSourceMessage[] = [];
    createParser({ onEvent: (e) => events.push(e) }).feed(await res.text());
    expect(events.map((e) => e.event)).toEqual(["discarded", undefined]);
    expect(() => JSON.parse(events[0]!.data)).toThrow();
    const error = JSON.parse(events[1]!.data);
    expect(error).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32004 } });
    expect(error.error.message).toContain(String(MAX_RESPONSE_BYTES));
    expect((await outcomeOfCall(grant.id, 1)).code).toBe("response_too_large");
  });
});

function slowAnswer(id: unknown) {
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "too late" }] } }),
  };
}

describe("the agent disconnects mid-call", () => {
  let upstream: Awaited<ReturnType<typeof startSdkServer>>;
  let watcher: Awaited<ReturnType<typeof startConnectionWatcher>>;
  let grant: Grant;
  let sessionId: string;

  beforeAll(async () => {
    upstream = await startSdkServer({ stateful: true, json: false });
    watcher = await startConnectionWatcher(upstream.port);
    closers.push(watcher.close, upstream.close);
    grant = await grantFor(watcher.url, "disconnect");
    const init = await post(grant, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "faults", version: "1" } },
    });
    sessionId = init.headers.get("mcp-session-id")!;
    await init.text();
    await (await post(grant, { jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": sessionId })).text();
  });

  it("aborting a slow tools/call cancels it upstream: the connection closes and notifications/cancelled arrives", async () => {
    const controller = new AbortController();
    const callId = 77;
    const started = Date.now();
    const res = await post(
      grant,
      {
        jsonrpc: "2.0",
        id: callId,
        method: "tools/call",
        params: { name: "slow_count", arguments: { n: 20, delayMs: 200 }, _meta: { progressToken: "slow" } },
      },
      { "mcp-session-id": sessionId },
      controller.signal,
    );
    expect(res.status).toBe(200);
    // Wait for the first progress event, so the call is surely running upstream, then go away.
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes("notifications/progress")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen).toContain("notifications/progress");
    // The connections open now include the one carrying the call (the notification the gateway
    // sends on abort may open another, later one, which this list does not hold).
    const openAtAbort = watcher.connections.filter((c: any) => c.closed === null);
    expect(openAtAbort.length).toBeGreaterThan(0);
    controller.abort();

    // What the upstream can observe. The tool would run for 20 × 200 ms = 4 s; both signs must
    // come well before that.
    await expect.poll(() => openAtAbort.some((c: any) => c.closed !== null), { timeout: 2_500, interval: 50 }).toBe(true);
    await expect
      .poll(() => upstream.received.some((m: any) => m.method === "notifications/cancelled" && m.params?.requestId === callId), {
        timeout: 2_500,
        interval: 50,
      })
      .toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect((await outcomeOfCall(grant.id, callId)).code).toBe("client_cancelled");
  });

  it("the session still works after the disconnect", async () => {
    const res = await post(grant, echo(78), { "mcp-session-id": sessionId });
    expect(res.status).toBe(200);
    expect((await sseMessages(res)).at(-1)).toMatchObject({ id: 78, result: { content: [{ text: "after the fault" }] } });
    await expectOneOutcomePerForward(grant.id);
  });
});

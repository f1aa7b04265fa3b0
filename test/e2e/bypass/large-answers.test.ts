// Answers too large to hold (docs/performance.md, "Large answers"): the gateway passes them as they
// arrive and checks them with its streaming parser, holding back only their last character. What
// the agent receives must be exactly what the upstream sent when the answer is good, and never a
// complete message when it is not: a wrong id, bad JSON at the very end, a repeated id key. The
// upstreams here are a real SDK server (the benchmark's large_result tool) and raw ones that write
// exact bytes; every answer is read as bytes, as far as the gateway lets it go.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerLargeResultTool, LARGE_RESULT_TOOL } from "../../../bench/large-result-tool.mjs";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { registerDemoTools, startRawRecorder, startScriptedSseUpstream, startSdkServer } from "../../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string };

const MiB = 1024 * 1024;
const policy = { version: "1", default: "allow" };
const closers: (() => Promise<void>)[] = [];
let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
});
afterAll(async () => {
  for (const close of closers) await close();
  await gateway?.dispose();
});

let serverCount = 0;
async function grantFor(url: string, label: string): Promise<Grant> {
  const server = await admin("POST", "/servers", { name: `${label}-${++serverCount}`, url });
  await admin("PUT", `/servers/${server.id}/policies/p`, policy);
  const created = await admin("POST", "/grants", { label, serverId: server.id, policyName: "p" });
  return { id: created.grant.id, token: created.token, url: created.url };
}

const call = (id: number, name = "echo", args: Record<string, unknown> = { message: "x" }) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
const post = (url: string, token: string, message: unknown) => fetch(url, { method: "POST", headers: mcpHeaders(token), body: JSON.stringify(message) });

/** The body as far as it arrives; `failed` when the stream to the agent broke instead of ending. */
async function received(res: Response): Promise<{ bytes: Buffer; failed: boolean }> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), failed: false };
      chunks.push(value);
    }
  } catch {
    return { bytes: Buffer.concat(chunks), failed: true };
  }
}

function sseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  createParser({ onEvent: (e) => events.push(e) }).feed(text);
  return events;
}

/** The outcome record of the request whose decision carries this JSON-RPC id (polled: written after the answer). */
async function outcomeOf(grantId: string, rpcId: number) {
  let outcome: any;
  await expect
    .poll(async () => {
      const records = await readAudit(admin, grantId);
      const decision = records.find((r) => r.type === "decision" && r.rpcId === rpcId);
      outcome = records.find((r) => r.type === "outcome" && r.requestId === decision?.requestId);
      return outcome !== undefined;
    })
    .toBe(true);
  return outcome;
}

const big = (size: number) => "x".repeat(size);
const result = (text: string) => `{"content":[{"type":"text","text":"${text}"}]}`;

describe("a large result passes whole, byte for byte as the upstream sent it", () => {
  it.each([
    ["JSON", true],
    ["SSE", false],
  ])("%s: 1, 8 and 32 MiB", async (_mode, json) => {
    const upstream = await startSdkServer({
      json,
      recordBodies: true,
      register: (server: any) => (registerDemoTools(server), registerLargeResultTool(server)),
    });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, `large-${json ? "json" : "sse"}`);
    for (const [i, mebibytes] of [1, 8, 32].entries()) {
      const res = await post(grant.url, grant.token, call(i + 1, LARGE_RESULT_TOOL, { mebibytes }));
      expect(res.status).toBe(200);
      const through = await received(res);
      const sent: Buffer = upstream.bodies.at(-1);
      expect(sent.length).toBeGreaterThan(mebibytes * MiB);
      expect(through.failed).toBe(false);
      expect(through.bytes.length).toBe(sent.length);
      expect(through.bytes.equals(sent)).toBe(true);
      expect((await outcomeOf(grant.id, i + 1)).decision).toBe("ok");
    }
  });
});

describe("a large JSON answer refused late never reaches the agent complete", () => {
  const text = big(MiB);
  const bodies: [string, (id: unknown) => string][] = [
    ["the wrong id, after the result", () => `{"jsonrpc":"2.0","result":${result(text)},"id":2}`],
    ["the id as a string", () => `{"jsonrpc":"2.0","id":"1","result":${result(text)}}`],
    ["bad JSON after the last brace", (id) => `{"jsonrpc":"2.0","id":${id},"result":${result(text)}}]`],
    ["a repeated id key at the end", (id) => `{"jsonrpc":"2.0","id":${id},"result":${result(text)},"id":${id}}`],
    ["an unknown top-level member at the end", (id) => `{"jsonrpc":"2.0","id":${id},"result":${result(text)},"extra":1}`],
    ["a lone surrogate escape deep inside", (id) => `{"jsonrpc":"2.0","id":${id},"result":${result(`${text}\\ud800`)}}`],
  ];
  it.each(bodies)("%s: cut short of its last byte, and the outcome is upstream_invalid", async (_name, body) => {
    const upstream = await startRawRecorder({
      respond: ({ id }: { id: unknown }) => ({ status: 200, headers: { "content-type": "application/json" }, body: body(id) }),
    });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "late-json");
    const res = await post(grant.url, grant.token, call(1));
    expect(res.status).toBe(200);
    const { bytes } = await received(res);
    expect(bytes.length).toBeGreaterThan(MiB / 2);
    expect(() => JSON.parse(bytes.toString("utf8"))).toThrow();
    expect((await outcomeOf(grant.id, 1)).code).toBe("upstream_invalid");
  });

  it("refused in its first bytes (a repeated id key up front): the gateway's own 502 / -32004", async () => {
    const upstream = await startRawRecorder({
      respond: ({ id }: { id: unknown }) => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: `{"jsonrpc":"2.0","id":${id},"id":${id},"result":${result(text)}}`,
      }),
    });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "early-json");
    const res = await post(grant.url, grant.token, call(1));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32004 } });
    expect((await outcomeOf(grant.id, 1)).code).toBe("upstream_invalid");
  });
});

describe("a large SSE event refused late", () => {
  it("is ended as a discarded event that holds no message, and the request gets -32004", async () => {
    const event = `{"jsonrpc":"2.0","result":${result(big(MiB))},"id":2}`;
    const upstream = await startScriptedSseUpstream([`event: message\ndata: ${event.slice(0, 1000)}`, `${event.slice(1000)}\n\n`]);
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "late-sse");
    const res = await post(grant.url, grant.token, call(1));
    expect(res.status).toBe(200);
    const events = sseEvents((await received(res)).bytes.toString("utf8"));
    expect(events.map((e) => e.event)).toEqual(["discarded", undefined]);
    expect(() => JSON.parse(events[0]!.data)).toThrow();
    expect(JSON.parse(events[1]!.data)).toEqual({
      jsonrpc: "2.0",
      id: 1,
      error: { code: -32004, message: "The upstream server's answer failed the gateway's checks" },
    });
    expect((await outcomeOf(grant.id, 1)).code).toBe("upstream_invalid");
  });
});

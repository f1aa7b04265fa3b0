// The bypass corpus, stream half: what an upstream sends back (SSE framing tricks, results
// smuggled into other events, auth challenges) and who may use a session. The upstreams here
// write exact bytes; the gateway's output is parsed with eventsource-parser, as the MCP SDK
// client parses it, and the assertions are about exactly what the agent sees.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { startAuthChallengeUpstream, startRawRecorder, startScriptedSseUpstream, startSdkServer } from "../../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string; serverId: string };

/** Everything allowed except rm. */
const openPolicy = { version: "1", default: "allow", hide: ["rm"] };

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
});
afterAll(async () => {
  for (const close of closers) await close();
  await gateway?.dispose();
});

let serverCount = 0;
async function grantFor(url: string, label: string, policy: unknown = openPolicy): Promise<Grant> {
  const server = await admin("POST", "/servers", { name: `${label}-${++serverCount}`, url });
  await admin("PUT", `/servers/${server.id}/policies/p`, policy);
  return newGrant(server.id, label);
}

async function newGrant(serverId: string, label: string): Promise<Grant> {
  const created = await admin("POST", "/grants", { label, serverId, policyName: "p" });
  return { id: created.grant.id, token: created.token, url: created.url, serverId };
}

const audit = (grantId: string) => readAudit(admin, grantId);

function post(grant: Grant, message: unknown, headers: Record<string, string> = {}) {
  return fetch(grant.url, {
    method: "POST",
    headers: mcpHeaders(grant.token, headers),
    body: JSON.stringify(message),
  });
}

/** The events an SSE client would dispatch from this response, parsed as eventsource-parser parses them. */
async function sseEvents(res: Response): Promise<EventSourceMessage[]> {
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(await res.text());
  return events;
}

/** Each event's data as JSON; an event a client could not parse fails the test. */
const messagesOf = (events: EventSourceMessage[]) => events.map((e) => JSON.parse(e.data));
/** Every tool name in any tools/list-shaped result the client sees, at any depth of a batch. */
function toolNamesSeen(messages: any[]): string[] {
  return messages.flatMap((m) => (Array.isArray(m) ? toolNamesSeen(m) : (m?.result?.tools ?? []).map((t: any) => t.name)));
}

const TOOLS_LIST = { jsonrpc: "2.0", id: 1, method: "tools/list" };
const notification = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "working" } });
const listResult = (id: unknown = 1) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    result: {
      tools: [
        { name: "echo", inputSchema: { type: "object" } },
        { name: "rm", inputSchema: { type: "object" } },
      ],
    },
  });

async function scripted(chunks: string[], label: string) {
  const upstream = await startScriptedSseUpstream(chunks);
  closers.push(upstream.close);
  return { upstream, grant: await grantFor(upstream.url, label) };
}

describe("SSE from the upstream is parsed and re-emitted, never passed through", () => {
  it("concatenated events in one chunk: both delivered, the result filtered", async () => {
    const { grant } = await scripted([`event: message\ndata: ${notification}\n\ndata: ${listResult()}\n\n`], "sse-concat");
    const messages = messagesOf(await sseEvents(await post(grant, TOOLS_LIST)));
    expect(messages).toHaveLength(2);
    expect(messages[0].method).toBe("notifications/message");
    expect(messages[1].id).toBe(1);
    expect(toolNamesSeen(messages)).toEqual(["echo"]);
  });

  it("a result split over several data: lines is one message, filtered", async () => {
    const json = listResult();
    const cut = json.indexOf('"result"');
    const { grant } = await scripted([`data: ${json.slice(0, cut)}\ndata: ${json.slice(cut)}\n\n`], "sse-lines");
    const messages = messagesOf(await sseEvents(await post(grant, TOOLS_LIST)));
    expect(messages).toHaveLength(1);
    expect(toolNamesSeen(messages)).toEqual(["echo"]);
  });

  it("lone CR line endings end lines and events, and the result is still filtered", async () => {
    const { grant } = await scripted([`data: ${notification}\r\rdata: ${listResult()}\r\r`], "sse-cr");
    const messages = messagesOf(await sseEvents(await post(grant, TOOLS_LIST)));
    expect(messages.map((m) => m.method ?? "result")).toEqual(["notifications/message", "result"]);
    expect(toolNamesSeen(messages)).toEqual(["echo"]);
  });

  it("an event split across chunks (inside a key, and between its two line ends) is one message, filtered", async () => {
    const json = listResult();
    const cut = json.indexOf("sult");
    const { grant } = await scripted([`data: ${json.slice(0, cut)}`, `${json.slice(cut)}\r`, "\n", "\r\n"], "sse-chunks");
    const messages = messagesOf(await sseEvents(await post(grant, TOOLS_LIST)));
    expect(messages).toHaveLength(1);
    expect(toolNamesSeen(messages)).toEqual(["echo"]);
  });

  it("a result smuggled after a notification in one data field never reaches the client", async () => {
    // Two JSON texts in one event: a filter that parses only the first, or a client that splits
    // on newlines, would each see a different message. The gateway passes on neither.
    const { grant } = await scripted([`event: message\ndata: ${notification}\ndata: ${listResult()}\n\n`, `data: ${listResult()}\n\n`], "sse-smuggle");
    const res = await post(grant, TOOLS_LIST);
    const events = await sseEvents(res);
    const messages = messagesOf(events);
    expect(toolNamesSeen(messages)).toEqual(["echo"]);
    for (const e of events) expect(e.data).not.toContain('"rm"');
  });

  it("a result glued to a notification on one data line never reaches the client", async () => {
    const { grant } = await scripted([`data: ${notification}${listResult()}\n\n`, `data: ${listResult()}\n\n`], "sse-glued");
    const events = await sseEvents(await post(grant, TOOLS_LIST));
    for (const e of events) expect(e.data).not.toContain('"rm"');
    expect(toolNamesSeen(messagesOf(events))).toEqual(["echo"]);
  });

  it("a result smuggled inside a notification's params is not a result to the client", async () => {
    const wrapped = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: JSON.parse(listResult()) } });
    const { grant } = await scripted([`data: ${wrapped}\n\n`, `data: ${listResult()}\n\n`], "sse-wrapped");
    const messages = messagesOf(await sseEvents(await post(grant, TOOLS_LIST)));
    // The notification is passed on as a notification (its payload is log data, not a tool list);
    // the one real result is filtered.
    expect(messages[0].method).toBe("notifications/message");
    expect(messages.filter((m) => "result" in m)).toHaveLength(1);
    expect(toolNamesSeen(messages)).toEqual(["echo"]);
  });

  it("a tools/list result with event id and retry: filtered, id kept", async () => {
    const { grant } = await scripted([`retry: 1000\n\nid: evt-7\nevent: message\ndata: ${listResult()}\n\n`], "sse-id");
    const events = await sseEvents(await post(grant, TOOLS_LIST));
    expect(events).toHaveLength(1);
    expect(events[0]!.id).toBe("evt-7");
    expect(toolNamesSeen(messagesOf(events))).toEqual(["echo"]);
  });

  it("a tools/list result wrapped in a one-element array is filtered", async () => {
    const { grant } = await scripted([`data: [${listResult()}]\n\n`], "sse-array");
    const events = await sseEvents(await post(grant, TOOLS_LIST));
    for (const e of events) expect(e.data).not.toContain('"rm"');
  });

  it.each(["1", "1.0", " 1", "0x1", "1e0"])("a tools/list result whose id is %j (Number() gives the request's id 1) is filtered too", async (id) => {
    // The v1 SDK client matches responses with Number(response.id), so each of these answers request 1.
    const { grant } = await scripted([`data: ${listResult(id)}\n\n`], "sse-string-id");
    const events = await sseEvents(await post(grant, TOOLS_LIST));
    for (const e of events) expect(e.data).not.toContain('"rm"');
  });

  it("the v1 SDK client never lists rm, even when the upstream answers tools/list with a string id", async () => {
    // An upstream whose answers carry the request's id as a string: the SDK client still pairs
    // them with its requests (Number(response.id)), so the gateway must filter them as well.
    const upstream = await startScriptedSseUpstream((m: any) => {
      if (m?.id === undefined) return null;
      const result =
        m.method === "initialize"
          ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "string-ids", version: "1" } }
          : { tools: JSON.parse(listResult()).result.tools };
      return [`data: ${JSON.stringify({ jsonrpc: "2.0", id: String(m.id), result })}\n\n`];
    });
    closers.push(upstream.close);
    const grant = await grantFor(upstream.url, "sdk-string-id");
    // The gateway only passes answers whose id is exactly one it forwarded, so this upstream's
    // answers never reach the client at all: each request gets the gateway's error instead.
    const client = new Client({ name: "bypass", version: "1" });
    const connecting = client.connect(
      new StreamableHTTPClientTransport(new URL(grant.url), { requestInit: { headers: { authorization: `Bearer ${grant.token}` } } }),
    );
    await expect(connecting).rejects.toThrow(/-32004: The upstream server closed the stream before answering/);
    const events = await sseEvents(await post(grant, TOOLS_LIST));
    expect(toolNamesSeen(messagesOf(events))).toEqual([]);
    expect(messagesOf(events)).toEqual([
      { jsonrpc: "2.0", id: expect.anything(), error: { code: -32004, message: "The upstream server closed the stream before answering" } },
    ]);
    await client.close();
  });

  it("an id/event field cannot inject a data line", async () => {
    // Only a line end ends a field; a NUL or "data:" inside an id value is not a new field.
    const { grant } = await scripted([`id: a\u0000data: ${listResult()}\nevent: x data: y\ndata: ${listResult()}\n\n`], "sse-fields");
    const events = await sseEvents(await post(grant, TOOLS_LIST));
    expect(events).toHaveLength(1);
    expect(toolNamesSeen(messagesOf(events))).toEqual(["echo"]);
  });
});

describe("a JSON tools/list answer", () => {
  it("is filtered, also when the upstream answers with the id as a string", async () => {
    const recorder = await startRawRecorder({
      respond: ({ body }: { body: string }) => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: listResult(JSON.parse(body).id === 2 ? "2" : JSON.parse(body).id),
      }),
    });
    closers.push(recorder.close);
    const grant = await grantFor(recorder.url, "json-list");
    const plain: any = await (await post(grant, TOOLS_LIST)).json();
    expect(plain.result.tools.map((t: any) => t.name)).toEqual(["echo"]);
    const stringId = await (await post(grant, { ...TOOLS_LIST, id: 2 })).text();
    expect(stringId).not.toContain('"rm"');
  });
});

describe("sessions belong to the grant that opened them", () => {
  let upstream: Awaited<ReturnType<typeof startSdkServer>>;
  let a: Grant;
  let b: Grant;
  let sessionId: string;

  beforeAll(async () => {
    upstream = await startSdkServer({ stateful: true, json: false });
    closers.push(upstream.close);
    a = await grantFor(upstream.url, "session-a");
    b = await newGrant(a.serverId, "session-b");
    const init = await post(a, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bypass", version: "1" } },
    });
    expect(init.status).toBe(200);
    sessionId = init.headers.get("mcp-session-id")!;
    expect(sessionId).toBeTruthy();
    await init.text();
    const initialized = await post(a, { jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": sessionId });
    expect(initialized.status).toBe(202);
  });

  const usingSession = () => upstream.requests.filter((r: any) => r.headers["mcp-session-id"] === sessionId).length;

  it("the opening grant can use it", async () => {
    const res = await post(a, TOOLS_LIST, { "mcp-session-id": sessionId });
    expect(res.status).toBe(200);
    expect(toolNamesSeen(messagesOf(await sseEvents(res)))).toContain("echo");
  });

  it("another grant of the same server presenting it gets 404, and nothing reaches the upstream", async () => {
    const before = usingSession();
    const calls = [
      await post(b, TOOLS_LIST, { "mcp-session-id": sessionId }),
      await post(b, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { message: "x" } } }, { "mcp-session-id": sessionId }),
      await fetch(b.url, { method: "GET", headers: { authorization: `Bearer ${b.token}`, accept: "text/event-stream", "mcp-session-id": sessionId } }),
      await fetch(b.url, { method: "DELETE", headers: { authorization: `Bearer ${b.token}`, "mcp-session-id": sessionId } }),
    ];
    for (const res of calls) {
      expect(res.status).toBe(404);
      await res.text();
    }
    expect(usingSession()).toBe(before);
    // The session is still A's and still alive: B's DELETE did not end it.
    expect((await post(a, TOOLS_LIST, { "mcp-session-id": sessionId })).status).toBe(200);
    const records = await audit(b.id);
    expect(records.filter((r) => r.code === "unknown_session")).toHaveLength(4);
  });

  it("the session id without a token gets 401, and nothing reaches the upstream", async () => {
    const before = usingSession();
    const res = await fetch(a.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sessionId },
      body: JSON.stringify(TOOLS_LIST),
    });
    expect(res.status).toBe(401);
    expect(usingSession()).toBe(before);
  });

  it("the session id as the bearer token gets 401", async () => {
    const before = usingSession();
    const res = await post({ ...a, token: sessionId }, TOOLS_LIST, { "mcp-session-id": sessionId });
    expect(res.status).toBe(401);
    expect(usingSession()).toBe(before);
  });

  it("a session id the upstream never minted gets 404 from the gateway itself", async () => {
    const before = upstream.requests.length;
    const res = await post(a, TOOLS_LIST, { "mcp-session-id": "made-up-session" });
    expect(res.status).toBe(404);
    expect(upstream.requests.length).toBe(before);
  });

  it("after the opener ends it with DELETE, the session is unknown to the gateway", async () => {
    const del = await fetch(a.url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${a.token}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
    });
    expect(del.status).toBe(200);
    const before = usingSession();
    const res = await post(a, TOOLS_LIST, { "mcp-session-id": sessionId });
    expect(res.status).toBe(404);
    expect(usingSession()).toBe(before);
  });
});

describe("upstream auth challenges are never relayed", () => {
  let upstream: Awaited<ReturnType<typeof startAuthChallengeUpstream>>;
  let grant: Grant;

  beforeAll(async () => {
    upstream = await startAuthChallengeUpstream();
    closers.push(upstream.close);
    grant = await grantFor(upstream.url, "auth-challenge");
  });

  it.each([
    ["tools/call", { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "echo", arguments: { message: "x" } } }],
    [
      "initialize",
      { jsonrpc: "2.0", id: 5, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "b", version: "1" } } },
    ],
  ])("%s: 502 / -32003 with no challenge, no resource_metadata, and an upstream_auth outcome", async (_label, message) => {
    const before = upstream.requests.length;
    const res = await post(grant, message);
    const text = await res.text();
    expect(upstream.requests.length).toBe(before + 1);
    expect(res.status).toBe(502);
    expect(res.headers.get("www-authenticate")).toBeNull();
    for (const [name, value] of res.headers) {
      expect(`${name}: ${value}`).not.toContain("resource_metadata");
      expect(value).not.toContain(upstream.resourceMetadata);
    }
    expect(text).not.toContain("resource_metadata");
    expect(text).not.toContain("oauth-protected-resource");
    const body = JSON.parse(text);
    expect(body.id).toBe(5);
    expect(body.error.code).toBe(-32003);
    await expect.poll(async () => (await audit(grant.id)).filter((r) => r.type === "outcome" && r.code === "upstream_auth").length).toBeGreaterThanOrEqual(1);
  });

  it("the agent's token never reached the challenging upstream", () => {
    for (const r of upstream.requests) expect(r.headers.authorization).toBeUndefined();
  });
});

// The bypass corpus, wire half: request bodies that have carried forbidden calls past other MCP
// proxies (MCP-NOTES "Known ways past proxies"), sent through the running gateway as exact bytes.
// Each case asserts what the agent got back and, above all, what reached the upstream: a
// recording SDK McpServer that also has the forbidden tool `rm`, so a call that slipped through
// would show up in its `received` list (and would have succeeded).
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { registerDemoTools, startRawRecorder, startSdkServer } from "../../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string };

const MAX_BODY_BYTES = 65_536;
const ALLOWED_ORIGIN = "https://ok.example";
/** Appears only in rm's definition: if it ever reaches an agent, a hidden tool leaked. */
const RM_MARKER = "RM-DEFINITION-MUST-NOT-LEAK";
/** A name outside the MCP charset that the open policy lists exactly. */
const ODD_LISTED = "legacy tool";

/** Echo allowed, rm hidden, everything else not permitted. */
const strictPolicy = { version: "1", default: "deny", hide: ["rm"], tools: { echo: {} } };
/** Everything allowed except rm; one odd name listed exactly. */
const openPolicy = { version: "1", default: "allow", hide: ["rm"], tools: { [ODD_LISTED]: {} } };

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let upstream: Awaited<ReturnType<typeof startSdkServer>>;
let recorder: Awaited<ReturnType<typeof startRawRecorder>>;
let strict: Grant;
let open: Grant;
let strictToRecorder: Grant;
/** Every response body an agent received in this file, for the leak check at the end. */
const seenByAgent: string[] = [];

beforeAll(async () => {
  gateway = await startGateway({ vars: { MAX_BODY_BYTES: String(MAX_BODY_BYTES), ALLOWED_ORIGINS: ALLOWED_ORIGIN } });
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
  upstream = await startSdkServer({
    json: true,
    register: (server: any) => {
      registerDemoTools(server);
      server.registerTool("rm", { description: `Remove files. ${RM_MARKER}`, inputSchema: { path: z.string().optional() } }, async () => ({
        content: [{ type: "text", text: "REMOVED" }],
      }));
      server.registerTool(ODD_LISTED, { description: "A tool from before the name charset", inputSchema: {} }, async () => ({
        content: [{ type: "text", text: "legacy ran" }],
      }));
    },
  });
  recorder = await startRawRecorder();
  const server = await admin("POST", "/servers", { name: "bypass-upstream", url: upstream.url });
  await admin("PUT", `/servers/${server.id}/policies/strict`, strictPolicy);
  await admin("PUT", `/servers/${server.id}/policies/open`, openPolicy);
  strict = await newGrant(server.id, "strict", "strict");
  open = await newGrant(server.id, "open", "open");
  const recorded = await admin("POST", "/servers", { name: "raw-recorder", url: recorder.url });
  await admin("PUT", `/servers/${recorded.id}/policies/strict`, strictPolicy);
  strictToRecorder = await newGrant(recorded.id, "strict-recorded", "strict");
});
afterAll(async () => {
  await gateway?.dispose();
  await upstream?.close();
  await recorder?.close();
});

async function newGrant(serverId: string, label: string, policyName: string): Promise<Grant> {
  const created = await admin("POST", "/grants", { label, serverId, policyName });
  return { id: created.grant.id, token: created.token, url: created.url };
}

/** POSTs exact bytes through the gateway; the body is kept for the final leak check. */
async function post(grant: Grant, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(grant.url, {
    method: "POST",
    headers: mcpHeaders(grant.token, headers),
    body,
  });
  const text = await res.text();
  seenByAgent.push(text);
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

const audit = (grantId: string) => readAudit(admin, grantId);

/** Runs `send` and returns what reached the recording upstream meanwhile. */
async function reaching(send: () => Promise<void>): Promise<any[]> {
  const before = upstream.received.length;
  await send();
  return upstream.received.slice(before);
}

const callText = (name: string, args: string = "{}", id: string = "1") =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${name},"arguments":${args}}}`;
const resultText = (r: { json: any }) => r.json?.result?.content?.[0]?.text;
const notPermitted = (tool: string) => `[POLICY DENIED] Tool "${tool}" is not permitted by policy`;
const unknownTool = (tool: string) => `MCP error -32602: Tool ${tool} not found`;
/**
 * Under default allow a hidden tool is answered as a missing one by asking the upstream for a
 * stand-in that cannot exist (docs/policy.md): what may reach the upstream is that stand-in, with
 * no arguments, never rm itself.
 */
const STAND_IN_FOR_RM = /^rm-[0-9a-f]{16}$/;
function expectOnlyStandIns(reached: any[]) {
  for (const m of reached.filter((r) => r.method === "tools/call")) {
    expect(m.params.name).not.toBe("rm");
    if (m.params.name.startsWith("rm")) {
      expect(m.params.name).toMatch(STAND_IN_FOR_RM);
      expect(m.params.arguments).toEqual({});
    }
  }
}

/** A body the gateway must refuse with 400 before any policy, forwarding nothing. */
interface RejectedCase {
  name: string;
  body: string;
  headers?: Record<string, string>;
}

const rejected: RejectedCase[] = [
  // Batches outside 2025-03-26
  { name: "a batch without MCP-Protocol-Version", body: `[${callText('"echo"', '{"message":"x"}')}]`, headers: { "mcp-protocol-version": "" } },
  { name: "a batch under 2025-06-18", body: `[${callText('"echo"', '{"message":"x"}')}]` },
  {
    name: "a batch under 2025-11-25",
    body: `[${callText('"echo"', '{"message":"x"}')},${callText('"rm"', "{}", "2")}]`,
    headers: { "mcp-protocol-version": "2025-11-25" },
  },
  {
    name: "a 2025-03-26 batch with an id-less tools/call inside",
    body: `[${callText('"echo"', '{"message":"x"}')},{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}]`,
    headers: { "mcp-protocol-version": "2025-03-26" },
  },
  { name: "an empty 2025-03-26 batch", body: "[]", headers: { "mcp-protocol-version": "2025-03-26" } },
  // Duplicate keys, exact, escaped, case-folded, with NUL
  { name: "duplicate params.name (echo then rm)", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"rm"}}` },
  { name: "duplicate method", body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"rm"}}` },
  { name: "duplicate id", body: `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}` },
  { name: "duplicate key nested in arguments", body: callText('"echo"', '{"message":"a","message":"b"}') },
  { name: "duplicate key deep in arguments", body: callText('"echo"', '{"message":"a","opts":{"x":{"y":1,"y":2}}}') },
  { name: "duplicate through an escape (name, n\\u0061me)", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","n\\u0061me":"rm"}}` },
  { name: "keys differing only in case (Name, name)", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm","name":"echo"}}` },
  { name: "keys differing only in case (method, Method)", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list","params":{"name":"rm"}}` },
  {
    name: "keys differing only in case, one escaped (N\\u0041ME)",
    body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","N\\u0041ME":"rm"}}`,
  },
  { name: "a key with NUL (na\\u0000me)", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"na\\u0000me":"rm","name":"echo"}}` },
  // Requests that are not requests: missing or unusable ids
  { name: "tools/call of rm without an id", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}` },
  { name: "tools/call of echo without an id", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}` },
  { name: "id null", body: callText('"rm"', "{}", "null") },
  { name: "id 1.5", body: callText('"rm"', "{}", "1.5") },
  { name: "id 9007199254740993 (above 2^53)", body: callText('"rm"', "{}", "9007199254740993") },
  { name: "id true", body: callText('"rm"', "{}", "true") },
  { name: "id as an object", body: callText('"rm"', "{}", '{"n":1}') },
  { name: "id as an array", body: callText('"rm"', "{}", "[1]") },
  // Shape
  { name: "two JSON texts in one body (echo then rm)", body: `${callText('"echo"', '{"message":"x"}')}${callText('"rm"', "{}", "2")}` },
  {
    name: "an unknown top-level member",
    body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}},"name":"rm"}`,
  },
  { name: "jsonrpc other than 2.0", body: `{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"rm"}}` },
  { name: "params.name not a string", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["rm"]}}` },
  { name: "arguments not an object", body: callText('"echo"', '["x"]') },
  { name: "a lone surrogate in the name", body: callText('"rm\\ud800"') },
  { name: "nesting deeper than the limit (65)", body: callText('"echo"', `{"message":"x","deep":${"[".repeat(62)}${"]".repeat(62)}}`) },
  { name: "an array longer than the limit (10,001)", body: callText('"echo"', `{"message":"x","list":[${new Array(10_001).fill(0).join(",")}]}`) },
  { name: "a number that overflows a double", body: callText('"echo"', '{"message":"x","n":1e400}') },
  { name: "a JSON text that is not an object", body: '"tools/call"' },
  { name: "trailing comma", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"},}` },
  { name: "a request that is also a response (method + result)", body: `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"rm"},"result":{}}` },
  // 2026-07-28 routing headers that disagree with the body: the body decides, a mismatch is refused
  { name: "Mcp-Name rm on a body calling echo", body: callText('"echo"', '{"message":"x"}'), headers: { "mcp-method": "tools/call", "mcp-name": "rm" } },
  { name: "Mcp-Name echo on a body calling rm", body: callText('"rm"'), headers: { "mcp-method": "tools/call", "mcp-name": "echo" } },
  { name: "Mcp-Name echo (base64) on a body calling rm", body: callText('"rm"'), headers: { "mcp-method": "tools/call", "mcp-name": "=?base64?ZWNobw==?=" } },
  { name: "Mcp-Method tools/list on a body calling rm", body: callText('"rm"'), headers: { "mcp-method": "tools/list" } },
];

describe("bodies the gateway refuses before any policy", () => {
  it.each(rejected)("400, nothing forwarded: $name", async (c) => {
    let r: Awaited<ReturnType<typeof post>> | undefined;
    for (const grant of [strict, open]) {
      const reached = await reaching(async () => {
        const headers = { ...c.headers };
        // An empty value stands for "header absent".
        const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ""));
        r = await fetchWithout(
          grant,
          c.body,
          sent,
          Object.keys(headers).filter((k) => headers[k] === ""),
        );
      });
      expect(r!.status, grant === strict ? "strict grant" : "open grant").toBe(400);
      expect(r!.json?.error?.code).toBeTypeOf("number");
      expect(reached).toEqual([]);
    }
  });

  it("a body that is not UTF-8 is refused (400) and not forwarded", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(callText('"r')), 0xff, ...new TextEncoder().encode('m"')]);
    const reached = await reaching(async () => {
      const r = await post(open, bytes);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe(-32700);
    });
    expect(reached).toEqual([]);
  });

  it("nesting at the limit is still accepted, so the limit is the one measured", async () => {
    // Depth: message object 1, params 2, arguments 3, then 61 arrays = 64.
    const reached = await reaching(async () => {
      const r = await post(strict, callText('"echo"', `{"message":"deep-ok","deep":${"[".repeat(61)}${"]".repeat(61)}}`));
      expect(r.status).toBe(200);
      expect(resultText(r)).toBe("deep-ok");
    });
    expect(reached.map((m) => m.params?.name)).toEqual(["echo"]);
  });
});

/** POSTs with some default headers removed (e.g. no MCP-Protocol-Version at all). */
async function fetchWithout(grant: Grant, body: string, headers: Record<string, string>, without: string[]) {
  const all = mcpHeaders(grant.token, headers);
  for (const name of without) delete all[name];
  const res = await fetch(grant.url, { method: "POST", headers: all, body });
  const text = await res.text();
  seenByAgent.push(text);
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

describe("a client response cannot carry a call", () => {
  it("a response whose result looks like a tools/call is forwarded as a response and runs nothing", async () => {
    // Clients answer server requests (elicitation, sampling) with responses, which carry no
    // policy decision; the upstream treats them as answers, never as calls.
    const reached = await reaching(async () => {
      const r = await post(open, '{"jsonrpc":"2.0","id":99,"result":{"method":"tools/call","params":{"name":"rm","arguments":{}}}}');
      expect(r.status).toBeLessThan(300);
    });
    expect(reached.every((m) => m.method === undefined)).toBe(true);
    expect(upstream.toolCalls().filter((c: any) => c.name === "rm")).toEqual([]);
  });
});

describe("batches (2025-03-26 only)", () => {
  const batch = (...calls: string[]) => `[${calls.join(",")}]`;
  const v2025_03_26 = { "mcp-protocol-version": "2025-03-26" };

  it("[echo, rm] is never split: nothing is forwarded and each request is answered", async () => {
    const reached = await reaching(async () => {
      const r = await post(strict, batch(callText('"echo"', '{"message":"x"}', "1"), callText('"rm"', "{}", "2")), v2025_03_26);
      expect(r.status).toBe(200);
      expect(Array.isArray(r.json)).toBe(true);
      const byId = new Map(r.json.map((m: any) => [m.id, m]));
      expect([...byId.keys()].sort()).toEqual([1, 2]);
      expect((byId.get(1) as any).error.code).toBe(-32600);
      expect((byId.get(2) as any).result.content[0].text).toBe(notPermitted("rm"));
    });
    expect(reached).toEqual([]);
  });

  it("[echo, rm] under default allow is [echo, missing tool]: forwarded whole, rm answered as a missing tool, rm never run", async () => {
    const reached = await reaching(async () => {
      const r = await post(open, batch(callText('"echo"', '{"message":"x"}', "1"), callText('"rm"', '{"path":"/"}', "2")), v2025_03_26);
      expect(r.status).toBe(200);
      const rm = r.json.find((m: any) => m.id === 2);
      expect(rm.result.content[0].text).toBe(unknownTool("rm"));
      const missing = await post(open, batch(callText('"echo"', '{"message":"x"}', "1"), callText('"no_such_tool"', '{"path":"/"}', "2")), v2025_03_26);
      expect(JSON.stringify(r.json)).toBe(JSON.stringify(missing.json).replaceAll("no_such_tool", "rm"));
    });
    expectOnlyStandIns(reached);
    expect(reached.filter((m) => m.params?.name === "echo")).toHaveLength(2);
  });

  it("[rm, echo] in the other order is refused the same way", async () => {
    const reached = await reaching(async () => {
      const r = await post(strict, batch(callText('"rm"', "{}", "1"), callText('"echo"', '{"message":"x"}', "2")), v2025_03_26);
      expect(r.json).toHaveLength(2);
    });
    expect(reached).toEqual([]);
  });

  it("[echo, echo] is forwarded whole and both are answered", async () => {
    const reached = await reaching(async () => {
      const r = await post(strict, batch(callText('"echo"', '{"message":"one"}', "1"), callText('"echo"', '{"message":"two"}', "2")), v2025_03_26);
      expect(r.status).toBe(200);
      const texts = Object.fromEntries(r.json.map((m: any) => [m.id, m.result?.content?.[0]?.text]));
      expect(texts).toEqual({ 1: "one", 2: "two" });
    });
    expect(reached.map((m) => m.params.name)).toEqual(["echo", "echo"]);
  });
});

describe("escaped names are decided as what they decode to", () => {
  it('"tools\\u002fcall" of "\\u0072m" is a call of rm: hidden, not forwarded', async () => {
    const body = `{"jsonrpc":"2.0","id":31,"method":"tools\\u002fcall","params":{"name":"\\u0072m","arguments":{}}}`;
    const reached = await reaching(async () => {
      const r = await post(strict, body);
      expect(r.status).toBe(200);
      expect(resultText(r)).toBe(notPermitted("rm"));
      const o = await post(open, body);
      expect(resultText(o)).toBe(unknownTool("rm"));
    });
    expectOnlyStandIns(reached);
    const records = await audit(strict.id);
    expect(records.some((a) => a.rpcId === 31 && a.tool === "rm" && a.code === "hidden")).toBe(true);
  });

  it('"\\u0065cho" is echo, allowed and forwarded', async () => {
    const reached = await reaching(async () => {
      const r = await post(strict, callText('"\\u0065cho"', '{"message":"escaped echo"}'));
      expect(resultText(r)).toBe("escaped echo");
    });
    expect(reached.map((m) => m.params.name)).toEqual(["echo"]);
  });
});

describe("names outside the MCP charset", () => {
  const odd: [string, string][] = [
    ["Cyrillic е in еcho (U+0435)", "\u0435cho"],
    ["Cyrillic letters spelling rm-like rм", "r\u043c"],
    ["a bidi override (echo U+202E)", "echo\u202e"],
    ["a zero-width joiner (ec U+200D ho)", "ec\u200dho"],
    ["a zero-width space before rm", "\u200brm"],
    ["a trailing space (echo )", "echo "],
    ["an inner space (r m)", "r m"],
    ["a name of 129 characters", "a".repeat(129)],
    ["an empty name", ""],
    ["a slash (../rm)", "../rm"],
    ["fullwidth ｒｍ", "\uff52\uff4d"],
  ];

  it.each(odd)("%s: denied under default deny and default allow, never forwarded", async (_label, name) => {
    const body = callText(JSON.stringify(name), '{"message":"x"}');
    const reached = await reaching(async () => {
      const s = await post(strict, body);
      expect(s.status).toBe(200);
      expect(s.json.result.isError).toBe(true);
      expect(resultText(s)).toBe(notPermitted(name));
      const o = await post(open, body);
      expect(o.status).toBe(200);
      expect(resultText(o)).toBe(unknownTool(name));
    });
    expect(reached).toEqual([]);
  });

  it("a name outside the charset that the policy lists exactly is forwarded", async () => {
    const reached = await reaching(async () => {
      const r = await post(open, callText(JSON.stringify(ODD_LISTED)));
      expect(resultText(r)).toBe("legacy ran");
    });
    expect(reached.map((m) => m.params.name)).toEqual([ODD_LISTED]);
  });
});

describe("body size (MAX_BODY_BYTES)", () => {
  const oversized = callText('"echo"', `{"message":"${"x".repeat(MAX_BODY_BYTES)}"}`);

  it("413 for a body over the limit with a true Content-Length", async () => {
    const reached = await reaching(async () => {
      const r = await post(strict, oversized);
      expect(r.status).toBe(413);
      expect(r.json.error.code).toBe(-32006);
    });
    expect(reached).toEqual([]);
  });

  it("413 for a chunked body over the limit (no Content-Length)", async () => {
    const bytes = new TextEncoder().encode(oversized);
    const reached = await reaching(async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
          controller.close();
        },
      });
      const res = await fetch(strict.url, {
        method: "POST",
        headers: { authorization: `Bearer ${strict.token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(res.headers.get("content-length")).not.toBe(String(bytes.length));
      expect(res.status).toBe(413);
      await res.text();
    });
    expect(reached).toEqual([]);
  });

  it("413 for a Content-Length over the limit, before the body arrives", async () => {
    const reached = await reaching(async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const url = new URL(strict.url);
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: "POST",
            headers: { authorization: `Bearer ${strict.token}`, "content-type": "application/json", "content-length": String(MAX_BODY_BYTES * 4) },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on("error", reject);
        // Only a small part of the declared body is ever sent: the answer must not wait for the rest.
        req.write(callText('"echo"', '{"message":"x"}'));
      });
      expect(status).toBe(413);
    });
    expect(reached).toEqual([]);
  });

  it("a Content-Length smaller than the body reads only the declared bytes, which do not parse", async () => {
    const body = callText('"echo"', '{"message":"x"}');
    const reached = await reaching(async () => {
      const status = await rawHttp(strict, body, { "content-length": String(body.length - 10) });
      expect(status).toBe(400);
    });
    expect(reached).toEqual([]);
  });
});

/** POSTs with node:http so headers such as Content-Length can lie. */
function rawHttp(grant: Grant, body: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(grant.url);
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { authorization: `Bearer ${grant.token}`, "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("canonical forwarding: the upstream gets the parsed message re-serialized, never the agent's bytes", () => {
  const sent: [string, string][] = [
    [
      "whitespace, escapes and key order",
      ' \n{ "params" : { "arguments" : { "message" : "a\\/b\\u00e9\\n" } ,\t"name" : "\\u0065cho" } , "method":"tools\\u002fcall", "id" : 7 , "jsonrpc" : "2.0" }\r\n',
    ],
    ["an id written 7e0", '{"jsonrpc":"2.0","id":7e0,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m"}}}'],
    [
      "a __proto__ key, kept as data",
      '{"jsonrpc":"2.0", "id":8,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m","__proto__":{"name":"rm"}}}}',
    ],
    [
      "numbers with exponents and fractions",
      '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m","n":1.50,"e":2E+2,"z":-0}}}',
    ],
    [
      "non-ASCII as raw UTF-8 and as escapes",
      '{"jsonrpc":"2.0","id":"\\u0031\\u0030","method":"tools/call","params":{"name":"echo","arguments":{"message":"\u00e9\\u00e9 \ud83d\ude00 \\ud83d\\ude00"}}}',
    ],
  ];

  it.each(sent)("%s", async (_label, body) => {
    const before = recorder.bodies.length;
    const r = await post(strictToRecorder, body);
    expect(r.status).toBe(200);
    expect(resultText(r)).toBe("recorded");
    expect(recorder.bodies.length - before).toBe(1);
    const forwarded = recorder.bodies.at(-1)!;
    expect(forwarded).toBe(JSON.stringify(JSON.parse(body)));
    expect(forwarded).not.toBe(body);
  });

  it("a refused call leaves the raw upstream untouched too", async () => {
    const before = recorder.bodies.length;
    await post(strictToRecorder, callText('"\\u0072m"'));
    await post(strictToRecorder, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"rm"}}`);
    expect(recorder.bodies.length).toBe(before);
  });
});

describe("Origin (DNS rebinding)", () => {
  const call = callText('"echo"', '{"message":"origin"}');
  it.each([
    ["https://evil.example", 403],
    ["null", 403],
    ["https://ok.example.evil.example", 403],
    ["http://ok.example", 403],
    ["https://OK.EXAMPLE", 403],
  ])("Origin %s gets %d and nothing is forwarded", async (origin, status) => {
    const reached = await reaching(async () => {
      const r = await post(strict, call, { origin });
      expect(r.status).toBe(status);
    });
    expect(reached).toEqual([]);
  });

  it("the configured origin and no Origin at all are served", async () => {
    const reached = await reaching(async () => {
      expect(resultText(await post(strict, call, { origin: ALLOWED_ORIGIN }))).toBe("origin");
      expect(resultText(await post(strict, call))).toBe("origin");
    });
    expect(reached.map((m) => m.params.name)).toEqual(["echo", "echo"]);
  });
});

describe("a hidden tool cannot be reached or discovered by another path", () => {
  it("a hidden tool's call is answered exactly as a nonexistent tool's (default deny)", async () => {
    const hidden = await post(strict, callText('"rm"'));
    const missing = await post(strict, callText('"no_such_tool"'));
    expect(hidden.json).toEqual(JSON.parse(JSON.stringify(missing.json).replaceAll("no_such_tool", "rm")));
  });

  it("a hidden tool's call is answered exactly as a nonexistent tool's (default allow, answered by the upstream)", async () => {
    const reached = await reaching(async () => {
      const hidden = await post(open, callText('"rm"'));
      const missing = await post(open, callText('"no_such_tool"'));
      expect(resultText(missing)).toBe(unknownTool("no_such_tool"));
      expect(hidden.text).toBe(missing.text.replaceAll("no_such_tool", "rm"));
      expect(hidden.status).toBe(missing.status);
      expect(hidden.headers.get("content-type")).toBe(missing.headers.get("content-type"));
    });
    // rm itself never went upstream: a stand-in without arguments did, as the missing tool did.
    expectOnlyStandIns(reached);
    expect(reached.map((m) => m.params.name)).toEqual([expect.stringMatching(STAND_IN_FOR_RM), "no_such_tool"]);
  });

  it("tools/list hides rm from both grants", async () => {
    const s = await post(strict, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    expect(s.json.result.tools.map((t: any) => t.name)).toEqual(["echo"]);
    const o = await post(open, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    const names = o.json.result.tools.map((t: any) => t.name);
    expect(names).toContain("echo");
    expect(names).toContain(ODD_LISTED);
    expect(names).not.toContain("rm");
  });

  it("a task-augmented call of rm never runs rm, so no task exists for it", async () => {
    // MCP 2025-11-25 tasks: `params.task` asks the server to run the call as a task. The gateway
    // decides on params.name: rm never reaches the upstream (only a stand-in that cannot exist does).
    const reached = await reaching(async () => {
      const r = await post(open, '{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"rm","arguments":{},"task":{"ttl":60000}}}', {
        "mcp-protocol-version": "2025-11-25",
      });
      const missing = await post(open, '{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"no_such_tool","arguments":{},"task":{"ttl":60000}}}', {
        "mcp-protocol-version": "2025-11-25",
      });
      expect(r.text).toBe(missing.text.replaceAll("no_such_tool", "rm"));
      expect(r.json.result?.task).toBeUndefined();
      const list = await post(open, '{"jsonrpc":"2.0","id":42,"method":"tasks/list"}', { "mcp-protocol-version": "2025-11-25" });
      expect(list.text).not.toContain('"rm"');
      expect(list.text).not.toContain(RM_MARKER);
    });
    expectOnlyStandIns(reached);
  });

  it("completion/complete has no tool reference: a tool-shaped ref surfaces nothing about rm", async () => {
    // The spec's completion refs are ref/prompt and ref/resource only; the request is forwarded
    // (it names no tool), and whatever the upstream answers carries no trace of rm.
    const r = await post(
      open,
      '{"jsonrpc":"2.0","id":43,"method":"completion/complete","params":{"ref":{"type":"ref/tool","name":"rm"},"argument":{"name":"path","value":""}}}',
    );
    expect(r.text).not.toContain(RM_MARKER);
    expect(r.json.result?.completion?.values ?? []).not.toContain("rm");
  });

  it("no answer in this whole file carried rm's definition", () => {
    expect(seenByAgent.length).toBeGreaterThan(50);
    for (const text of seenByAgent) expect(text).not.toContain(RM_MARKER);
  });

  it("rm never reached the upstream in this whole file", () => {
    expect(upstream.toolCalls().filter((c: any) => c.name === "rm")).toEqual([]);
  });
});

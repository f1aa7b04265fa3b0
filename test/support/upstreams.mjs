// Real upstream MCP servers for tests, the demo and the benchmark, all on 127.0.0.1.
//   startSdkServer    an @modelcontextprotocol/sdk (v1) McpServer over Streamable HTTP that records
//                     every JSON-RPC message it receives (so tests can prove what never reached it)
//   startEverything   @modelcontextprotocol/server-everything in streamableHttp mode, as a child process
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The demo tool set: harmless tools with names that make policies readable. */
export function registerDemoTools(server) {
  server.registerTool("echo", { description: "Echo a message back", inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: "text", text: message }],
  }));
  server.registerTool("add", { description: "Add two numbers", inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: "text", text: String(a + b) }],
  }));
  server.registerTool("list_customers", { description: "List customers", inputSchema: {} }, async () => ({
    content: [
      {
        type: "text",
        text: JSON.stringify([
          { id: 1, name: "Ada" },
          { id: 2, name: "Grace" },
        ]),
      },
    ],
  }));
  server.registerTool(
    "create_refund",
    { description: "Refund a customer", inputSchema: { customer: z.number(), amount: z.number(), reason: z.string().optional() } },
    async ({ customer, amount }) => ({ content: [{ type: "text", text: `refunded ${amount} to customer ${customer}` }] }),
  );
  server.registerTool("delete_account", { description: "Delete a customer account", inputSchema: { customer: z.number() } }, async ({ customer }) => ({
    content: [{ type: "text", text: `deleted ${customer}` }],
  }));
  server.registerTool(
    "slow_count",
    {
      description: "Count to n, one progress notification per step",
      inputSchema: { n: z.number().int().min(1).max(20), delayMs: z.number().int().min(0).max(2000).optional() },
    },
    async ({ n, delayMs }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        await new Promise((r) => setTimeout(r, delayMs ?? 50));
        if (token !== undefined) {
          await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: i, total: n } });
        }
      }
      return { content: [{ type: "text", text: `counted to ${n}` }] };
    },
  );
}

/**
 * An SDK McpServer on 127.0.0.1. `json: true` answers with application/json (enableJsonResponse);
 * `stateful: true` keeps sessions (one transport per session), otherwise a new transport per request.
 * `received` lists every JSON-RPC message that reached it, in order; `headers` the headers of each HTTP request.
 * `recordBodies: true` keeps the exact bytes of every response body it wrote, in `bodies`.
 * @param {{ json?: boolean, stateful?: boolean, register?: (server: McpServer) => void, port?: number, recordBodies?: boolean }} [options]
 */
export async function startSdkServer(options = {}) {
  const json = options.json ?? true;
  const stateful = options.stateful ?? false;
  const register = options.register ?? registerDemoTools;
  const received = [];
  const requests = [];
  const bodies = [];
  const sessions = new Map();

  async function newTransport() {
    const server = new McpServer({ name: "test-upstream", version: "1.0.0" });
    register(server);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: stateful ? () => crypto.randomUUID() : undefined,
      enableJsonResponse: json,
      onsessioninitialized: (id) => sessions.set(id, transport),
      onsessionclosed: (id) => sessions.delete(id),
    });
    await server.connect(transport);
    return transport;
  }

  const http = createServer(async (req, res) => {
    if (options.recordBodies) recordBody(res, bodies);
    try {
      const text = req.method === "POST" ? (await readRawBody(req)).toString("utf8") : "";
      requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
      let body;
      if (text) {
        body = JSON.parse(text);
        for (const m of Array.isArray(body) ? body : [body]) received.push(m);
      }
      let transport;
      const sid = req.headers["mcp-session-id"];
      if (stateful && typeof sid === "string") {
        transport = sessions.get(sid);
        if (!transport) {
          res
            .writeHead(404, { "content-type": "application/json" })
            .end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }));
          return;
        }
      } else {
        transport = await newTransport();
      }
      await transport.handleRequest(req, res, body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    }
  });
  await new Promise((r) => http.listen(options.port ?? 0, "127.0.0.1", r));
  const { port } = http.address();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    received,
    requests,
    bodies,
    sessions,
    /** Every tools/call that reached this upstream, as { name, arguments }. */
    toolCalls: () => received.filter((m) => m.method === "tools/call").map((m) => m.params),
    close: () =>
      new Promise((r) => {
        http.closeAllConnections?.();
        http.close(() => r());
      }),
  };
}

/** Keeps the bytes a response's body is written with, and pushes them to `bodies` when it ends. */
function recordBody(res, bodies) {
  const chunks = [];
  const keep = (chunk, encoding) => {
    if (chunk !== undefined && chunk !== null && typeof chunk !== "function") chunks.push(Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8"));
  };
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = (chunk, encoding, callback) => {
    keep(chunk, encoding);
    return write(chunk, encoding, callback);
  };
  res.end = (chunk, encoding, callback) => {
    keep(chunk, encoding);
    bodies.push(Buffer.concat(chunks));
    return end(chunk, encoding, callback);
  };
}

/** @modelcontextprotocol/server-everything (streamableHttp) on 127.0.0.1:<port>. */
export async function startEverything(port) {
  const entry = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
  const child = spawn(process.execPath, ["--require", join(here, "loopback-preload.cjs"), entry, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server-everything did not start")), 20_000);
    const onData = (d) => {
      if (String(d).includes("listening")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server-everything exited ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () =>
      new Promise((r) => {
        child.once("exit", () => r());
        child.kill("SIGTERM");
      }),
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Makes a stateful `startSdkServer` forget a session, as after a restart: the client's next
 * request with that id gets 404 (Streamable HTTP, "Session Management"). All sessions when no id
 * is given.
 * @param {{ sessions: Map<string, { close(): Promise<void> }> }} upstream
 * @param {string} [sessionId]
 */
export async function expireSession(upstream, sessionId) {
  const ids = sessionId === undefined ? [...upstream.sessions.keys()] : [sessionId];
  for (const id of ids) {
    const transport = upstream.sessions.get(id);
    upstream.sessions.delete(id);
    await transport?.close();
  }
}

/** tools/list page size of the matrix's v1 upstream: small, so its tool set spans several pages. */
export const SDK_TOOLS_PAGE_SIZE = 3;

/**
 * The transparency matrix's v1 upstream: a stateful SSE `startSdkServer` whose surface covers
 * every matrix row (demo tools, an elicitation tool, a resource, a prompt, tools/list in pages of
 * SDK_TOOLS_PAGE_SIZE) plus test controls:
 *   expire(sessionId)     the server forgets the session (as after a restart), so the client's
 *                         next request gets 404 (Streamable HTTP, "Session Management")
 *   notifyToolsChanged()  every live session sends notifications/tools/list_changed on its GET stream
 * @param {{ port?: number }} [options]
 */
export async function startMatrixSdkServer(options = {}) {
  const servers = new Set();
  const upstream = await startSdkServer({
    stateful: true,
    json: false,
    port: options.port,
    register: (server) => {
      registerDemoTools(server);
      registerMatrixSurface(server);
      servers.add(server);
    },
  });
  return {
    ...upstream,
    expire: (sessionId) => expireSession(upstream, sessionId),
    notifyToolsChanged: () => {
      for (const server of servers) if (server.isConnected()) server.sendToolListChanged();
    },
  };
}

function registerMatrixSurface(server) {
  server.registerTool("confirm_action", { description: "Ask the user to confirm", inputSchema: { action: z.string() } }, async ({ action }) => {
    const answer = await server.server.elicitInput({
      message: `Really ${action}?`,
      requestedSchema: { type: "object", properties: { confirm: { type: "boolean" } }, required: ["confirm"] },
    });
    const confirmed = answer.action === "accept" && answer.content?.confirm === true;
    return { content: [{ type: "text", text: confirmed ? `confirmed ${action}` : `declined ${action}` }] };
  });
  server.registerResource("readme", "doc://sdk/readme", { mimeType: "text/plain", description: "A static document" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "sdk upstream readme" }],
  }));
  server.registerPrompt("greet", { description: "Greet someone", argsSchema: { name: z.string() } }, ({ name }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}` } }],
  }));
  paginateToolsList(server, SDK_TOOLS_PAGE_SIZE);
}

/**
 * McpServer (v1 and v2 alike) answers tools/list in one page; real servers paginate, and a gateway
 * that filters tools must keep cursors working. Wraps the SDK's own handler and serves its list in
 * pages; the cursor is the decimal offset (opaque to clients, as the spec requires).
 */
export function paginateToolsList(server, pageSize) {
  const handlers = server.server._requestHandlers;
  const whole = handlers?.get("tools/list");
  if (typeof whole !== "function") throw new Error("SDK internals changed: no tools/list handler to paginate");
  handlers.set("tools/list", async (request, extra) => {
    const full = await whole({ ...request, params: { ...request.params, cursor: undefined } }, extra);
    const start = request.params?.cursor === undefined ? 0 : Number(request.params.cursor);
    if (!Number.isInteger(start) || start < 0 || start > full.tools.length) throw new Error("invalid cursor");
    const end = start + pageSize;
    return { ...full, tools: full.tools.slice(start, end), ...(end < full.tools.length ? { nextCursor: String(end) } : {}) };
  });
}

/** Reads a request body as raw bytes. */
export function readRawBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// ---- Raw upstreams for the bypass corpus and the fault tests ---------------------------------
// These speak just enough HTTP to stand in for an MCP server, so a test controls every byte the
// gateway receives from its upstream and sees every byte the gateway sent.

/** The id of the first request in a body (for answering it), or null. */
function firstRequestId(text) {
  try {
    const value = JSON.parse(text);
    const first = Array.isArray(value) ? value[0] : value;
    return first && typeof first === "object" && "id" in first ? first.id : null;
  } catch {
    return null;
  }
}

async function listenLocal(http) {
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  const { port } = http.address();
  return port;
}

function closer(http) {
  return () =>
    new Promise((r) => {
      http.closeAllConnections?.();
      http.close(() => r());
    });
}

/**
 * An upstream that records the exact bytes of every request body (`bodies`, utf-8 strings) and
 * its headers (`requests`), and answers each POST with `respond({ body, id, count })`, by default
 * a fixed valid JSON-RPC result for the request's id. `setRespond(fn)` changes the answer at run
 * time, e.g. from a fault to a healthy answer. An answer is
 * `{ status?, headers?, body?, delayMs? }`; `delayMs` waits before the status line is sent.
 * @param {{ respond?: (r: { body: string, id: unknown, count: number }) => { status?: number, headers?: Record<string,string>, body?: string, delayMs?: number } }} [options]
 */
export async function startRawRecorder(options = {}) {
  const bodies = [];
  const requests = [];
  const healthy = ({ id }) => ({
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "recorded" }] } }),
  });
  let respond = options.respond ?? healthy;
  const http = createServer(async (req, res) => {
    const raw = await readRawBody(req);
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const body = raw.toString("utf8");
    bodies.push(body);
    const answer = respond({ body, id: firstRequestId(body), count: bodies.length });
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (res.destroyed) return;
    res.writeHead(answer.status ?? 200, answer.headers ?? {}).end(answer.body ?? "");
  });
  const port = await listenLocal(http);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    bodies,
    requests,
    /** The answer every later request gets; `healthy` restores the default. */
    setRespond: (fn) => {
      respond = fn ?? healthy;
    },
    healthy,
    close: closer(http),
  };
}

/**
 * An upstream that answers every POST with `text/event-stream` and writes the chunks that
 * `script(message)` returns (the parsed request body; or a fixed array), each after `gapMs`, then
 * ends the response; a script that returns null gets 202 with no body (as for a notification).
 * Chunks are written as given, so a test can split an event anywhere, use lone CRs, or end
 * mid-event. `received` lists the parsed request bodies.
 * @param {string[] | ((message: any) => string[] | null)} script
 * @param {{ gapMs?: number }} [options]
 */
export async function startScriptedSseUpstream(script, options = {}) {
  const gapMs = options.gapMs ?? 20;
  const received = [];
  const http = createServer(async (req, res) => {
    const text = (await readRawBody(req)).toString("utf8");
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    let message = null;
    try {
      message = JSON.parse(text);
    } catch {}
    received.push(message);
    const chunks = typeof script === "function" ? script(message) : script;
    if (chunks === null) {
      res.writeHead(202).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const chunk of chunks) {
      await new Promise((r) => setTimeout(r, gapMs));
      if (res.destroyed) return;
      res.write(chunk);
    }
    await new Promise((r) => setTimeout(r, gapMs));
    res.end();
  });
  const port = await listenLocal(http);
  return { url: `http://127.0.0.1:${port}/mcp`, port, received, close: closer(http) };
}

/**
 * An upstream that rejects every request as an OAuth resource server does (RFC 9728, MCP
 * "Authorization"): 401 with `WWW-Authenticate: Bearer resource_metadata="…"`, and the metadata
 * URL in the body too. `resourceMetadata` is that URL, for asserting it never reaches the client.
 */
export async function startAuthChallengeUpstream() {
  let resourceMetadata = "";
  const requests = [];
  const http = createServer(async (req, res) => {
    await readRawBody(req);
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    res
      .writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": `Bearer error="invalid_token", resource_metadata="${resourceMetadata}"`,
      })
      .end(JSON.stringify({ error: "invalid_token", resource_metadata: resourceMetadata }));
  });
  const port = await listenLocal(http);
  resourceMetadata = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  return { url: `http://127.0.0.1:${port}/mcp`, port, requests, resourceMetadata, close: closer(http) };
}

/**
 * A TCP relay in front of an upstream that records when each connection opens and closes, so a
 * test can see the gateway drop its upstream connection (e.g. after the agent disconnected).
 * `connections` holds `{ opened, closed }` times (ms since epoch; closed null while open).
 * @param {number} targetPort
 */
export async function startConnectionWatcher(targetPort) {
  const { createServer: createTcpServer, connect } = await import("node:net");
  const connections = [];
  const sockets = new Set();
  const relay = createTcpServer((client) => {
    const record = { opened: Date.now(), closed: null };
    connections.push(record);
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      record.closed ??= Date.now();
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    client.on("error", end);
    upstream.on("close", end);
    upstream.on("error", end);
  });
  await new Promise((r) => relay.listen(0, "127.0.0.1", r));
  const { port } = relay.address();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    connections,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        relay.close(() => r());
      }),
  };
}

/**
 * The MCP SDK's own Express app (`createMcpExpressApp` + `express.json()`), stateless, with the
 * demo tools plus `rm`. `received` holds what the upstream itself decoded from each body — which,
 * for a body with a non-UTF-8 charset, is not what a UTF-8 reader sees. `requests` has the headers.
 */
export async function startExpressUpstream() {
  const { createMcpExpressApp } = await import("@modelcontextprotocol/sdk/server/express.js");
  const express = (await import("express")).default;
  const received = [];
  const requests = [];
  const app = createMcpExpressApp();
  app.use(express.json({ limit: "8mb" }));
  app.post("/mcp", async (req, res) => {
    requests.push({ headers: { ...req.headers } });
    for (const m of Array.isArray(req.body) ? req.body : [req.body]) received.push(m);
    const server = new McpServer({ name: "express-upstream", version: "1.0.0" });
    registerDemoTools(server);
    server.registerTool("rm", { description: "Remove files", inputSchema: { path: z.string().optional() } }, async () => ({
      content: [{ type: "text", text: "REMOVED" }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const http = await new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
  });
  return {
    url: `http://127.0.0.1:${http.address().port}/mcp`,
    received,
    requests,
    toolCalls: () => received.filter((m) => m?.method === "tools/call").map((m) => m.params),
    close: closer(http),
  };
}

/**
 * A raw TCP upstream that reads each whole HTTP request, counts it as run, and then resets the
 * connection before sending a status line: the upstream acted, and the gateway never hears back.
 * `resetBeforeReading: true` resets as soon as a connection opens instead (nothing was received).
 */
export async function startResettingUpstream(options = {}) {
  const { createServer: createTcpServer } = await import("node:net");
  const ran = [];
  const server = createTcpServer((socket) => {
    if (options.resetBeforeReading) {
      socket.resetAndDestroy();
      return;
    }
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString("latin1");
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      ran.push(JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString("utf8")));
      socket.resetAndDestroy();
    });
    socket.on("error", () => {});
  });
  const port = await listenLocal(server);
  return { url: `http://127.0.0.1:${port}/mcp`, ran, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * A stateless SDK McpServer with MCP tasks (2025-11-25): the tool `slow_task` runs as a task kept
 * in one task store shared by every request, as a real deployment behind a load balancer would
 * keep it — so without the gateway, any caller can read any task.
 */
export async function startTaskUpstream() {
  const { InMemoryTaskStore } = await import("@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js");
  const taskStore = new InMemoryTaskStore();
  const http = createServer(async (req, res) => {
    const text = req.method === "POST" ? (await readRawBody(req)).toString("utf8") : "";
    const server = new McpServer(
      { name: "task-upstream", version: "1.0.0" },
      { taskStore, capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } },
    );
    server.experimental.tasks.registerToolTask(
      "slow_task",
      { description: "A task", inputSchema: { label: z.string() }, execution: { taskSupport: "optional" } },
      {
        createTask: async ({ label }, extra) => {
          const task = await extra.taskStore.createTask({ ttl: 60_000 });
          await extra.taskStore.storeTaskResult(task.taskId, "completed", { content: [{ type: "text", text: `done ${label}` }] });
          return { task };
        },
        getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
        getTaskResult: async (_args, extra) => extra.taskStore.getTaskResult(extra.taskId),
      },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    await transport.handleRequest(req, res, text ? JSON.parse(text) : undefined);
  });
  const port = await listenLocal(http);
  return { url: `http://127.0.0.1:${port}/mcp`, close: closer(http) };
}

// A v2 (@modelcontextprotocol/server 2.4) upstream for the transparency matrix: one
// `createMcpHandler` endpoint that serves the 2026-07-28 era (stateless, `server/discover`,
// per-request `_meta` envelope, `input_required` for elicitation, `subscriptions/listen` for
// list_changed) and, through the SDK's default `legacy: 'stateless'` fallback, 2025-era clients
// (a fresh instance per POST, no session: GET and DELETE answer 405).
//
// The package ships a web-standard `fetch` face only (`toNodeHandler` lives in
// @modelcontextprotocol/node, which is not installed), so a small node:http <-> fetch bridge
// below serves it on 127.0.0.1.
import { createServer } from "node:http";
import { McpServer, acceptedContent, createMcpHandler, inputRequired } from "@modelcontextprotocol/server";
import { z } from "zod";
import { paginateToolsList, readRawBody } from "./upstreams.mjs";

/** tools/list page size: small enough that the matrix's tool set spans several pages. */
export const V2_TOOLS_PAGE_SIZE = 3;

const confirmationSchema = z.object({ confirm: z.boolean() });

/** The surface every matrix upstream offers, in v2 idiom: one factory backs both eras. */
function buildV2Server() {
  const server = new McpServer({ name: "v2-upstream", version: "2.4.0" }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool("echo", { description: "Echo a message back", inputSchema: z.object({ message: z.string() }) }, async ({ message }) => ({
    content: [{ type: "text", text: message }],
  }));
  server.registerTool("add", { description: "Add two numbers", inputSchema: z.object({ a: z.number(), b: z.number() }) }, async ({ a, b }) => ({
    content: [{ type: "text", text: String(a + b) }],
  }));
  server.registerTool(
    "slow_count",
    { description: "Count to n, one progress notification per step", inputSchema: z.object({ n: z.number().int().min(1).max(20) }) },
    async ({ n }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        await new Promise((r) => setTimeout(r, 20));
        if (token !== undefined) {
          await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken: token, progress: i, total: n } });
        }
      }
      return { content: [{ type: "text", text: `counted to ${n}` }] };
    },
  );
  // Multi-round-trip elicitation: on 2026-07-28 this is an `input_required` result and a retried
  // call; toward a 2025-era request the SDK's legacy shim turns it into `elicitation/create`.
  server.registerTool("confirm_action", { description: "Ask the user to confirm", inputSchema: z.object({ action: z.string() }) }, async ({ action }, ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, "confirm", confirmationSchema);
    if (answer === undefined) {
      return inputRequired({
        inputRequests: { confirm: inputRequired.elicit({ message: `Really ${action}?`, requestedSchema: confirmationSchema }) },
      });
    }
    return { content: [{ type: "text", text: answer.confirm ? `confirmed ${action}` : `declined ${action}` }] };
  });
  for (const name of ["list_customers", "delete_account", "create_refund"]) {
    server.registerTool(name, { description: `Demo tool ${name}`, inputSchema: z.object({}) }, async () => ({ content: [{ type: "text", text: name }] }));
  }
  server.registerResource("readme", "doc://v2/readme", { mimeType: "text/plain", description: "A static document" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "v2 upstream readme" }],
  }));
  server.registerPrompt("greet", { description: "Greet someone", argsSchema: z.object({ name: z.string() }) }, ({ name }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}` } }],
  }));
  paginateToolsList(server, V2_TOOLS_PAGE_SIZE);
  return server;
}

/** node:http request -> web Request (aborted when the client goes away, which cancels the call). */
async function toWebRequest(req, res, origin) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) headers.append(name, v);
  }
  const controller = new AbortController();
  res.on("close", () => controller.abort());
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    body: hasBody ? await readRawBody(req) : undefined,
    signal: controller.signal,
  });
}

/** web Response -> node:http response, streaming (SSE frames are written as they arrive). */
async function writeWebResponse(res, response) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.flushHeaders();
  if (!response.body) return void res.end();
  try {
    for await (const chunk of response.body) res.write(chunk);
  } finally {
    res.end();
  }
}

/**
 * The v2 upstream on 127.0.0.1 (random port unless `port` is given). `received` lists every
 * JSON-RPC message that reached it; `notifyToolsChanged()` publishes
 * `notifications/tools/list_changed` to open 2026-07-28 `subscriptions/listen` streams.
 * @param {{ port?: number }} [options]
 */
export async function startV2Server(options = {}) {
  const handler = createMcpHandler(() => buildV2Server(), { keepAliveMs: 0 });
  const received = [];
  const http = createServer(async (req, res) => {
    try {
      const request = await toWebRequest(req, res, `http://${req.headers.host ?? "127.0.0.1"}`);
      if (request.method === "POST") {
        try {
          const body = JSON.parse(await request.clone().text());
          for (const m of Array.isArray(body) ? body : [body]) received.push(m);
        } catch {
          // not JSON: the handler answers it
        }
      }
      await writeWebResponse(res, await handler.fetch(request));
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
      else res.destroy();
    }
  });
  await new Promise((r) => http.listen(options.port ?? 0, "127.0.0.1", r));
  const { port } = http.address();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    received,
    notifyToolsChanged: () => handler.notify.toolsChanged(),
    close: async () => {
      await handler.close();
      await new Promise((r) => {
        http.closeAllConnections?.();
        http.close(() => r());
      });
    },
  };
}

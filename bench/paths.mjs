// What the benchmark sends, where, and what a correct answer looks like: one entry per table row.
// Checking one answer per row before measuring keeps a row from timing the wrong thing (a 401, an
// unintended denial, an unfiltered list) and calling it fast.
import { createParser } from "eventsource-parser";

export const ECHO_MESSAGE = "hello from the benchmark";
export const HIDDEN_TOOLS = ["create_refund", "delete_account"];

const rpc = (method, params) => JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
export const ECHO_CALL = rpc("tools/call", { name: "echo", arguments: { message: ECHO_MESSAGE } });
export const ADD_CALL = rpc("tools/call", { name: "add", arguments: { a: 1, b: 2 } });
export const TOOLS_LIST = rpc("tools/list", {});

/** Headers of every benchmark request: a stateless MCP client with no session. */
export function mcpHeaders(token) {
  return {
    accept: "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-06-18",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

/** The policies the gateway is seeded with, by name. */
export const POLICIES = {
  "bench-allowed": { version: "1", default: "deny", tools: { echo: {} } },
  "bench-limited": {
    version: "1",
    default: "deny",
    tools: { echo: { limits: [{ counter: "echo", window: "minute", max: 100_000_000, scope: "grant" }] } },
  },
  "bench-listed": { version: "1", default: "allow", hide: HIDDEN_TOOLS },
};

const echoed = (result) =>
  result?.isError !== true && result?.content?.[0]?.text === ECHO_MESSAGE ? null : "expected the echo tool's result";
const denied = (result) =>
  result?.isError === true && String(result?.content?.[0]?.text ?? "").length > 0 ? null : "expected a denial result (isError: true)";
function listed({ hidden }) {
  return (result) => {
    const names = Array.isArray(result?.tools) ? result.tools.map((t) => t.name) : null;
    if (!names?.includes("echo")) return "expected tools/list to include echo";
    const shown = HIDDEN_TOOLS.filter((name) => names.includes(name));
    if (hidden && shown.length > 0) return `expected tools/list to hide ${shown.join(", ")}`;
    if (!hidden && shown.length !== HIDDEN_TOOLS.length) return "expected the unfiltered tools/list";
    return null;
  };
}

/**
 * The rows, in table order. `baseline` names the row the ratios compare against (same concurrency).
 * @param {{ upstreamUrl: string, passthroughOrigin: string, gateway: null | Record<string, { url: string, token: string }>,
 *           wranglerDev: null | { url: string, token: string } }} targets
 */
export function benchmarkPaths({ upstreamUrl, passthroughOrigin, gateway, wranglerDev }) {
  const paths = [
    { key: "direct", label: "direct to upstream", url: upstreamUrl, token: null, body: ECHO_CALL, process: "upstream", check: echoed, baseline: "bare" },
    { key: "bare", label: "bare passthrough", url: `${passthroughOrigin}/mcp`, token: null, body: ECHO_CALL, process: "passthrough", check: echoed, baseline: "bare" },
    { key: "bare-list", label: "bare passthrough, tools/list", url: `${passthroughOrigin}/mcp`, token: null, body: TOOLS_LIST, process: "passthrough", check: listed({ hidden: false }), baseline: "bare-list" },
  ];
  if (gateway) {
    paths.push(
      { key: "allowed", label: "gateway: allowed, no limits", ...gateway.allowed, body: ECHO_CALL, process: "gateway", check: echoed, baseline: "bare" },
      { key: "limited", label: "gateway: allowed, limit never trips", ...gateway.limited, body: ECHO_CALL, process: "gateway", check: echoed, baseline: "bare" },
      { key: "denied", label: "gateway: denied tool", ...gateway.denied, body: ADD_CALL, process: "gateway", check: denied, baseline: "bare" },
      { key: "listed", label: "gateway: tools/list filtered", ...gateway.listed, body: TOOLS_LIST, process: "gateway", check: listed({ hidden: true }), baseline: "bare-list" },
    );
  }
  if (wranglerDev) {
    paths.push({ key: "wrangler-dev", label: "wrangler dev: allowed, no limits", ...wranglerDev, body: ECHO_CALL, process: "wranglerDev", check: echoed, baseline: "bare", concurrencies: [1] });
  }
  return paths.map((p) => ({ concurrencies: [1, 32], ...p, headers: mcpHeaders(p.token) }));
}

/** The JSON-RPC message of an MCP answer, whether it came as JSON or as one SSE event. */
export function parseMcpAnswer(contentType, text) {
  if (contentType.includes("text/event-stream")) {
    const events = [];
    const parser = createParser({ onEvent: (event) => events.push(event.data) });
    parser.feed(text);
    return JSON.parse(events.at(-1) ?? "null");
  }
  return JSON.parse(text);
}

/** Sends one request of a row and says what is wrong with the answer, or null. */
export async function probe(path) {
  const res = await fetch(path.url, { method: "POST", headers: path.headers, body: path.body });
  const text = await res.text();
  if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
  let message;
  try {
    message = parseMcpAnswer(res.headers.get("content-type") ?? "", text);
  } catch {
    return `unparseable answer: ${text.slice(0, 200)}`;
  }
  if (message?.error) return `JSON-RPC error ${message.error.code}: ${message.error.message}`;
  return path.check(message?.result);
}

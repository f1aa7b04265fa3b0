// What the benchmark sends, where, and what a correct answer looks like: one entry per table row.
// Checking one answer per row before measuring keeps a row from timing the wrong thing (a 401, an
// unintended denial, an unfiltered list) and calling it fast.
import { createParser } from "eventsource-parser";
import { LARGE_RESULT_TOOL } from "./large-result-tool.mjs";

export const ECHO_MESSAGE = "hello from the benchmark";
export const HIDDEN_TOOLS = ["create_refund", "delete_account"];

// Every request of a run gets its own JSON-RPC id, as a real client's would: a session-keeping proxy
// (the peer row) matches answers to requests by id, and a repeated id would collide there.
let lastRequestId = 0;
/** A JSON-RPC request body with an id no other request of this run has used. */
export function requestBody({ method, params }) {
  return JSON.stringify({ jsonrpc: "2.0", id: ++lastRequestId, method, params });
}

export const ECHO_CALL = { method: "tools/call", params: { name: "echo", arguments: { message: ECHO_MESSAGE } } };
export const ADD_CALL = { method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 } } };
export const TOOLS_LIST = { method: "tools/list", params: {} };

export const PROTOCOL_VERSION = "2025-06-18";

/** Headers of every benchmark request: a stateless MCP client with no session. */
export function mcpHeaders(token) {
  return {
    accept: "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": PROTOCOL_VERSION,
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
  "bench-large": {
    version: "1",
    default: "deny",
    tools: { [LARGE_RESULT_TOOL]: { limits: [{ counter: "large", window: "minute", max: 100_000_000, scope: "grant" }] } },
  },
};

const echoed = (result) => (result?.isError !== true && result?.content?.[0]?.text === ECHO_MESSAGE ? null : "expected the echo tool's result");
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

export const PEER_LABEL = "peer: @civic/passthrough-mcp-server, allow-list hook";

/**
 * The rows, in table order. `baseline` names the row the "vs base" ratios compare against and
 * `floor` the row the "vs floor" ratios compare against (same concurrency).
 * @param {{ upstreamUrl: string, passthroughOrigin: string, floorOrigin: string | null,
 *           peer: null | { url: string, headers: Record<string,string> },
 *           gateway: null | Record<string, { url: string, token: string }>,
 *           wranglerDev: null | { url: string, token: string } }} targets
 */
export function benchmarkPaths({ upstreamUrl, passthroughOrigin, floorOrigin = null, peer = null, gateway, wranglerDev }) {
  const echoRow = { call: ECHO_CALL, check: echoed, baseline: "bare", floor: "floor" };
  const listRow = { call: TOOLS_LIST, baseline: "bare-list", floor: "floor-list" };
  const paths = [
    { key: "direct", label: "direct to upstream", url: upstreamUrl, token: null, process: "upstream", ...echoRow },
    { key: "bare", label: "bare passthrough", url: `${passthroughOrigin}/mcp`, token: null, process: "passthrough", ...echoRow },
    {
      key: "bare-list",
      label: "bare passthrough, tools/list",
      url: `${passthroughOrigin}/mcp`,
      token: null,
      process: "passthrough",
      ...listRow,
      check: listed({ hidden: false }),
    },
  ];
  if (floorOrigin) {
    paths.push(
      { key: "floor", label: "floor: passthrough + 1 DO SQLite insert", url: `${floorOrigin}/mcp`, token: null, process: "floor", ...echoRow },
      { key: "floor-list", label: "floor, tools/list", url: `${floorOrigin}/mcp`, token: null, process: "floor", ...listRow, check: listed({ hidden: false }) },
    );
  }
  if (peer) {
    paths.push({ key: "peer", label: PEER_LABEL, url: peer.url, token: null, extraHeaders: peer.headers, process: "peer", ...echoRow });
  }
  if (gateway) {
    paths.push(
      { key: "allowed", label: "gateway: allowed, no limits", ...gateway.allowed, process: "gateway", ...echoRow },
      { key: "limited", label: "gateway: allowed, limit never trips", ...gateway.limited, process: "gateway", ...echoRow },
      { key: "denied", label: "gateway: denied tool", ...gateway.denied, process: "gateway", ...echoRow, call: ADD_CALL, check: denied },
      { key: "listed", label: "gateway: tools/list filtered", ...gateway.listed, process: "gateway", ...listRow, check: listed({ hidden: true }) },
    );
  }
  if (wranglerDev) {
    paths.push({ key: "wrangler-dev", label: "wrangler dev: allowed, no limits", ...wranglerDev, process: "wranglerDev", ...echoRow, concurrencies: [1] });
  }
  return paths.map((p) => ({
    concurrencies: [1, 32],
    ...p,
    headers: { ...mcpHeaders(p.token), ...(p.extraHeaders ?? {}) },
    body: () => requestBody(p.call),
  }));
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
  const res = await fetch(path.url, { method: "POST", headers: path.headers, body: path.body() });
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

/**
 * Opens an MCP session as a client does (initialize, then notifications/initialized) and returns
 * the headers every later request of that session carries. For proxies that require a session.
 */
export async function openSession(url) {
  const initialize = {
    method: "initialize",
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "mcp-policy-gateway-bench", version: "1.0.0" } },
  };
  const res = await fetch(url, { method: "POST", headers: mcpHeaders(null), body: requestBody(initialize) });
  const text = await res.text();
  const sessionId = res.headers.get("mcp-session-id");
  if (res.status !== 200 || !sessionId) throw new Error(`initialize: HTTP ${res.status}, session ${sessionId ?? "none"}: ${text.slice(0, 200)}`);
  const answer = parseMcpAnswer(res.headers.get("content-type") ?? "", text);
  const version = answer?.result?.protocolVersion;
  if (typeof version !== "string") throw new Error(`initialize: no protocolVersion in ${text.slice(0, 200)}`);
  const session = { "mcp-session-id": sessionId, "mcp-protocol-version": version };
  const initialized = await fetch(url, {
    method: "POST",
    headers: { ...mcpHeaders(null), ...session },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await initialized.arrayBuffer();
  if (initialized.status !== 202) throw new Error(`notifications/initialized: HTTP ${initialized.status}`);
  return session;
}

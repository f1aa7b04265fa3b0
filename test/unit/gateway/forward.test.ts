import { describe, expect, it } from "vitest";
import { upstreamHeaders } from "../../../src/gateway/forward";
import type { McpHeaders } from "../../../src/gateway/read";
import { clientResponseHeaders } from "../../../src/gateway/respond";
import { classifyMessage, type JsonRpcMessage } from "../../../src/mcp/jsonrpc";

const upstream = { serverId: "s", serverName: "s", url: "http://u", headers: { "X-Api-Key": "k" }, version: 1 };
const mcp = (overrides: Partial<McpHeaders> = {}): McpHeaders => ({
  accept: "application/json, text/event-stream",
  sessionId: null,
  protocolVersion: null,
  lastEventId: null,
  method: null,
  name: null,
  ...overrides,
});
function message(value: unknown): JsonRpcMessage {
  const m = classifyMessage(value);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

describe("the upstream's headers are a set the gateway builds", () => {
  it("is exactly the content type, the MCP allow-list and the server's credentials", () => {
    const out = upstreamHeaders(mcp({ sessionId: "s1", protocolVersion: "2025-06-18" }), upstream, "POST", null);
    expect([...out.keys()].sort()).toEqual(["accept", "content-type", "mcp-protocol-version", "mcp-session-id", "x-api-key"]);
    expect(out.get("content-type")).toBe("application/json");
    expect(out.get("x-api-key")).toBe("k");
  });

  it("sends Last-Event-ID only to resume a GET stream, and no content type without a body", () => {
    expect(upstreamHeaders(mcp({ lastEventId: "7" }), upstream, "GET", null).get("last-event-id")).toBe("7");
    expect(upstreamHeaders(mcp({ lastEventId: "7" }), upstream, "GET", null).get("content-type")).toBeNull();
    expect(upstreamHeaders(mcp({ lastEventId: "7" }), upstream, "POST", null).get("last-event-id")).toBeNull();
  });

  it("rebuilds the routing headers from the message actually forwarded, only when the agent sent them", () => {
    const call = message({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "rm-stand-in", arguments: {} } });
    const routed = upstreamHeaders(mcp({ method: "tools/call", name: "rm" }), upstream, "POST", call);
    expect(routed.get("mcp-method")).toBe("tools/call");
    expect(routed.get("mcp-name")).toBe("rm-stand-in");
    const plain = upstreamHeaders(mcp(), upstream, "POST", call);
    expect(plain.get("mcp-method")).toBeNull();
    expect(plain.get("mcp-name")).toBeNull();
  });

  it("encodes a non-ASCII target as =?base64?…?=", () => {
    const call = message({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "éch", arguments: {} } });
    const routed = upstreamHeaders(mcp({ method: "tools/call", name: "x" }), upstream, "POST", call);
    expect(routed.get("mcp-name")).toBe(`=?base64?${Buffer.from("éch", "utf8").toString("base64")}?=`);
  });

  it("returns only MCP headers to the agent, never an upstream challenge or cookie", () => {
    const out = clientResponseHeaders(
      new Headers({ "content-type": "application/json", "www-authenticate": "Bearer x", "set-cookie": "a=b", "mcp-session-id": "s" }),
    );
    expect([...out.keys()].sort()).toEqual(["content-type", "mcp-session-id"]);
  });
});

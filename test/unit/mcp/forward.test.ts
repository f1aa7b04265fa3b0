import { describe, expect, it } from "vitest";
import { clientResponseHeaders, shapeUpstreamText, upstreamRequestHeaders, type ResponseShaping } from "../../../src/mcp/forward";

const shaping = (toolsListIds: (string | number)[] = []): ResponseShaping => ({
  toolsListIds: new Set(toolsListIds),
  isToolVisible: (name) => name !== "rm",
  requestIds: new Set(toolsListIds),
  onComplete: () => {},
});
const upstream = { serverId: "s", serverName: "s", url: "http://u", headers: { "X-Api-Key": "k" }, version: 1 };

describe("upstreamRequestHeaders", () => {
  it("passes the MCP allow-list, drops the agent's credentials, adds the server's", () => {
    const incoming = new Headers({
      authorization: "Bearer agent-token",
      cookie: "a=b",
      "mcp-session-id": "s1",
      "mcp-protocol-version": "2025-06-18",
      accept: "application/json, text/event-stream",
      "x-forwarded-for": "1.2.3.4",
      "x-api-key": "agent-supplied",
    });
    const out = upstreamRequestHeaders(incoming, upstream);
    expect(out.get("authorization")).toBeNull();
    expect(out.get("cookie")).toBeNull();
    expect(out.get("x-forwarded-for")).toBeNull();
    expect(out.get("mcp-session-id")).toBe("s1");
    expect(out.get("mcp-protocol-version")).toBe("2025-06-18");
    expect(out.get("x-api-key")).toBe("k");
  });

  it("returns only MCP headers to the agent, never an upstream challenge or cookie", () => {
    const out = clientResponseHeaders(new Headers({ "content-type": "application/json", "www-authenticate": "Bearer x", "set-cookie": "a=b", "mcp-session-id": "s" }));
    expect([...out.keys()].sort()).toEqual(["content-type", "mcp-session-id"]);
  });
});

describe("shapeUpstreamText", () => {
  it("filters a tools/list result the gateway asked for and re-serializes it", () => {
    const text = '{ "jsonrpc":"2.0", "id":1, "result":{"tools":[{"name":"echo"},{"name":"rm"}],"nextCursor":"c"} }';
    const shaped = shapeUpstreamText(text, shaping([1]));
    expect(shaped).toEqual({ text: '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"nextCursor":"c"}}', answered: [1] });
  });

  it("leaves results of other forwarded requests alone", () => {
    const text = '{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"rm"}]}}';
    const other: ResponseShaping = { ...shaping([1]), requestIds: new Set([1, 2]) };
    expect(shapeUpstreamText(text, other)?.text).toBe(text);
  });

  it.each(['"1"', '"1.0"', "2"])("drops a response with id %s, which the gateway never sent", (id) => {
    const text = `{"jsonrpc":"2.0","id":${id},"result":{"tools":[{"name":"echo"},{"name":"rm"}]}}`;
    expect(shapeUpstreamText(text, shaping([1]))).toBeNull();
  });

  it("on a GET stream (replayed answers) filters any result that carries a tool list", () => {
    const text = '{"jsonrpc":"2.0","id":"7","result":{"tools":[{"name":"echo"},{"name":"rm"}]}}';
    const get: ResponseShaping = { ...shaping(), requestIds: null };
    expect(shapeUpstreamText(text, get)?.text).toBe('{"jsonrpc":"2.0","id":"7","result":{"tools":[{"name":"echo"}]}}');
  });

  it("passes an id-null error (the upstream could not read a request)", () => {
    const text = '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}';
    expect(shapeUpstreamText(text, shaping())).toEqual({ text, answered: [] });
  });

  it.each([
    ["not JSON", "<html>oops</html>"],
    ["truncated", '{"jsonrpc":"2.0","id":1,"result":{'],
    ["two JSON texts", '{"jsonrpc":"2.0","method":"notifications/message","params":{}}\n{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"}]}}'],
    ["duplicate keys", '{"jsonrpc":"2.0","id":1,"id":2,"result":{}}'],
    ["not JSON-RPC", '{"error":"nope"}'],
    ["empty array", "[]"],
    ["array with a bad member", '[{"jsonrpc":"2.0","id":1,"result":{}}, 5]'],
  ])("refuses %s", (_, text) => {
    expect(shapeUpstreamText(text, shaping([1]))).toBeNull();
  });
});

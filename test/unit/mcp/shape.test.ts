import { describe, expect, it } from "vitest";
import { serializeShaped, shapeUpstreamText, type ResponseShaping } from "../../../src/mcp/shape";

const shaping = (toolsListIds: (string | number)[] = [], standIns: [string, string][] = []): ResponseShaping => ({
  toolsListIds: new Set(toolsListIds),
  isToolVisible: (name) => name !== "rm",
  requestIds: new Set(toolsListIds),
  standIns: new Map(standIns),
});
const text_ = (shaped: ReturnType<typeof shapeUpstreamText>) => (shaped === null ? null : serializeShaped(shaped));

describe("shapeUpstreamText", () => {
  it("filters a tools/list result the gateway asked for and re-serializes it", () => {
    const text = '{ "jsonrpc":"2.0", "id":1, "result":{"tools":[{"name":"echo"},{"name":"rm"}],"nextCursor":"c"} }';
    const shaped = shapeUpstreamText(text, shaping([1]));
    expect(shaped?.answered).toEqual([1]);
    expect(serializeShaped(shaped!)).toBe('{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"nextCursor":"c"}}');
  });

  it("leaves results of other forwarded requests alone", () => {
    const text = '{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"rm"}]}}';
    const other: ResponseShaping = { ...shaping([1]), requestIds: new Set([1, 2]) };
    expect(text_(shapeUpstreamText(text, other))).toBe(text);
  });

  it.each(['"1"', '"1.0"', "2"])("drops a response with id %s, which the gateway never sent", (id) => {
    const text = `{"jsonrpc":"2.0","id":${id},"result":{"tools":[{"name":"echo"},{"name":"rm"}]}}`;
    expect(shapeUpstreamText(text, shaping([1]))).toBeNull();
  });

  it("on a GET stream (replayed answers) filters any result that carries a tool list", () => {
    const text = '{"jsonrpc":"2.0","id":"7","result":{"tools":[{"name":"echo"},{"name":"rm"}]}}';
    const get: ResponseShaping = { ...shaping(), requestIds: null };
    expect(text_(shapeUpstreamText(text, get))).toBe('{"jsonrpc":"2.0","id":"7","result":{"tools":[{"name":"echo"}]}}');
  });

  it("passes an id-null error (the upstream could not read a request)", () => {
    const text = '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}';
    const shaped = shapeUpstreamText(text, shaping());
    expect(shaped?.answered).toEqual([]);
    expect(text_(shaped)).toBe(text);
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

  it("turns a stand-in back into the name the agent used, wherever the upstream repeats it", () => {
    const upstream = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"MCP error -32602: Tool rm-00aa not found"}],"isError":true}}';
    const shaped = shapeUpstreamText(upstream, { ...shaping([], [["rm-00aa", "rm"]]), requestIds: new Set([1]) });
    expect(text_(shaped)).toBe('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"MCP error -32602: Tool rm not found"}],"isError":true}}');
  });
});

import { describe, expect, it } from "vitest";
import { classifyMessage, type JsonRpcMessage } from "../../../src/mcp/jsonrpc";
import { checkRoutingHeaders, decodeHeaderValue } from "../../../src/mcp/routing-headers";

function message(value: unknown): JsonRpcMessage {
  const m = classifyMessage(value);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}
const call = (name: string) => message({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });
const b64 = (s: string) => `=?base64?${Buffer.from(s, "utf8").toString("base64")}?=`;

describe("decodeHeaderValue", () => {
  it.each([
    ["echo", "echo"],
    [b64("échо"), "échо"],
    [b64("rm"), "rm"],
    ["=?base64?!!?=", "=?base64?!!?="], // not the encoded form: taken literally
  ])("%s → %s", (raw, decoded) => expect(decodeHeaderValue(raw)).toBe(decoded));

  it("refuses an encoded value that is not UTF-8", () => {
    expect(decodeHeaderValue(`=?base64?${Buffer.from([0xff, 0xfe]).toString("base64")}?=`)).toBeNull();
  });
});

describe("checkRoutingHeaders", () => {
  it.each([
    ["no headers", { method: null, name: null }, call("echo"), true],
    ["matching method and name", { method: "tools/call", name: "echo" }, call("echo"), true],
    ["matching encoded name", { method: "tools/call", name: b64("echo") }, call("echo"), true],
    ["method differs", { method: "tools/list", name: null }, call("echo"), false],
    ["name differs", { method: "tools/call", name: "echo" }, call("rm"), false],
    ["encoded name differs", { method: "tools/call", name: b64("echo") }, call("rm"), false],
    ["name differs only by case", { method: "tools/call", name: "Echo" }, call("echo"), false],
    ["name on a method without a target", { method: "tools/list", name: "echo" }, message({ jsonrpc: "2.0", id: 2, method: "tools/list" }), false],
    [
      "resources/read by uri",
      { method: "resources/read", name: "file:///a" },
      message({ jsonrpc: "2.0", id: 3, method: "resources/read", params: { uri: "file:///a" } }),
      true,
    ],
    [
      "resources/read other uri",
      { method: "resources/read", name: "file:///b" },
      message({ jsonrpc: "2.0", id: 3, method: "resources/read", params: { uri: "file:///a" } }),
      false,
    ],
    [
      "prompts/get by name",
      { method: "prompts/get", name: "greet" },
      message({ jsonrpc: "2.0", id: 4, method: "prompts/get", params: { name: "greet" } }),
      true,
    ],
    ["headers on a response", { method: "tools/call", name: null }, message({ jsonrpc: "2.0", id: 5, result: {} }), false],
  ])("%s", (_, headers, m, accepted) => {
    expect(checkRoutingHeaders(headers, m).ok).toBe(accepted);
  });
});

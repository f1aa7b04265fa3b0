import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../../src/mcp/json";
import { filterToolsListResult } from "../../../src/mcp/tools-list";

const visible = (name: string) => name !== "delete_account" && name !== "rm";

describe("filterToolsListResult", () => {
  const response = {
    jsonrpc: "2.0",
    id: 3,
    result: {
      tools: [
        { name: "list_customers", inputSchema: { type: "object" } },
        { name: "delete_account", description: "dangerous" },
        { name: "create_refund", annotations: { destructiveHint: true } },
        { description: "no name" },
        { name: 7 },
        "not an object",
        null,
        { name: "rm" },
      ],
      nextCursor: "page-2",
      _meta: { note: "kept" },
    },
  };

  it("removes invisible and nameless tools and keeps everything else", () => {
    expect(filterToolsListResult(response, visible)).toEqual({
      jsonrpc: "2.0",
      id: 3,
      result: {
        tools: [
          { name: "list_customers", inputSchema: { type: "object" } },
          { name: "create_refund", annotations: { destructiveHint: true } },
        ],
        nextCursor: "page-2",
        _meta: { note: "kept" },
      },
    });
  });

  it("does not mutate its input", () => {
    const before = structuredClone(response);
    filterToolsListResult(response, visible);
    expect(response).toEqual(before);
  });

  it("asks about each named tool by its parsed name", () => {
    const parsed = parseStrictJson(String.raw`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"},{"name":"\u0072m"},{"name":"echo"}]}}`);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const asked: string[] = [];
    const filtered = filterToolsListResult(parsed.value, (name) => {
      asked.push(name);
      return visible(name);
    });
    expect(asked).toEqual(["rm", "rm", "echo"]);
    expect(filtered).toEqual({ jsonrpc: "2.0", id: 1, result: { tools: [{ name: "echo" }] } });
  });

  it("hides everything when nothing is visible", () => {
    expect(filterToolsListResult(response, () => false)).toMatchObject({ result: { tools: [], nextCursor: "page-2" } });
  });

  it("keeps a __proto__ key of the result as data", () => {
    const parsed = parseStrictJson('{"jsonrpc":"2.0","id":1,"result":{"__proto__":{"tools":[{"name":"rm"}]},"tools":[{"name":"rm"}]}}');
    if (!parsed.ok) throw new Error(parsed.error.message);
    const filtered = filterToolsListResult(parsed.value, visible) as { result: Record<string, unknown> };
    expect(Object.hasOwn(filtered.result, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(filtered.result)).toBe(Object.prototype);
    expect(filtered.result.tools).toEqual([]);
  });

  const unchanged: [string, unknown][] = [
    ["an error response", { jsonrpc: "2.0", id: 1, error: { code: -32601, message: "Method not found" } }],
    ["a result without tools", { jsonrpc: "2.0", id: 1, result: {} }],
    ["tools that are not an array", { jsonrpc: "2.0", id: 1, result: { tools: { name: "rm" } } }],
    ["a null result", { jsonrpc: "2.0", id: 1, result: null }],
    ["not an object", "text"],
    ["null", null],
  ];
  it.each(unchanged)("returns %s unchanged", (_name, message) => {
    expect(filterToolsListResult(message, visible)).toBe(message);
  });
});

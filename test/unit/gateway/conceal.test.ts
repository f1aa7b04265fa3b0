import { describe, expect, it } from "vitest";
import { concealTarget, type StandIns } from "../../../src/gateway/conceal";
import { classifyMessage } from "../../../src/mcp/jsonrpc";
import { replaceInStrings } from "../../../src/mcp/shape";

function request(value: unknown) {
  const m = classifyMessage(value);
  if (!m.ok || m.value.kind !== "request") throw new Error("not a request");
  return m.value;
}

describe("stand-ins for what must look missing", () => {
  it("a hidden tool's call names a tool that cannot exist, carries no arguments, keeps everything else", () => {
    const standIns: StandIns = new Map();
    const original = request({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "rm", arguments: { path: "/etc" }, _meta: { progressToken: 1 } } });
    const forwarded = concealTarget(original, "tool", standIns);
    const [standIn] = [...standIns.keys()];
    expect(standIn).toMatch(/^rm-[0-9a-f]{16}$/);
    expect(forwarded.raw).toEqual({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: standIn, arguments: {}, _meta: { progressToken: 1 } } });
    expect(original.raw).toEqual({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "rm", arguments: { path: "/etc" }, _meta: { progressToken: 1 } },
    });
    expect(JSON.stringify(forwarded.raw)).not.toContain("/etc");
  });

  it("stays within the MCP name charset and 128 characters, and differs every time", () => {
    const long = "a".repeat(128);
    const standIns: StandIns = new Map();
    for (let i = 0; i < 50; i++) concealTarget(request({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: long } }), "tool", standIns);
    expect(standIns.size).toBe(50);
    for (const name of standIns.keys()) expect(name).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
  });

  it("a foreign task id becomes a fresh random one", () => {
    const standIns: StandIns = new Map();
    const forwarded = concealTarget(request({ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { taskId: "t-of-another-grant" } }), "task", standIns);
    expect((forwarded.raw.params as any).taskId).not.toBe("t-of-another-grant");
    expect(standIns.get((forwarded.raw.params as any).taskId)).toBe("t-of-another-grant");
  });

  it("the answer's strings are turned back, keys and other values are left alone", () => {
    const answer = { result: { content: [{ type: "text", text: "Tool rm-00ff not found (rm-00ff)" }], __proto__x: "rm-00ff" } };
    expect(replaceInStrings(answer, new Map([["rm-00ff", "rm"]]))).toEqual({
      result: { content: [{ type: "text", text: "Tool rm not found (rm)" }], __proto__x: "rm" },
    });
  });
});

import { describe, expect, it } from "vitest";
import { DECISION_META_KEY, deniedAnswers, denialAnswer, toolCallDenial, unknownToolAnswer } from "../../../src/gateway/answer";
import type { MessageDecision } from "../../../src/grant/protocol";
import { classifyMessage, type JsonRpcMessage } from "../../../src/mcp/jsonrpc";

function message(value: unknown): JsonRpcMessage {
  const m = classifyMessage(value);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}
const call = (id: number, name: string) => message({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });
const FORWARD: MessageDecision = { outcome: "forward", monitored: null };
const deny = (code: "deny_if" | "hidden" | "rate_limited", extra: object = {}): Extract<MessageDecision, { outcome: "deny" }> => ({
  outcome: "deny",
  code,
  rule: code === "hidden" ? "/hide/0" : "/tools/x/deny_if/0",
  message: code === "hidden" ? "Tool rm not found" : "No.",
  ...extra,
});

describe("denials are readable results, valid in the request's revision", () => {
  it("[POLICY DENIED] with the decision in _meta; resultType only from 2026-07-28", () => {
    const legacy = denialAnswer(3, { code: "rate_limited", rule: "/all_tools/limits/0", message: "Slow down", retryAfter: 12 }, false);
    expect(legacy).toEqual({
      jsonrpc: "2.0",
      id: 3,
      result: {
        content: [{ type: "text", text: "[POLICY DENIED] Slow down" }],
        isError: true,
        _meta: { [DECISION_META_KEY]: { code: "rate_limited", rule: "/all_tools/limits/0", retryAfter: 12 } },
      },
    });
    expect(denialAnswer(3, { code: "deny_if", rule: "/r", message: "No." }, true).result).toMatchObject({ resultType: "complete", isError: true });
    expect(unknownToolAnswer(4, "rm", true).result).toEqual({
      content: [{ type: "text", text: "MCP error -32602: Tool rm not found" }],
      isError: true,
      resultType: "complete",
    });
  });

  it("a call waiting for approval names the request, its expiry and a retry hint in _meta", () => {
    const approval = { id: "apr_x", expiresAt: "2026-08-01T12:10:00.000Z", replaced: "apr_w" };
    const answer = denialAnswer(
      5,
      { code: "approval_pending", rule: "/tools/x/approve", message: "Waiting for approval (apr_x).", retryAfter: 30, approval },
      true,
    );
    expect(answer.result).toEqual({
      content: [{ type: "text", text: "[POLICY DENIED] Waiting for approval (apr_x)." }],
      isError: true,
      _meta: {
        [DECISION_META_KEY]: {
          code: "approval_pending",
          rule: "/tools/x/approve",
          retryAfter: 30,
          approvalId: "apr_x",
          expiresAt: approval.expiresAt,
          replaced: "apr_w",
        },
      },
      resultType: "complete",
    });
  });

  it("a hidden tool is answered as an unknown one: not permitted under default deny, not found otherwise", () => {
    expect(toolCallDenial(1, "rm", deny("hidden"), "deny", false)).toEqual(
      toolCallDenial(1, "rm", { outcome: "deny", code: "not_permitted", rule: "/default", message: 'Tool "rm" is not permitted by policy' }, "deny", false),
    );
    expect(toolCallDenial(1, "rm", deny("hidden"), "allow", false)).toEqual(unknownToolAnswer(1, "rm", false));
    expect(toolCallDenial(1, "rm", deny("hidden"), null, true)).toEqual(unknownToolAnswer(1, "rm", true));
  });
});

describe("the batch rule: one denial keeps the whole batch from the upstream", () => {
  const legacy = () => false;

  it("the denied request gets its denial, every other request is told why, notifications get nothing", () => {
    const messages = [
      call(1, "echo"),
      call(2, "pay"),
      message({ jsonrpc: "2.0", method: "notifications/progress", params: {} }),
      message({ jsonrpc: "2.0", id: 4, method: "tools/list" }),
    ];
    const answers = deniedAnswers(messages, [FORWARD, deny("deny_if"), FORWARD, FORWARD], "deny", legacy) as any[];
    expect(answers.map((a) => a.id)).toEqual([1, 2, 4]);
    expect(answers[0].error).toEqual({ code: -32600, message: "Not forwarded: another message in this batch was denied" });
    expect(answers[1].result.content[0].text).toBe("[POLICY DENIED] No.");
    expect(answers[2].error.code).toBe(-32600);
  });

  it("a denied notification or response gets no answer", () => {
    const note = message({ jsonrpc: "2.0", method: "notifications/x" });
    expect(deniedAnswers([note], [deny("deny_if")], "deny", legacy)).toEqual([]);
  });

  it("each answer follows its own message's revision", () => {
    const modern = message({
      jsonrpc: "2.0",
      id: 9,
      method: "tools/call",
      params: { name: "pay", arguments: {}, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
    });
    const [answer] = deniedAnswers([modern], [deny("deny_if")], "deny", (m) => m === modern) as any[];
    expect(answer.result.resultType).toBe("complete");
  });
});

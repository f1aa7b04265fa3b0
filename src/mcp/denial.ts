/**
 * The one place that turns a policy decision into what the agent sees.
 *
 * A denial is a normal JSON-RPC result, not a transport error (MCP-NOTES "Denials"): clients such as
 * Claude Code only show the model an error's `message`, and a readable `isError` result lets the
 * model recover. The decision also rides in `_meta` for programs. Hidden tools, and names outside
 * the spec's charset, are answered exactly as the MCP SDK answers a tool that does not exist, so a
 * hidden tool cannot be probed; only the audit record keeps the real reason.
 */
import type { DenyCode, MessageDecision } from "../grant/protocol";
import { notPermittedMessage } from "../policy/evaluate";
import type { JsonRpcId } from "./jsonrpc";

/** The `_meta` key under which the gateway's decision travels. */
export const DECISION_META_KEY = "io.mcp-policy-gateway/decision";

export interface DecisionMeta {
  code: DenyCode;
  rule: string | null;
  retryAfter?: number;
}

type Denial = Extract<MessageDecision, { outcome: "deny" }>;

/** Codes answered as "no such tool" so the answer reveals nothing about the policy. */
const ANSWERED_AS_UNKNOWN_TOOL: ReadonlySet<DenyCode> = new Set(["hidden", "invalid_name"]);

/** The result the MCP SDK's McpServer returns for a tool it does not have. */
export function unknownToolResult(id: JsonRpcId, tool: string) {
  return {
    jsonrpc: "2.0" as const,
    id,
    result: { content: [{ type: "text", text: `MCP error -32602: Tool ${tool} not found` }], isError: true },
  };
}

/**
 * The JSON-RPC response the gateway sends instead of forwarding a denied tools/call.
 * `policyDefault` decides what "a tool that does not exist" looks like: under `default: "deny"` an
 * unknown name is refused by POLICY.md step 3, so a hidden tool is refused with the very same
 * words and `_meta`; under `default: "allow"` an unknown name reaches the upstream, so a hidden
 * tool gets the upstream's "not found" answer.
 */
export function denialResponse(id: JsonRpcId, tool: string, denial: Denial, policyDefault: "allow" | "deny" | null) {
  if (ANSWERED_AS_UNKNOWN_TOOL.has(denial.code)) {
    if (policyDefault !== "deny") return unknownToolResult(id, tool);
    return denialResponse(id, tool, { outcome: "deny", code: "not_permitted", rule: "/default", message: notPermittedMessage(tool) }, policyDefault);
  }
  const meta: DecisionMeta = { code: denial.code, rule: denial.rule };
  if (denial.retryAfter !== undefined) meta.retryAfter = denial.retryAfter;
  return {
    jsonrpc: "2.0" as const,
    id,
    result: {
      content: [{ type: "text", text: `[POLICY DENIED] ${denial.message}` }],
      isError: true,
      _meta: { [DECISION_META_KEY]: meta },
    },
  };
}

/**
 * What the gateway answers itself, for the messages it does not forward: the one place that turns
 * a decision into what the agent sees.
 *
 * A denial is a normal JSON-RPC result, not a transport error (docs/mcp.md, "Denials"): clients
 * such as Claude Code only show the model an error's `message`, and a readable `isError` result
 * lets the model recover. The decision also rides in `_meta` for programs. Every answer is valid in
 * the revision the request speaks: from 2026-07-28 on, a result carries `resultType`.
 */
import type { MessageDecision } from "../grant/protocol";
import type { JsonRpcId, JsonRpcMessage } from "../mcp/jsonrpc";
import { jsonRpcError, RpcErrorCode } from "../mcp/jsonrpc";
import type { Denial } from "../policy/decision";
import { isStateless, revisionOf } from "../mcp/revision";
import { notPermittedMessage } from "../policy/evaluate";
import type { McpRequest } from "./read";

/** The `_meta` key under which the gateway's decision travels. */
export const DECISION_META_KEY = "io.mcp-policy-gateway/decision";

type Denied = Extract<MessageDecision, { outcome: "deny" }>;

/** Codes answered as "no such tool" so the answer reveals nothing about the policy. */
const ANSWERED_AS_UNKNOWN_TOOL: ReadonlySet<string> = new Set(["hidden", "invalid_name"]);

/** A tool result as the revision wants it: `resultType: "complete"` from 2026-07-28 on. */
function toolResult(id: JsonRpcId, text: string, stateless: boolean, meta?: Record<string, unknown>) {
  const result: Record<string, unknown> = { content: [{ type: "text", text }], isError: true };
  if (meta !== undefined) result._meta = meta;
  if (stateless) result.resultType = "complete";
  return { jsonrpc: "2.0" as const, id, result };
}

/** The result the MCP SDK's McpServer returns for a tool it does not have. */
export function unknownToolAnswer(id: JsonRpcId, tool: string, stateless: boolean) {
  return toolResult(id, `MCP error -32602: Tool ${tool} not found`, stateless);
}

/** `[POLICY DENIED] …` with the decision in `_meta`. */
export function denialAnswer(id: JsonRpcId, denial: Denial, stateless: boolean) {
  const meta: Record<string, unknown> = { code: denial.code, rule: denial.rule };
  if (denial.retryAfter !== undefined) meta.retryAfter = denial.retryAfter;
  if (denial.approval !== undefined) {
    // docs/approvals.md: the request to wait for, and when it stops waiting.
    meta.approvalId = denial.approval.id;
    meta.expiresAt = denial.approval.expiresAt;
    if (denial.approval.replaced !== undefined) meta.replaced = denial.approval.replaced;
  }
  return toolResult(id, `[POLICY DENIED] ${denial.message}`, stateless, { [DECISION_META_KEY]: meta });
}

/**
 * The answer to a denied tools/call. `policyDefault` decides what "a tool that does not exist"
 * looks like: under `default: "deny"` an unknown name is refused by step 3 of docs/policy.md, so a
 * hidden tool is refused with the very same words and `_meta`; otherwise (a name outside the
 * charset, or no policy) the SDK's "not found" answer.
 */
export function toolCallDenial(id: JsonRpcId, tool: string, denial: Denied, policyDefault: "allow" | "deny" | null, stateless: boolean) {
  if (!ANSWERED_AS_UNKNOWN_TOOL.has(denial.code)) return denialAnswer(id, denial, stateless);
  if (policyDefault !== "deny") return unknownToolAnswer(id, tool, stateless);
  return denialAnswer(id, { code: "not_permitted", rule: "/default", message: notPermittedMessage(tool) }, stateless);
}

/** What the agent is told about one message the gateway does not forward; null for notifications and responses. */
export function localAnswer(message: JsonRpcMessage, denial: Denied, policyDefault: "allow" | "deny" | null, stateless: boolean): unknown {
  if (message.kind !== "request") return null;
  if (message.call !== undefined) return toolCallDenial(message.id, message.call.tool, denial, policyDefault, stateless);
  return jsonRpcError(message.id, RpcErrorCode.InvalidRequest, denial.message);
}

/**
 * The answers to a request in which some message was denied. The gateway never splits a batch:
 * one denial keeps the whole batch from the upstream, and its other requests are told why.
 */
export function deniedAnswers(
  messages: readonly JsonRpcMessage[],
  decisions: readonly MessageDecision[],
  policyDefault: "allow" | "deny" | null,
  statelessOf: (message: JsonRpcMessage) => boolean,
): unknown[] {
  return messages.flatMap((message, i) => {
    const decision = decisions[i];
    if (decision?.outcome === "deny") {
      const answer = localAnswer(message, decision, policyDefault, statelessOf(message));
      return answer === null ? [] : [answer];
    }
    if (message.kind !== "request") return [];
    return [jsonRpcError(message.id, RpcErrorCode.InvalidRequest, "Not forwarded: another message in this batch was denied")];
  });
}

/**
 * The local answer to a request some of whose messages were denied: the batch of answers, the
 * one answer, or 202 when nothing needs one (notifications only).
 */
export function deniedResponse(
  request: McpRequest,
  messages: readonly JsonRpcMessage[],
  decisions: readonly MessageDecision[],
  policyDefault: "allow" | "deny" | null,
): Response {
  const header = request.headers.protocolVersion;
  const answers = deniedAnswers(messages, decisions, policyDefault, (m) => isStateless(revisionOf(m, header)));
  if (request.body?.kind === "batch") return Response.json(answers);
  const only = answers[0];
  return only === undefined ? new Response(null, { status: 202 }) : Response.json(only);
}

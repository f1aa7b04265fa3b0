/**
 * Answering "as if it did not exist" by asking the upstream (docs/policy.md, "Hidden tools").
 *
 * Under `default: "allow"` a tool the upstream does not have reaches the upstream, which answers in
 * its own words, content type and framing, and the call counts against `all_tools` limits. A hidden
 * tool must be indistinguishable from that by every observable, so the gateway sends the upstream a
 * stand-in: the same request, naming a tool that cannot exist (the name plus a random suffix) and
 * carrying no arguments, and relays the answer with the stand-in name turned back into the real
 * one (src/mcp/shape.ts). The hidden tool itself never runs. A task of another grant is answered
 * the same way, with a stand-in task id. Pure, apart from the random suffix.
 */
import { isJsonObject } from "../mcp/json";
import type { JsonRpcMessage } from "../mcp/jsonrpc";

/** Stand-in text → the original it replaced, for turning the upstream's answer back. */
export type StandIns = Map<string, string>;

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The request to forward in place of `message`, recording the stand-in it uses. */
export function concealTarget(message: Extract<JsonRpcMessage, { kind: "request" }>, kind: "tool" | "task", standIns: StandIns): JsonRpcMessage {
  const params = isJsonObject(message.params) ? message.params : {};
  if (kind === "tool") {
    const original = message.call?.tool ?? "";
    // Within the MCP name charset and 128 characters, so the upstream treats it as an ordinary unknown name.
    const standIn = `${original.slice(0, 100)}-${randomSuffix()}`;
    standIns.set(standIn, original);
    const { arguments: _withheld, ...rest } = params;
    const raw = { ...message.raw, params: { ...rest, name: standIn, arguments: {} } };
    return { ...message, raw, params: raw.params, call: { tool: standIn, args: {} } };
  }
  const original = typeof params.taskId === "string" ? params.taskId : "";
  const standIn = `${crypto.randomUUID()}`;
  standIns.set(standIn, original);
  const raw = { ...message.raw, params: { ...params, taskId: standIn } };
  return { ...message, raw, params: raw.params };
}

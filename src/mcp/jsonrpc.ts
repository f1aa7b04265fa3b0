/**
 * JSON-RPC 2.0 messages as MCP uses them: classification, the checks proxies have been bypassed
 * through, and the gateway's one JSON-RPC error builder.
 *
 * Everything here decides on the parsed value (see json.ts), so escapes cannot hide a method or a
 * tool name: `"tools\u002fcall"` is `tools/call` by the time it is classified.
 *
 * Choices, each stricter than JSON-RPC 2.0 and each matching what the MCP SDK servers accept:
 * - Unknown top-level keys are refused on every kind of message (the SDK's schemas are `.strict()`),
 *   so no key can carry meaning the gateway did not look at.
 * - `id` is a string or a safe integer. `null`, fractions, booleans and objects are refused, and so
 *   are integers past 2^53 − 1, which some peers round and others keep.
 * - A message with a method and no id is a notification only if the method is `notifications/…`;
 *   any other method needs an id, so a `tools/call` can never pass as a notification.
 * - A response carries an id, and exactly one of `result` (an object, as every MCP result is) or
 *   `error` (integer `code`, string `message`). The SDK also accepts an error without an id; a
 *   client has no reason to send one, so it is refused.
 * - `params` is an object or an array; for `tools/call` it is an object with a string `name` and,
 *   if present, an object `arguments` (else InvalidParams, answered with the request's id). The
 *   parsed target travels with the message (`call`), so nothing downstream reads params again.
 */
import { isJsonObject, parseStrictJson, type JsonLimits } from "./json";
import { err, ok, type Result } from "../result";

export type JsonRpcId = string | number;
export type JsonRpcParams = Record<string, unknown> | unknown[];

/** The target of a `tools/call`, read once when the message is classified. */
export interface ToolCall {
  tool: string;
  /** `params.arguments`; `{}` when absent. */
  args: Record<string, unknown>;
}

export type JsonRpcMessage =
  /** `call` is present exactly when `method` is "tools/call". */
  | { kind: "request"; id: JsonRpcId; method: string; params?: JsonRpcParams; raw: Record<string, unknown>; call?: ToolCall }
  | { kind: "notification"; method: string; params?: JsonRpcParams; raw: Record<string, unknown> }
  /** Has exactly one of `result` or `error`, both in `raw`. */
  | { kind: "response"; id: JsonRpcId; raw: Record<string, unknown> };

/** A JSON-RPC error to answer with. */
export type RpcProblem = { code: number; message: string; id: JsonRpcId | null };

export type ParsedBody = { kind: "single"; message: JsonRpcMessage } | { kind: "batch"; messages: JsonRpcMessage[] };

export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  // The gateway's own codes: each means one thing, in -32000..-32019 (docs/mcp.md, "Error codes").
  Unauthorized: -32000,
  /** The MCP SDK servers' code for an unknown or ended Mcp-Session-Id; the gateway answers alike. */
  SessionNotFound: -32001,
  UpstreamTimeout: -32002,
  UpstreamAuth: -32003,
  /** The upstream answered, but not with something the gateway can pass on (5xx, redirect, not JSON-RPC, cut short). */
  UpstreamInvalid: -32004,
  PolicyUnavailable: -32005,
  BodyTooLarge: -32006,
  UpstreamUnreachable: -32007,
  OriginForbidden: -32008,
  UnsupportedMediaType: -32009,
  ResponseTooLarge: -32010,
  // Defined by MCP 2026-07-28: a Mcp-Method / Mcp-Name / MCP-Protocol-Version header disagrees with the body.
  HeaderMismatch: -32020,
} as const;

const REQUEST_KEYS: ReadonlySet<string> = new Set(["jsonrpc", "id", "method", "params"]);
const NOTIFICATION_KEYS: ReadonlySet<string> = new Set(["jsonrpc", "method", "params"]);
const RESPONSE_KEYS: ReadonlySet<string> = new Set(["jsonrpc", "id", "result", "error"]);

export function classifyMessage(value: unknown): Result<JsonRpcMessage, RpcProblem> {
  if (!isJsonObject(value)) return invalidRequest(null, "a JSON-RPC message must be an object");
  const raw = value;

  const hasId = Object.hasOwn(raw, "id");
  const id = hasId && isJsonRpcId(raw.id) ? raw.id : null;
  // Answer with the id when it is a valid one, null otherwise (JSON-RPC 2.0 §5).
  if (raw.jsonrpc !== "2.0") return invalidRequest(id, 'jsonrpc must be "2.0"');
  if (hasId && id === null) return invalidRequest(null, "id must be a string or a safe integer");

  if (Object.hasOwn(raw, "method")) {
    const method = raw.method;
    if (typeof method !== "string") return invalidRequest(id, "method must be a string");
    if (!hasOnlyKeys(raw, id === null ? NOTIFICATION_KEYS : REQUEST_KEYS)) {
      return invalidRequest(id, "unexpected member in a request or notification");
    }
    const hasParams = Object.hasOwn(raw, "params");
    const params = raw.params;
    if (hasParams && !isJsonObject(params) && !Array.isArray(params)) {
      return invalidRequest(id, "params must be an object or an array");
    }
    if (id === null) {
      if (!method.startsWith("notifications/")) return invalidRequest(null, "requests must carry an id");
      return ok(hasParams ? { kind: "notification", method, params: params as JsonRpcParams, raw } : { kind: "notification", method, raw });
    }
    if (method === "tools/call") {
      const call = toolCallOf(params);
      if (!call.ok) return err({ code: RpcErrorCode.InvalidParams, message: call.error, id });
      return ok({ kind: "request", id, method, params: params as JsonRpcParams, raw, call: call.value });
    }
    return ok(hasParams ? { kind: "request", id, method, params: params as JsonRpcParams, raw } : { kind: "request", id, method, raw });
  }

  const hasResult = Object.hasOwn(raw, "result");
  const hasError = Object.hasOwn(raw, "error");
  if (!hasResult && !hasError) return invalidRequest(id, "a message needs a method, a result or an error");
  if (id === null) return invalidRequest(null, "a response must carry an id");
  if (hasResult && hasError) return invalidRequest(id, "a response has a result or an error, not both");
  if (!hasOnlyKeys(raw, RESPONSE_KEYS)) return invalidRequest(id, "unexpected member in a response");
  if (hasResult && !isJsonObject(raw.result)) return invalidRequest(id, "result must be an object");
  if (hasError && !isErrorObject(raw.error)) return invalidRequest(id, "error must have an integer code and a string message");
  return ok({ kind: "response", id, raw });
}

/** Parses a POST body: one message, or a batch (legal only in MCP 2025-03-26, but executed by SDK servers). */
export function parseBody(text: string, limits?: JsonLimits): Result<ParsedBody, RpcProblem> {
  const parsed = parseStrictJson(text, limits);
  // Every refusal of the strict parser is a parse error: the body is not JSON the gateway accepts.
  if (!parsed.ok) return err({ code: RpcErrorCode.ParseError, message: `Parse error: ${parsed.error.message}`, id: null });
  const value = parsed.value;
  if (!Array.isArray(value)) {
    const message = classifyMessage(value);
    return message.ok ? ok({ kind: "single", message: message.value }) : message;
  }
  if (value.length === 0) return invalidRequest(null, "an empty batch is not a request");
  const messages: JsonRpcMessage[] = [];
  for (const element of value) {
    // One bad member refuses the whole batch: nothing of a batch reaches the upstream unchecked.
    const message = classifyMessage(element);
    if (!message.ok) return message;
    messages.push(message.value);
  }
  return ok({ kind: "batch", messages });
}

/** The messages of a body, in order: one, or the batch's. */
export function messagesOf(body: ParsedBody): JsonRpcMessage[] {
  return body.kind === "single" ? [body.message] : body.messages;
}

/** The bytes the gateway forwards: the value it checked, re-serialized, never the client's bytes. */
export function serializeBody(body: ParsedBody): string {
  return JSON.stringify(body.kind === "single" ? body.message.raw : body.messages.map((m) => m.raw));
}

/** The one JSON-RPC error builder. */
export function jsonRpcError(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): { jsonrpc: "2.0"; id: JsonRpcId | null; error: { code: number; message: string; data?: unknown } } {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}

export function isJsonRpcId(value: unknown): value is JsonRpcId {
  return typeof value === "string" || Number.isSafeInteger(value);
}

/** The tool and arguments of `tools/call` params (MCP "Calling Tools"), or why they cannot be one. */
function toolCallOf(params: unknown): Result<ToolCall, string> {
  if (!isJsonObject(params)) return err("tools/call params must be an object");
  if (typeof params.name !== "string") return err("tools/call params.name must be a string");
  if (!Object.hasOwn(params, "arguments")) return ok({ tool: params.name, args: {} });
  const args = params.arguments;
  if (!isJsonObject(args)) return err("tools/call params.arguments must be an object");
  return ok({ tool: params.name, args });
}

function isErrorObject(value: unknown): boolean {
  return isJsonObject(value) && Number.isSafeInteger(value.code) && typeof value.message === "string";
}

function hasOnlyKeys(object: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key of Object.keys(object)) if (!allowed.has(key)) return false;
  return true;
}

function invalidRequest(id: JsonRpcId | null, message: string): { ok: false; error: RpcProblem } {
  return err({ code: RpcErrorCode.InvalidRequest, message: `Invalid request: ${message}`, id });
}

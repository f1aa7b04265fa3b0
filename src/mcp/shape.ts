/**
 * What the upstream sends back, checked and shaped before the agent sees it. Pure.
 *
 * Every upstream message is parsed strictly and must be a JSON-RPC message; a response must answer
 * an id the gateway forwarded, compared exactly (clients coerce: the v1 SDK matches `Number(id)`,
 * so an upstream answering tools/list `1` with id `"1"` would otherwise slip an unfiltered list
 * through). tools/list results are filtered to the grant's visible tools, and stand-ins the
 * gateway sent in place of hidden targets are turned back into the names the agent used.
 */
import { isJsonObject, parseStrictJson } from "./json";
import { classifyMessage, type JsonRpcId } from "./jsonrpc";
import { filterToolsListResult } from "./tools-list";

/** What the gateway must do to the responses of the messages it forwarded. */
export interface ResponseShaping {
  /** Ids of forwarded tools/list requests whose results must be filtered. */
  toolsListIds: ReadonlySet<JsonRpcId>;
  isToolVisible: (name: string) => boolean;
  /**
   * Ids of the forwarded requests that expect an answer on this response; a response with any
   * other id is dropped. Null for a GET stream, which may replay answers to earlier requests when
   * resumed; there every result that carries a tool list is filtered.
   */
  requestIds: ReadonlySet<JsonRpcId> | null;
  /** Stand-in text → the original it replaced (src/gateway/conceal.ts). */
  standIns: ReadonlyMap<string, string>;
}

export interface ShapedAnswer {
  /** The shaped messages, in order. */
  messages: unknown[];
  /** Whether the upstream sent an array (a batch answer). */
  batch: boolean;
  /** Request ids these messages answered. */
  answered: JsonRpcId[];
}

/**
 * An error response the upstream may send without a usable id (JSON-RPC 2.0 §5: `id: null` when
 * the request could not be read). The client's own messages may not do this; the upstream's may.
 */
export function isNullIdError(value: unknown): value is Record<string, unknown> {
  if (!isJsonObject(value) || value.jsonrpc !== "2.0" || value.id !== null || !isJsonObject(value.error)) return false;
  const keys = Object.keys(value);
  return keys.length === 3 && typeof value.error.code === "number" && typeof value.error.message === "string";
}

/** Parses and shapes what the upstream sent (one message or an array); null when any part is not a JSON-RPC message. */
export function shapeUpstreamText(text: string, shaping: ResponseShaping): ShapedAnswer | null {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return null;
  const answered: JsonRpcId[] = [];
  const shapeOne = (value: unknown): unknown => {
    const message = classifyMessage(value);
    if (!message.ok) return isNullIdError(value) ? value : undefined;
    const m = message.value;
    if (m.kind !== "response") return replaceInStrings(m.raw, shaping.standIns);
    if (shaping.requestIds === null) return filterToolsListResult(m.raw, shaping.isToolVisible);
    if (!shaping.requestIds.has(m.id)) return undefined;
    answered.push(m.id);
    const raw = replaceInStrings(m.raw, shaping.standIns);
    return shaping.toolsListIds.has(m.id) ? filterToolsListResult(raw, shaping.isToolVisible) : raw;
  };
  const value = parsed.value;
  if (!Array.isArray(value)) {
    const shaped = shapeOne(value);
    return shaped === undefined ? null : { messages: [shaped], batch: false, answered };
  }
  if (value.length === 0) return null;
  const messages = value.map(shapeOne);
  return messages.includes(undefined) ? null : { messages, batch: true, answered };
}

/** What a checked answer that needs no shaping did: the request ids it answered, the tasks it created. */
export interface CheckedAnswer {
  answered: JsonRpcId[];
  createdTasks: string[];
}

/**
 * The rules of shapeUpstreamText, for an answer that needs no shaping (no tools/list, no
 * stand-ins, not a GET stream) and that the gateway does not hold: its skeleton
 * (src/mcp/json-capture.ts) is checked instead of its value. Every message must be a JSON-RPC
 * message, every response must answer a forwarded id exactly. Null when the answer is refused.
 */
export function checkAnswerSkeleton(skeleton: unknown, requestIds: ReadonlySet<JsonRpcId>): CheckedAnswer | null {
  const messages = Array.isArray(skeleton) ? skeleton : [skeleton];
  if (messages.length === 0) return null;
  const checked: CheckedAnswer = { answered: [], createdTasks: [] };
  for (const value of messages) {
    const message = classifyMessage(value);
    if (!message.ok) {
      if (isNullIdError(value)) continue;
      return null;
    }
    const m = message.value;
    if (m.kind !== "response") continue;
    if (!requestIds.has(m.id)) return null;
    checked.answered.push(m.id);
    const task = createdTaskOf(m.raw);
    if (task !== null) checked.createdTasks.push(task);
  }
  return checked;
}

/** The id of the task a response's result names (MCP 2025-11-25 CreateTaskResult), if any. */
export function createdTaskOf(response: Record<string, unknown>): string | null {
  const result = response.result;
  const task = isJsonObject(result) ? result.task : undefined;
  return isJsonObject(task) && typeof task.taskId === "string" ? task.taskId : null;
}

export function serializeShaped(shaped: ShapedAnswer): string {
  return JSON.stringify(shaped.batch ? shaped.messages : shaped.messages[0]);
}

/** A copy of `value` in which every key of `replacements` inside a string is replaced by its value. */
export function replaceInStrings(value: unknown, replacements: ReadonlyMap<string, string>): unknown {
  if (replacements.size === 0) return value;
  if (typeof value === "string") {
    let text = value;
    for (const [from, to] of replacements) if (text.includes(from)) text = text.split(from).join(to);
    return text;
  }
  if (Array.isArray(value)) return value.map((element) => replaceInStrings(element, replacements));
  if (isJsonObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      // Defined as own data properties, so a "__proto__" key stays data.
      Object.defineProperty(copy, key, { value: replaceInStrings(member, replacements), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
  return value;
}

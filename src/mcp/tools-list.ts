/**
 * Hiding tools from a `tools/list` result (docs/policy.md: `hide`, and tools a default-deny policy does
 * not list). A hidden tool must look exactly like one that does not exist, so it is removed, not marked.
 */
import { isJsonObject } from "./json";

/**
 * A copy of a `tools/list` response without the tools `isVisible` rejects; an entry without a string
 * `name` is removed too, since no policy can speak about it. Everything else (`nextCursor`, `_meta`,
 * the tools' other fields) is kept. Any other shape, such as an error response, is returned as is.
 * The input is never mutated.
 */
export function filterToolsListResult(message: unknown, isVisible: (name: string) => boolean): unknown {
  if (!isJsonObject(message)) return message;
  const result = message.result;
  if (!isJsonObject(result) || !Array.isArray(result.tools)) return message;
  const tools = result.tools.filter((tool) => isJsonObject(tool) && typeof tool.name === "string" && isVisible(tool.name));
  // Spreads define own properties, so a `__proto__` key stays data and never becomes the prototype.
  return { ...message, result: { ...result, tools } };
}

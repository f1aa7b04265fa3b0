// The upstream tool behind the large-result rows: `large_result` returns `mebibytes` MiB of text.
// The text is ASCII with nothing JSON escapes, so its size in characters, in UTF-8 bytes and inside
// the JSON answer are the same, and it is one fixed pattern, so a receiver can check it whole.
import { z } from "zod";

export const LARGE_RESULT_TOOL = "large_result";
export const MIB = 1024 * 1024;
const LINE = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

const texts = new Map();
/** The text of a `mebibytes` MiB result, built once per size (the upstream's cost is not what is measured). */
export function largeText(mebibytes) {
  let text = texts.get(mebibytes);
  if (text === undefined) {
    text = LINE.repeat((mebibytes * MIB) / LINE.length);
    texts.set(mebibytes, text);
  }
  return text;
}

/** Registers the tool on an SDK McpServer. */
export function registerLargeResultTool(server) {
  server.registerTool(
    LARGE_RESULT_TOOL,
    { description: "Return N MiB of text", inputSchema: { mebibytes: z.number().int().min(1).max(64) } },
    async ({ mebibytes }) => ({ content: [{ type: "text", text: largeText(mebibytes) }] }),
  );
}

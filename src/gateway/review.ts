/**
 * What the gateway checks in an answer before passing it on, beyond its shape (src/mcp/shape.ts):
 *
 * - Tasks (docs/mcp.md, "Tasks"): a task the upstream created for this grant's call is bound to the
 *   grant before the answer naming it is relayed, and a tasks/list answer is cut down to the
 *   grant's own tasks, so one grant cannot reach another's tasks on a shared upstream. On a GET
 *   stream, which may replay answers to any earlier request (and which an SDK client takes by id
 *   whatever stream brings them), every result that carries a task list is cut down so; nothing
 *   there is bound (the POST that created a task bound it).
 * - Tool pinning (docs/policy.md, "Tool pinning"): every tools/list answer of a grant whose policy
 *   pins tools is fingerprinted and checked by the server's Durable Object, which quarantines
 *   changed or new tools for every grant of the server; quarantined tools are removed here.
 */
import { toolFingerprint } from "../catalogue/fingerprint";
import type { ToolDefinition } from "../catalogue/definition";
import { isJsonObject } from "../mcp/json";
import type { JsonRpcId } from "../mcp/jsonrpc";
import { createdTaskOf, type ShapedAnswer } from "../mcp/shape";
import type { ListedTool } from "../server/pins";

export interface TaskBinding {
  /** Bind task ids the upstream created for this grant (awaited before they reach the agent). */
  bind(taskIds: string[]): Promise<void>;
  /** Which of these task ids belong to this grant. */
  bound(taskIds: string[]): Promise<string[]>;
}

export interface Review {
  /** Ids of forwarded tasks/list requests. */
  taskListIds: ReadonlySet<JsonRpcId>;
  /** A GET stream: its answers answer no forwarded id, so every task list in them is cut down. */
  replay: boolean;
  tasks: TaskBinding;
  /** Null unless the grant's policy pins tools. */
  pins: {
    /** Ids of forwarded tools/list requests, and whether each asked for the first page (no cursor). */
    toolsList: ReadonlyMap<JsonRpcId, boolean>;
    /** The server's answer: the names to hide (quarantined). */
    observe(listing: ListedTool[], complete: boolean): Promise<string[]>;
  } | null;
}

export async function reviewAnswer(shaped: ShapedAnswer, review: Review): Promise<void> {
  const created: string[] = [];
  for (const message of shaped.messages) {
    const result = isJsonObject(message) && isJsonObject(message.result) ? message.result : null;
    if (result === null) continue;
    const id = (message as { id: JsonRpcId }).id;
    if (review.replay && Array.isArray(result.tasks)) result.tasks = await ownTasks(result.tasks, review.tasks);
    if (!shaped.answered.includes(id)) continue;
    const task = createdTaskOf(message as Record<string, unknown>);
    if (task !== null) created.push(task);
    if (review.taskListIds.has(id) && Array.isArray(result.tasks)) result.tasks = await ownTasks(result.tasks, review.tasks);
    const firstPage = review.pins?.toolsList.get(id);
    if (firstPage !== undefined && Array.isArray(result.tools)) {
      result.tools = await pinnedTools(result.tools, firstPage && result.nextCursor === undefined, review.pins!);
    }
  }
  if (created.length > 0) await review.tasks.bind(created);
}

async function ownTasks(tasks: unknown[], binding: TaskBinding): Promise<unknown[]> {
  const ids = tasks.flatMap((t) => (isJsonObject(t) && typeof t.taskId === "string" ? [t.taskId] : []));
  const own = new Set(ids.length === 0 ? [] : await binding.bound(ids));
  return tasks.filter((t) => isJsonObject(t) && typeof t.taskId === "string" && own.has(t.taskId));
}

/** The listing without the tools the server's pins quarantine; `complete`: the whole list in one page. */
async function pinnedTools(tools: unknown[], complete: boolean, pins: NonNullable<Review["pins"]>): Promise<unknown[]> {
  const listing: ListedTool[] = tools.flatMap((tool) =>
    isJsonObject(tool) && typeof tool.name === "string" ? [{ name: tool.name, fingerprint: toolFingerprint(tool as ToolDefinition), definition: tool }] : [],
  );
  const hidden = new Set(await pins.observe(listing, complete));
  return tools.filter((tool) => isJsonObject(tool) && typeof tool.name === "string" && !hidden.has(tool.name));
}

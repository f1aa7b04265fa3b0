/**
 * Which tools a grant sees in tools/list. A tool that evaluation steps 1–3 would refuse outright
 * (no policy, hidden, badly named, not permitted) is not advertised, so hidden or denied tools
 * cannot be discovered. Tools that only `require`/`deny_if`/limits might refuse stay visible:
 * whether they deny depends on the arguments.
 *
 * The predicate mirrors `evaluateToolCall` steps 1–3 over the reduced `ToolVisibility` that the
 * grant's Durable Object hands the gateway; a property test holds the two together.
 */
import type { ToolVisibility } from "./decision";
import { hiddenAt, TOOL_NAME } from "./evaluate";
import type { PolicyDocument } from "./schema";

/** No policy: nothing is visible (every call would be denied with no_policy). */
const NOTHING_VISIBLE: ToolVisibility = { default: "deny", hide: ["*"], listed: [] };

export function toolVisibility(policy: PolicyDocument | null): ToolVisibility {
  if (policy === null) return { ...NOTHING_VISIBLE, hide: [...NOTHING_VISIBLE.hide] };
  return {
    default: policy.default,
    hide: [...(policy.hide ?? [])],
    listed: Object.keys(policy.tools ?? {}),
  };
}

export function isToolVisible(v: ToolVisibility, name: string): boolean {
  if (hiddenAt(v.hide, name) >= 0) return false;
  const listed = v.listed.includes(name);
  if (!TOOL_NAME.test(name) && !listed) return false;
  return v.default === "allow" || listed;
}

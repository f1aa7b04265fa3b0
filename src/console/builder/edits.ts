/**
 * The builder's structural edits: the form's add/remove buttons, applied to a `BuilderForm`. Pure.
 */
import { ALL_TOOLS_OWNER } from "./fields";
import { newCondition, newLimit, newRule, type BuilderForm, type ToolForm } from "./form";

/**
 * `add-limit:<owner>`, `remove-limit:<owner>:<j>`, `add-rule:<owner>:<kind>`,
 * `remove-rule:<owner>:<kind>:<k>`, `add-condition:<owner>:<kind>:<k>`,
 * `remove-condition:<owner>:<kind>:<k>:<m>`, where `<owner>` is `all` or `tool.<i>`.
 * Returns the edited form and the tool row it touched (so the page can keep that row open), or the
 * form unchanged for an action it does not know.
 */
export function applyAction(form: BuilderForm, action: string): { form: BuilderForm; touched: number | null } {
  const [verb, owner, ...rest] = action.split(":");
  const toolIndex = /^tool\.(\d{1,4})$/.exec(owner ?? "")?.[1];
  const i = toolIndex === undefined ? null : Number(toolIndex);
  if (owner !== ALL_TOOLS_OWNER && (i === null || form.tools[i] === undefined)) return { form, touched: null };
  const tools = form.tools.map((tool) => ({ ...tool }));
  const tool = i === null ? null : (tools[i] as ToolForm);
  const kind = rest[0] === "require" || rest[0] === "deny_if" ? rest[0] : null;
  const at = (position: string | undefined) => (position !== undefined && /^\d{1,4}$/.test(position) ? Number(position) : -1);
  const without = <T>(list: readonly T[], index: number): T[] => list.filter((_, n) => n !== index);
  let allLimits = form.allLimits;

  switch (verb) {
    case "add-limit":
      if (tool === null) allLimits = [...allLimits, newLimit("calls")];
      else tool.limits = [...tool.limits, newLimit(`${tool.name}_rate`)];
      // A tool with a limit must be listed for the limit to apply.
      if (tool !== null && tool.access === "default") tool.access = "allow";
      break;
    case "remove-limit":
      if (tool === null) allLimits = without(allLimits, at(rest[0]));
      else tool.limits = without(tool.limits, at(rest[0]));
      break;
    case "add-rule":
      if (tool === null || kind === null) return { form, touched: null };
      tool[kind] = [...tool[kind], newRule()];
      if (tool.access === "default") tool.access = "allow";
      break;
    case "remove-rule":
      if (tool === null || kind === null) return { form, touched: null };
      tool[kind] = without(tool[kind], at(rest[1]));
      break;
    case "add-condition":
    case "remove-condition": {
      if (tool === null || kind === null) return { form, touched: null };
      const k = at(rest[1]);
      tool[kind] = tool[kind].map((rule, n) =>
        n !== k ? rule : { ...rule, conditions: verb === "add-condition" ? [...rule.conditions, newCondition()] : without(rule.conditions, at(rest[2])) },
      );
      break;
    }
    default:
      return { form, touched: null };
  }
  return { form: { ...form, allLimits, tools }, touched: i };
}

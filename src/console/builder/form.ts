/**
 * The visual policy builder's form: what the operator edits, as data. Pure. Three modules convert
 * it: document.ts (form ↔ policy document, docs/policy.md), fields.ts (form ↔ the HTML form's
 * fields) and edits.ts (the form's add/remove buttons). The builder page
 * (src/console/pages/policies.tsx) renders a `BuilderForm` (view.tsx) and posts its fields back.
 */
import { OPERATORS, WINDOWS } from "../../policy/schema";

export { OPERATORS };
export type Operator = (typeof OPERATORS)[number];

/** How a condition's typed value is read. */
export const VALUE_TYPES = ["string", "number", "boolean", "string-list", "number-list", "json"] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** The value types each operator takes; the first is what a new condition gets. */
export const TYPES_OF_OPERATOR: Record<Operator, readonly ValueType[]> = {
  eq: ["string", "number", "boolean"],
  neq: ["string", "number", "boolean"],
  contains: ["string", "number", "boolean"],
  lt: ["number"],
  lte: ["number"],
  gt: ["number"],
  gte: ["number"],
  in: ["string-list", "number-list", "json"],
  not_in: ["string-list", "number-list", "json"],
  exists: ["boolean"],
  regex: ["string"],
};

/** The document's named windows, or "seconds" for a whole number of seconds. */
export const WINDOW_CHOICES = [...WINDOWS, "seconds"] as const;
export type WindowChoice = (typeof WINDOW_CHOICES)[number];

/**
 * allow: listed under `tools` (its rules apply); default: not listed, so the document's `default`
 * decides (under `"deny"` that is "deny"); hide: in `hide`, as if it did not exist.
 */
export const ACCESS = ["allow", "default", "hide"] as const;
export type Access = (typeof ACCESS)[number];

export const RULE_KINDS = ["require", "deny_if"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export interface LimitForm {
  counter: string;
  window: WindowChoice;
  /** The window in seconds when `window` is "seconds". */
  seconds: string;
  max: string;
  /** "grant" or "server" is written as `scope`; "" leaves scope out (which means "grant"). */
  scope: "grant" | "server" | "";
  /** "" leaves cost out. */
  cost: string;
}

export interface ConditionForm {
  path: string;
  op: Operator;
  type: ValueType;
  value: string;
}

export interface RuleForm {
  onDeny: string;
  conditions: ConditionForm[];
}

export interface ToolForm {
  name: string;
  access: Access;
  limits: LimitForm[];
  require: RuleForm[];
  deny_if: RuleForm[];
}

export interface BuilderForm {
  /** `$schema`, kept as it was (not editable in the form). */
  schema: string;
  default: "allow" | "deny";
  mode: "enforce" | "monitor";
  /** `hide` contains "*": every tool is hidden. */
  hideAll: boolean;
  allLimits: LimitForm[];
  tools: ToolForm[];
}

export const emptyForm = (toolNames: readonly string[]): BuilderForm => ({
  schema: "",
  default: "deny",
  mode: "enforce",
  hideAll: false,
  allLimits: [],
  tools: toolNames.map((name) => ({ name, access: "default", limits: [], require: [], deny_if: [] })),
});

export const newLimit = (counter: string): LimitForm => ({ counter, window: "minute", seconds: "", max: "60", scope: "grant", cost: "" });
export const newCondition = (): ConditionForm => ({ path: "", op: "eq", type: "string", value: "" });
export const newRule = (): RuleForm => ({ onDeny: "", conditions: [newCondition()] });

/** The type a condition is read with: its own if the operator takes it, else the operator's first. */
export function effectiveType(op: Operator, type: ValueType): ValueType {
  const allowed = TYPES_OF_OPERATOR[op];
  return allowed.includes(type) ? type : (allowed[0] as ValueType);
}

/** Every counter name the form uses, with the owners that use it ("all tools" or tool names). */
export function countersOf(form: BuilderForm): Map<string, string[]> {
  const counters = new Map<string, string[]>();
  const note = (counter: string, owner: string) => {
    if (counter === "") return;
    const owners = counters.get(counter) ?? [];
    if (!owners.includes(owner)) owners.push(owner);
    counters.set(counter, owners);
  };
  for (const limit of form.allLimits) note(limit.counter, "all tools");
  for (const tool of form.tools) for (const limit of tool.limits) note(limit.counter, tool.name);
  return counters;
}

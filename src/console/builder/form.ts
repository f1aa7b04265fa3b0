/**
 * The visual policy builder's form, both ways: the HTML form's fields ↔ a `BuilderForm` ↔ a policy
 * document (docs/policy.md). Pure; the builder page (src/console/pages/policies.tsx) renders a
 * `BuilderForm` and posts its fields back.
 *
 * Form → document never validates: a value the operator has not finished typing (`max: "1o"`) goes
 * into the document as the text it is, so `parsePolicy` reports it with the same JSON pointer and
 * message the admin API would. Document → form takes only documents `parsePolicy` accepted.
 *
 * Field names carry row indexes, never tool names (upstream text): `tool.3.name` holds the name as a
 * value. Names: `default`, `mode`, `schema`, `hide_all`, `tool.<i>.name`, `tool.<i>.access`,
 * `<limits>.<j>.{counter,window,seconds,max,scope,cost}` where `<limits>` is `all.limit` or
 * `tool.<i>.limit`, and `tool.<i>.<require|deny_if>.<k>.on_deny`,
 * `tool.<i>.<require|deny_if>.<k>.cond.<m>.{path,op,type,value}`.
 */
import type { Condition, Limit, PolicyDocument, Rule, ToolRules } from "../../policy/schema";

export const OPERATORS = ["eq", "neq", "lt", "lte", "gt", "gte", "in", "not_in", "exists", "regex", "contains"] as const;
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

export const WINDOW_CHOICES = ["minute", "hour", "day", "seconds"] as const;
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
  /** "grant" writes `scope: "grant"`; "" leaves scope out (which means "grant"). */
  scope: "grant" | "";
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

// ---- form → document ----------------------------------------------------------------------

/** A number as typed, or the text itself when it is not one (parsePolicy then names it). */
function typedNumber(text: string): number | string {
  const trimmed = text.trim();
  if (trimmed === "") return text;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : text;
}

const lines = (text: string): string[] => text.split(/\r?\n/).filter((line) => line !== "");

function conditionValue(condition: ConditionForm): unknown {
  const { value } = condition;
  switch (effectiveType(condition.op, condition.type)) {
    case "string":
      return value;
    case "number":
      return typedNumber(value);
    case "boolean":
      return value === "true" ? true : value === "false" ? false : value;
    case "string-list":
      return lines(value);
    case "number-list":
      return lines(value).map((line) => typedNumber(line));
    case "json":
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
  }
}

function limitDocument(limit: LimitForm): Record<string, unknown> {
  const document: Record<string, unknown> = {
    counter: limit.counter,
    window: limit.window === "seconds" ? typedNumber(limit.seconds) : limit.window,
    max: typedNumber(limit.max),
  };
  if (limit.scope === "grant") document.scope = "grant";
  if (limit.cost !== "") document.cost = limit.cost;
  return document;
}

const ruleDocument = (rule: RuleForm): Record<string, unknown> => ({
  conditions: rule.conditions.map((condition) => ({ path: condition.path, op: condition.op, value: conditionValue(condition) })),
  on_deny: rule.onDeny,
});

function toolDocument(tool: ToolForm): Record<string, unknown> {
  const rules: Record<string, unknown> = {};
  if (tool.require.length > 0) rules.require = tool.require.map(ruleDocument);
  if (tool.deny_if.length > 0) rules.deny_if = tool.deny_if.map(ruleDocument);
  if (tool.limits.length > 0) rules.limits = tool.limits.map(limitDocument);
  return rules;
}

/**
 * The policy document the form describes, keys in the order docs/policy.md shows them. A hidden
 * tool's rules stay in the form but are not written: a hidden tool is refused before they would run.
 */
export function formToPolicy(form: BuilderForm): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  if (form.schema !== "") document.$schema = form.schema;
  document.version = "1";
  document.default = form.default;
  if (form.mode === "monitor") document.mode = "monitor";
  const hide = [...(form.hideAll ? ["*"] : []), ...form.tools.filter((tool) => tool.access === "hide").map((tool) => tool.name)];
  if (hide.length > 0) document.hide = hide;
  if (form.allLimits.length > 0) document.all_tools = { limits: form.allLimits.map(limitDocument) };
  const listed = form.tools.filter((tool) => tool.access === "allow");
  if (listed.length > 0) document.tools = Object.fromEntries(listed.map((tool) => [tool.name, toolDocument(tool)]));
  return document;
}

// ---- document → form ----------------------------------------------------------------------

function limitForm(limit: Limit): LimitForm {
  const seconds = typeof limit.window === "number";
  return {
    counter: limit.counter,
    window: seconds ? "seconds" : (limit.window as WindowChoice),
    seconds: seconds ? String(limit.window) : "",
    max: String(limit.max),
    scope: limit.scope === "grant" ? "grant" : "",
    cost: limit.cost ?? "",
  };
}

const listLine = (item: unknown): boolean => typeof item === "string" && item !== "" && !/[\r\n]/.test(item);

function conditionForm(condition: Condition): ConditionForm {
  const { path, op, value } = condition;
  if (Array.isArray(value)) {
    if (value.every(listLine)) return { path, op, type: "string-list", value: value.join("\n") };
    if (value.every((item) => typeof item === "number")) return { path, op, type: "number-list", value: value.map(String).join("\n") };
    return { path, op, type: "json", value: JSON.stringify(value) };
  }
  const type: ValueType = typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "string";
  return { path, op, type, value: String(value) };
}

const ruleForm = (rule: Rule): RuleForm => ({ onDeny: rule.on_deny, conditions: rule.conditions.map(conditionForm) });

function toolForm(name: string, access: Access, rules: ToolRules | undefined): ToolForm {
  return {
    name,
    access,
    limits: (rules?.limits ?? []).map(limitForm),
    require: (rules?.require ?? []).map(ruleForm),
    deny_if: (rules?.deny_if ?? []).map(ruleForm),
  };
}

/**
 * The form for a parsed document. Rows: the catalogue's tools in catalogue order, then tools the
 * document names that the catalogue lacks (listed, then hidden), so nothing the document says is lost.
 */
export function policyToForm(document: PolicyDocument, catalogueTools: readonly string[]): BuilderForm {
  const tools = document.tools ?? {};
  const hidden = new Set((document.hide ?? []).filter((name) => name !== "*"));
  const names = [...new Set([...catalogueTools, ...Object.keys(tools), ...hidden])];
  return {
    schema: document.$schema ?? "",
    default: document.default,
    mode: document.mode === "monitor" ? "monitor" : "enforce",
    hideAll: (document.hide ?? []).includes("*"),
    allLimits: (document.all_tools?.limits ?? []).map(limitForm),
    tools: names.map((name) => {
      const rules = Object.hasOwn(tools, name) ? tools[name] : undefined;
      const access: Access = hidden.has(name) ? "hide" : rules !== undefined ? "allow" : "default";
      return toolForm(name, access, rules);
    }),
  };
}

// ---- form ↔ fields ------------------------------------------------------------------------

export const fieldNames = {
  tool: (i: number, key: "name" | "access") => `tool.${i}.${key}`,
  limits: (owner: string) => `${owner}.limit`,
  limit: (owner: string, j: number, key: keyof LimitForm) => `${owner}.limit.${j}.${key}`,
  rule: (owner: string, kind: RuleKind, k: number) => `${owner}.${kind}.${k}`,
  onDeny: (owner: string, kind: RuleKind, k: number) => `${owner}.${kind}.${k}.on_deny`,
  condition: (owner: string, kind: RuleKind, k: number, m: number, key: keyof ConditionForm) => `${owner}.${kind}.${k}.cond.${m}.${key}`,
};

/** The owner prefix of a tool row's limits and rules. */
export const toolOwner = (i: number): string => `tool.${i}`;
export const ALL_TOOLS_OWNER = "all";

function limitFields(owner: string, limits: readonly LimitForm[]): [string, string][] {
  return limits.flatMap((limit, j) =>
    (["counter", "window", "seconds", "max", "scope", "cost"] as const).map((key): [string, string] => [fieldNames.limit(owner, j, key), limit[key]]),
  );
}

function ruleFields(owner: string, kind: RuleKind, rules: readonly RuleForm[]): [string, string][] {
  return rules.flatMap((rule, k) => [
    [fieldNames.onDeny(owner, kind, k), rule.onDeny] as [string, string],
    ...rule.conditions.flatMap((condition, m) =>
      (["path", "op", "type", "value"] as const).map((key): [string, string] => [fieldNames.condition(owner, kind, k, m, key), condition[key]]),
    ),
  ]);
}

/** The fields a rendered form posts, in document order (what the page renders, as data). */
export function formFields(form: BuilderForm): [string, string][] {
  return [
    ["schema", form.schema],
    ["default", form.default],
    ["mode", form.mode],
    ...(form.hideAll ? [["hide_all", "on"] as [string, string]] : []),
    ...limitFields(ALL_TOOLS_OWNER, form.allLimits),
    ...form.tools.flatMap((tool, i) => [
      [fieldNames.tool(i, "name"), tool.name] as [string, string],
      [fieldNames.tool(i, "access"), tool.access] as [string, string],
      ...limitFields(toolOwner(i), tool.limits),
      ...ruleFields(toolOwner(i), "require", tool.require),
      ...ruleFields(toolOwner(i), "deny_if", tool.deny_if),
    ]),
  ];
}

const pick = <T extends string>(choices: readonly T[], value: string | undefined, fallback: T): T =>
  choices.includes(value as T) ? (value as T) : fallback;

/** Rows of an indexed family (`<prefix>.<n>.…`) in index order; gaps (a removed row) close up. */
function indexes(fields: ReadonlyMap<string, string>, prefix: string): number[] {
  const found = new Set<number>();
  const pattern = new RegExp(`^${prefix.replaceAll(".", "\\.")}\\.(\\d{1,4})\\.`);
  for (const name of fields.keys()) {
    const match = pattern.exec(name);
    if (match?.[1] !== undefined) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b);
}

function readLimits(fields: ReadonlyMap<string, string>, owner: string): LimitForm[] {
  return indexes(fields, fieldNames.limits(owner)).map((j) => {
    const get = (key: keyof LimitForm) => fields.get(fieldNames.limit(owner, j, key)) ?? "";
    return {
      counter: get("counter"),
      window: pick(WINDOW_CHOICES, get("window"), "minute"),
      seconds: get("seconds"),
      max: get("max"),
      scope: get("scope") === "grant" ? "grant" : "",
      cost: get("cost"),
    };
  });
}

function readRules(fields: ReadonlyMap<string, string>, owner: string, kind: RuleKind): RuleForm[] {
  return indexes(fields, `${owner}.${kind}`).map((k) => ({
    onDeny: fields.get(fieldNames.onDeny(owner, kind, k)) ?? "",
    conditions: indexes(fields, `${fieldNames.rule(owner, kind, k)}.cond`).map((m) => {
      const get = (key: keyof ConditionForm) => fields.get(fieldNames.condition(owner, kind, k, m, key)) ?? "";
      const op = pick(OPERATORS, get("op"), "eq");
      return { path: get("path"), op, type: effectiveType(op, pick(VALUE_TYPES, get("type"), "string")), value: get("value") };
    }),
  }));
}

/** The form a browser posted. Unknown fields are ignored; the first value of a repeated name counts. */
export function readForm(entries: Iterable<readonly [string, string]>): BuilderForm {
  const fields = new Map<string, string>();
  for (const [name, value] of entries) if (!fields.has(name)) fields.set(name, value);
  return {
    schema: fields.get("schema") ?? "",
    default: pick(["allow", "deny"] as const, fields.get("default"), "deny"),
    mode: pick(["enforce", "monitor"] as const, fields.get("mode"), "enforce"),
    hideAll: fields.get("hide_all") === "on",
    allLimits: readLimits(fields, ALL_TOOLS_OWNER),
    tools: indexes(fields, "tool")
      .filter((i) => fields.has(fieldNames.tool(i, "name")))
      .map((i) => ({
        name: fields.get(fieldNames.tool(i, "name")) ?? "",
        access: pick(ACCESS, fields.get(fieldNames.tool(i, "access")), "default"),
        limits: readLimits(fields, toolOwner(i)),
        require: readRules(fields, toolOwner(i), "require"),
        deny_if: readRules(fields, toolOwner(i), "deny_if"),
      })),
  };
}

// ---- structural edits (the form's add/remove buttons) --------------------------------------

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

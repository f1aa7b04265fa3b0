/**
 * The builder's form ↔ the fields of the HTML form that shows it. Pure.
 *
 * Field names carry row indexes, never tool names (upstream text): `tool.3.name` holds the name as a
 * value. Names: `default`, `mode`, `schema`, `hide_all`, `tool.<i>.name`, `tool.<i>.access`,
 * `<limits>.<j>.{counter,window,seconds,max,scope,cost}` where `<limits>` is `all.limit` or
 * `tool.<i>.limit`, and `tool.<i>.<require|deny_if>.<k>.on_deny`,
 * `tool.<i>.<require|deny_if>.<k>.cond.<m>.{path,op,type,value}`.
 */
import {
  ACCESS,
  effectiveType,
  OPERATORS,
  VALUE_TYPES,
  WINDOW_CHOICES,
  type BuilderForm,
  type ConditionForm,
  type LimitForm,
  type RuleForm,
  type RuleKind,
} from "./form";

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

const pick = <T extends string>(choices: readonly T[], value: string | undefined, fallback: T): T => (choices.includes(value as T) ? (value as T) : fallback);

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

/**
 * The builder's form ↔ a policy document (docs/policy.md). Pure.
 *
 * Form → document never validates: a value the operator has not finished typing (`max: "1o"`) goes
 * into the document as the text it is, so `parsePolicy` reports it with the same JSON pointer and
 * message the admin API would. Document → form takes only documents `parsePolicy` accepted.
 */
import type { Condition, Limit, PolicyDocument, Rule, ToolRules } from "../../policy/schema";
import {
  effectiveType,
  type Access,
  type BuilderForm,
  type ConditionForm,
  type LimitForm,
  type RuleForm,
  type ToolForm,
  type ValueType,
  type WindowChoice,
} from "./form";

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

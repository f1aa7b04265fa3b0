/**
 * The visual policy builder's form half: one row per tool with its risk badge, its access (allow,
 * deny by default, hide), limits (limits.tsx) and `require` / `deny_if` rules (rules.tsx); and the
 * document's `default`, `mode` and `all_tools.limits`. Field names come from
 * src/console/builder/fields.ts; element ids are derived from them (controls.tsx). The JSON half
 * beside it is json-pane.tsx.
 */
import { CategoryTag, RiskBadge } from "../layout";
import { ActionButton, idOf, refreshing, type BuilderUrls } from "./controls";
import { ALL_TOOLS_OWNER, fieldNames, toolOwner } from "./fields";
import { countersOf, type BuilderForm, type ToolForm } from "./form";
import { LimitRow } from "./limits";
import { RULE_LABELS, RuleBlock } from "./rules";

export type { BuilderUrls } from "./controls";

/** What the builder knows about a tool from the catalogue. */
export interface ToolFacts {
  risk: string;
  category: string;
  description: string | null;
  /** `args.<field>` paths from the tool's inputSchema. */
  paths: string[];
}

/** `args.<field>` for every property of an inputSchema, nested objects too (three levels). */
export function argumentPaths(schema: unknown, prefix = "args", depth = 0): string[] {
  if (depth > 2 || typeof schema !== "object" || schema === null) return [];
  const properties = (schema as { properties?: unknown }).properties;
  if (typeof properties !== "object" || properties === null) return [];
  return Object.entries(properties).flatMap(([key, value]) => {
    if (key === "" || key.includes(".")) return [];
    const path = `${prefix}.${key}`;
    return [path, ...argumentPaths(value, path, depth + 1)];
  });
}

function AccessChoices(props: { form: BuilderForm; index: number }) {
  const { form, index: i } = props;
  const tool = form.tools[i]!;
  const accessName = fieldNames.tool(i, "access");
  const access = [
    { value: "allow", label: "Allow" },
    { value: "default", label: form.default === "deny" ? "Deny" : "Allow, no rules" },
    { value: "hide", label: "Hide" },
  ];
  return (
    <div class="access" role="radiogroup" aria-label={`Access to ${tool.name}`}>
      {access.map((choice) => (
        <label class="choice" for={idOf(`${accessName}.${choice.value}`)}>
          <input type="radio" id={idOf(`${accessName}.${choice.value}`)} name={accessName} value={choice.value} checked={tool.access === choice.value} />
          {choice.label}
        </label>
      ))}
    </div>
  );
}

/** A tool row's limits and rules, behind a disclosure that is open when there are any. */
function ToolRules(props: { urls: BuilderUrls; tool: ToolForm; index: number; open: boolean; counters: Map<string, string[]> }) {
  const { urls, tool } = props;
  const owner = toolOwner(props.index);
  const paths = `paths-${props.index}`;
  const ruleCount = tool.limits.length + tool.require.length + tool.deny_if.length;
  return (
    <details open={props.open || ruleCount > 0}>
      <summary>Limits and conditions ({ruleCount})</summary>
      {tool.access === "hide" && ruleCount > 0 ? (
        <p class="hint">Hidden: these rules are kept here but not written, since a hidden tool is refused before they run.</p>
      ) : null}
      <h4>Limits</h4>
      {tool.limits.map((limit, j) => (
        <LimitRow
          urls={urls}
          owner={owner}
          index={j}
          limit={limit}
          ownerLabel={tool.name}
          paths={paths}
          shared={(props.counters.get(limit.counter) ?? []).filter((user) => user !== tool.name)}
        />
      ))}
      <ActionButton urls={urls} action={`add-limit:${owner}`} label="Add limit" />
      {(["require", "deny_if"] as const).map((kind) => (
        <div>
          <h4>{RULE_LABELS[kind]}</h4>
          {tool[kind].map((rule, k) => (
            <RuleBlock urls={urls} owner={owner} kind={kind} index={k} rule={rule} paths={paths} />
          ))}
          <ActionButton urls={urls} action={`add-rule:${owner}:${kind}`} label={`Add ${RULE_LABELS[kind]} rule`} />
        </div>
      ))}
    </details>
  );
}

function ToolRow(props: { urls: BuilderUrls; form: BuilderForm; index: number; facts: ToolFacts | undefined; open: boolean; counters: Map<string, string[]> }) {
  const { form, index: i, facts } = props;
  const tool = form.tools[i]!;
  return (
    <fieldset class={`tool-row access-${tool.access}`}>
      <legend>
        <span class="tool-name">{tool.name}</span> {facts ? <RiskBadge risk={facts.risk} /> : <span class="badge risk-unknown">not in catalogue</span>}{" "}
        {facts ? <CategoryTag category={facts.category} /> : null}
      </legend>
      <input type="hidden" name={fieldNames.tool(i, "name")} value={tool.name} />
      {facts?.description ? <p class="hint description">{facts.description}</p> : null}
      <datalist id={`paths-${i}`}>
        {(facts?.paths ?? []).map((path) => (
          <option value={path} />
        ))}
      </datalist>
      <AccessChoices form={form} index={i} />
      <ToolRules urls={props.urls} tool={tool} index={i} open={props.open} counters={props.counters} />
    </fieldset>
  );
}

/** The whole document's settings: `default`, `mode`, "hide every tool" and `all_tools.limits`. */
function DocumentFields(props: { urls: BuilderUrls; form: BuilderForm; counters: Map<string, string[]> }) {
  const { urls, form, counters } = props;
  return (
    <fieldset class="document">
      <legend>Whole document</legend>
      <div class="row">
        <label for="f-default">
          Tools not listed (default)
          <select id="f-default" name="default" {...refreshing(urls)}>
            <option value="deny" selected={form.default === "deny"}>
              deny
            </option>
            <option value="allow" selected={form.default === "allow"}>
              allow
            </option>
          </select>
        </label>
        <label for="f-mode">
          Mode
          <select id="f-mode" name="mode">
            <option value="enforce" selected={form.mode === "enforce"}>
              enforce
            </option>
            <option value="monitor" selected={form.mode === "monitor"}>
              monitor (decide and audit, block nothing)
            </option>
          </select>
        </label>
        <label class="choice" for="f-hide_all">
          <input type="checkbox" id="f-hide_all" name="hide_all" checked={form.hideAll} />
          Hide every tool (<code>"hide": ["*"]</code>)
        </label>
      </div>
      <h4>all_tools limits (every call counts against these too)</h4>
      {form.allLimits.map((limit, j) => (
        <LimitRow
          urls={urls}
          owner={ALL_TOOLS_OWNER}
          index={j}
          limit={limit}
          ownerLabel="all tools"
          paths=""
          shared={(counters.get(limit.counter) ?? []).filter((user) => user !== "all tools")}
        />
      ))}
      <ActionButton urls={urls} action={`add-limit:${ALL_TOOLS_OWNER}`} label="Add limit for all tools" />
    </fieldset>
  );
}

/** The form half of the builder: swapped whole when the structure or the JSON changes. */
export function BuilderFields(props: { urls: BuilderUrls; form: BuilderForm; facts: Map<string, ToolFacts>; touched?: number | null }) {
  const { urls, form } = props;
  const counters = countersOf(form);
  return (
    <div
      id="builder-fields"
      class="builder-fields"
      hx-post={urls.json}
      hx-trigger="input delay:400ms"
      hx-target="#json-pane"
      hx-swap="outerHTML"
      hx-sync="#builder:replace"
    >
      <input type="hidden" name="schema" value={form.schema} />
      <datalist id="counter-names">
        {[...counters.keys()].map((counter) => (
          <option value={counter} />
        ))}
      </datalist>
      <DocumentFields urls={urls} form={form} counters={counters} />
      {form.tools.map((tool, i) => (
        <ToolRow urls={urls} form={form} index={i} facts={props.facts.get(tool.name)} open={props.touched === i} counters={counters} />
      ))}
    </div>
  );
}

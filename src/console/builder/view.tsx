/**
 * The visual policy builder's markup: one row per tool with its risk badge, its access (allow, deny
 * by default, hide), limits and `require` / `deny_if` rules; the document's `default`, `mode` and
 * `all_tools.limits`; and the JSON pane beside it. Field names come from src/console/builder/form.ts;
 * element ids are derived from them (`f-` + name with dots as dashes), so htmx keeps focus on the
 * field being edited when the form is re-rendered.
 */
import type { Child } from "hono/jsx";
import type { PolicyError } from "../../policy/schema";
import { RiskBadge, CategoryTag } from "../layout";
import {
  ALL_TOOLS_OWNER,
  countersOf,
  fieldNames,
  OPERATORS,
  toolOwner,
  TYPES_OF_OPERATOR,
  WINDOW_CHOICES,
  type BuilderForm,
  type ConditionForm,
  type LimitForm,
  type RuleForm,
  type RuleKind,
  type ValueType,
} from "./form";

/** What the builder knows about a tool from the catalogue. */
export interface ToolFacts {
  risk: string;
  category: string;
  description: string | null;
  /** `args.<field>` paths from the tool's inputSchema. */
  paths: string[];
}

export interface BuilderUrls {
  /** Form fields → JSON pane. */
  json: string;
  /** JSON text → form fields. */
  form: string;
  /** Structural edits and "start from recommended". */
  edit: string;
  review: string;
}

const idOf = (name: string) => `f-${name.replaceAll(".", "-")}`;

const TYPE_LABELS: Record<ValueType, string> = {
  string: "text",
  number: "number",
  boolean: "true / false",
  "string-list": "text list (one per line)",
  "number-list": "number list (one per line)",
  json: "JSON list",
};

const RULE_LABELS: Record<RuleKind, string> = { require: "require", deny_if: "deny_if" };

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

function ActionButton(props: { urls: BuilderUrls; action: string; label: string; class?: string; describedBy?: string }) {
  return (
    <button
      type="submit"
      name="action"
      value={props.action}
      formaction={props.urls.edit}
      hx-post={props.urls.edit}
      hx-target="#builder-fields"
      class={props.class ?? "small"}
      aria-describedby={props.describedBy}
    >
      {props.label}
    </button>
  );
}

/** A select whose change re-renders the form (other fields depend on it). */
const refreshing = (urls: BuilderUrls) => ({ "hx-post": urls.edit, "hx-trigger": "change", "hx-target": "#builder-fields", "hx-vals": '{"action":"refresh"}' });

function LimitRow(props: { urls: BuilderUrls; owner: string; index: number; limit: LimitForm; shared: string[]; ownerLabel: string; paths: string }) {
  const { owner, index: j, limit, urls } = props;
  const name = (key: keyof LimitForm) => fieldNames.limit(owner, j, key);
  return (
    <div class="limit-row" role="group" aria-label={`Limit ${j + 1} of ${props.ownerLabel}`}>
      <label for={idOf(name("counter"))}>
        Counter
        <input id={idOf(name("counter"))} name={name("counter")} value={limit.counter} list="counter-names" autocomplete="off" spellcheck={false} />
      </label>
      <label for={idOf(name("window"))}>
        Window
        <select id={idOf(name("window"))} name={name("window")} {...refreshing(urls)}>
          {WINDOW_CHOICES.map((choice) => (
            <option value={choice} selected={choice === limit.window}>
              {choice === "seconds" ? "seconds…" : choice}
            </option>
          ))}
        </select>
      </label>
      {limit.window === "seconds" ? (
        <label for={idOf(name("seconds"))}>
          Seconds
          <input id={idOf(name("seconds"))} name={name("seconds")} value={limit.seconds} inputmode="numeric" />
        </label>
      ) : (
        <input type="hidden" name={name("seconds")} value={limit.seconds} />
      )}
      <label for={idOf(name("max"))}>
        Max
        <input id={idOf(name("max"))} name={name("max")} value={limit.max} inputmode="numeric" />
      </label>
      <label for={idOf(name("scope"))}>
        Scope
        <select id={idOf(name("scope"))} name={name("scope")}>
          <option value="grant" selected={limit.scope === "grant"}>
            grant
          </option>
          <option value="" selected={limit.scope === ""}>
            not written (grant)
          </option>
        </select>
      </label>
      <label for={idOf(name("cost"))}>
        Cost (optional)
        <input id={idOf(name("cost"))} name={name("cost")} value={limit.cost} list={props.paths} placeholder="1 per call" autocomplete="off" spellcheck={false} />
      </label>
      <div class="limit-foot">
        {props.shared.length > 0 ? <span class="hint">Shared with {props.shared.join(", ")}</span> : <span />}
        <ActionButton urls={urls} action={`remove-limit:${owner}:${j}`} label={`Remove limit ${j + 1}`} class="small quiet" />
      </div>
    </div>
  );
}

function ValueInput(props: { id: string; name: string; condition: ConditionForm; label: string }) {
  const { condition } = props;
  const type = TYPES_OF_OPERATOR[condition.op].includes(condition.type) ? condition.type : TYPES_OF_OPERATOR[condition.op][0];
  if (type === "boolean") {
    return (
      <label for={props.id}>
        {props.label}
        <select id={props.id} name={props.name}>
          <option value="true" selected={condition.value !== "false"}>
            true
          </option>
          <option value="false" selected={condition.value === "false"}>
            false
          </option>
        </select>
      </label>
    );
  }
  if (type === "string-list" || type === "number-list" || type === "json") {
    return (
      <label for={props.id}>
        {props.label}
        <textarea id={props.id} name={props.name} rows={3} spellcheck={false}>
          {condition.value}
        </textarea>
      </label>
    );
  }
  return (
    <label for={props.id}>
      {props.label}
      <input id={props.id} name={props.name} value={condition.value} inputmode={type === "number" ? "decimal" : undefined} spellcheck={false} autocomplete="off" />
    </label>
  );
}

function ConditionRow(props: { urls: BuilderUrls; owner: string; kind: RuleKind; rule: number; index: number; condition: ConditionForm; paths: string }) {
  const { urls, owner, kind, rule: k, index: m, condition } = props;
  const name = (key: keyof ConditionForm) => fieldNames.condition(owner, kind, k, m, key);
  const types = TYPES_OF_OPERATOR[condition.op];
  return (
    <div class="condition-row" role="group" aria-label={`Condition ${m + 1}`}>
      <label for={idOf(name("path"))}>
        Argument path
        <input id={idOf(name("path"))} name={name("path")} value={condition.path} list={props.paths} placeholder="args.amount" autocomplete="off" spellcheck={false} />
      </label>
      <label for={idOf(name("op"))}>
        Operator
        <select id={idOf(name("op"))} name={name("op")} {...refreshing(urls)}>
          {OPERATORS.map((op) => (
            <option value={op} selected={op === condition.op}>
              {op}
            </option>
          ))}
        </select>
      </label>
      {types.length > 1 ? (
        <label for={idOf(name("type"))}>
          Value type
          <select id={idOf(name("type"))} name={name("type")} {...refreshing(urls)}>
            {types.map((type) => (
              <option value={type} selected={type === condition.type}>
                {TYPE_LABELS[type]}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <input type="hidden" name={name("type")} value={types[0]} />
      )}
      <ValueInput id={idOf(name("value"))} name={name("value")} condition={condition} label={`Value (${TYPE_LABELS[types.includes(condition.type) ? condition.type : (types[0] as ValueType)]})`} />
      <ActionButton urls={urls} action={`remove-condition:${owner}:${kind}:${k}:${m}`} label={`Remove condition ${m + 1}`} class="small quiet" />
    </div>
  );
}

function RuleBlock(props: { urls: BuilderUrls; owner: string; kind: RuleKind; index: number; rule: RuleForm; paths: string }) {
  const { urls, owner, kind, index: k, rule } = props;
  const onDeny = fieldNames.onDeny(owner, kind, k);
  return (
    <div class={`rule rule-${kind}`} role="group" aria-label={`${RULE_LABELS[kind]} rule ${k + 1}`}>
      <p class="rule-head">
        <strong>
          {RULE_LABELS[kind]} rule {k + 1}
        </strong>{" "}
        <span class="hint">{kind === "require" ? "every condition must hold, or the call is denied" : "denies when every condition holds"}</span>
      </p>
      {rule.conditions.length === 0 ? <p class="hint">No conditions: {kind === "deny_if" ? "this rule denies every call" : "this rule always holds"}.</p> : null}
      {rule.conditions.map((condition, m) => (
        <ConditionRow urls={urls} owner={owner} kind={kind} rule={k} index={m} condition={condition} paths={props.paths} />
      ))}
      <label for={idOf(onDeny)}>
        Message the agent sees when it denies (on_deny)
        <input id={idOf(onDeny)} name={onDeny} value={rule.onDeny} />
      </label>
      <div class="actions">
        <ActionButton urls={urls} action={`add-condition:${owner}:${kind}:${k}`} label="Add condition" />
        <ActionButton urls={urls} action={`remove-rule:${owner}:${kind}:${k}`} label={`Remove ${RULE_LABELS[kind]} rule ${k + 1}`} class="small quiet" />
      </div>
    </div>
  );
}

function ToolRow(props: { urls: BuilderUrls; form: BuilderForm; index: number; facts: ToolFacts | undefined; open: boolean; counters: Map<string, string[]> }) {
  const { urls, form, index: i, facts } = props;
  const tool = form.tools[i]!;
  const owner = toolOwner(i);
  const accessName = fieldNames.tool(i, "access");
  const paths = `paths-${i}`;
  const ruleCount = tool.limits.length + tool.require.length + tool.deny_if.length;
  const access = [
    { value: "allow", label: "Allow" },
    { value: "default", label: form.default === "deny" ? "Deny" : "Allow, no rules" },
    { value: "hide", label: "Hide" },
  ];
  return (
    <fieldset class={`tool-row access-${tool.access}`}>
      <legend>
        <span class="tool-name">{tool.name}</span> {facts ? <RiskBadge risk={facts.risk} /> : <span class="badge risk-unknown">not in catalogue</span>}{" "}
        {facts ? <CategoryTag category={facts.category} /> : null}
      </legend>
      <input type="hidden" name={fieldNames.tool(i, "name")} value={tool.name} />
      {facts?.description ? <p class="hint description">{facts.description}</p> : null}
      <datalist id={paths}>
        {(facts?.paths ?? []).map((path) => (
          <option value={path} />
        ))}
      </datalist>
      <div class="access" role="radiogroup" aria-label={`Access to ${tool.name}`}>
        {access.map((choice) => (
          <label class="choice" for={idOf(`${accessName}.${choice.value}`)}>
            <input type="radio" id={idOf(`${accessName}.${choice.value}`)} name={accessName} value={choice.value} checked={tool.access === choice.value} />
            {choice.label}
          </label>
        ))}
      </div>
      <details open={props.open || ruleCount > 0}>
        <summary>Limits and conditions ({ruleCount})</summary>
        {tool.access === "hide" && ruleCount > 0 ? <p class="hint">Hidden: these rules are kept here but not written, since a hidden tool is refused before they run.</p> : null}
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
    </fieldset>
  );
}

/** The form half of the builder: swapped whole when the structure or the JSON changes. */
export function BuilderFields(props: { urls: BuilderUrls; form: BuilderForm; facts: Map<string, ToolFacts>; touched?: number | null; oob?: boolean }) {
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
      {form.tools.map((tool, i) => (
        <ToolRow urls={urls} form={form} index={i} facts={props.facts.get(tool.name)} open={props.touched === i} counters={counters} />
      ))}
    </div>
  );
}

export function PolicyErrors(props: { errors: readonly PolicyError[] | null; syntax?: string | null; oob?: boolean }) {
  const content: Child =
    props.syntax != null ? (
      <p>
        <strong>Not JSON the API accepts:</strong> {props.syntax}
      </p>
    ) : props.errors === null || props.errors.length === 0 ? (
      <p class="valid">Valid policy.</p>
    ) : (
      <>
        <p>
          <strong>{props.errors.length === 1 ? "1 problem" : `${props.errors.length} problems`}</strong> (the admin API answers the same):
        </p>
        <ul class="pointers">
          {props.errors.map((error) => (
            <li>
              <code>{error.path === "" ? "(document)" : error.path}</code>: {error.message}
            </li>
          ))}
        </ul>
      </>
    );
  const invalid = props.syntax != null || (props.errors !== null && props.errors.length > 0);
  return (
    <div id="policy-errors" class={invalid ? "policy-errors invalid" : "policy-errors"} aria-live="polite" hx-swap-oob={props.oob ? "true" : undefined}>
      {content}
    </div>
  );
}

/** The JSON half: the document as text (editable), its errors, and the way to save. */
export function JsonPane(props: { urls: BuilderUrls; text: string; errors: readonly PolicyError[] | null; syntax?: string | null; oob?: boolean; notice?: Child }) {
  return (
    <div id="json-pane" class="json-pane" hx-swap-oob={props.oob ? "true" : undefined}>
      {props.notice ?? null}
      <label for="policy-json">Policy JSON (edit here or in the form)</label>
      <textarea
        id="policy-json"
        name="document"
        rows={24}
        spellcheck={false}
        autocomplete="off"
        hx-post={props.urls.form}
        hx-trigger="input delay:500ms"
        hx-target="#builder-fields"
        hx-swap="outerHTML"
        hx-sync="#builder:replace"
      >
        {props.text}
      </textarea>
      <PolicyErrors errors={props.errors} syntax={props.syntax ?? null} />
      <div class="actions">
        <button type="submit" class="primary" formaction={props.urls.review}>
          Review changes and save…
        </button>
      </div>
    </div>
  );
}

/**
 * The builder's `require` and `deny_if` rules: each rule's conditions (argument path, operator,
 * value typed to match the operator) and its `on_deny` message.
 */
import { fieldNames } from "./fields";
import { effectiveType, TYPES_OF_OPERATOR, OPERATORS, type ConditionForm, type RuleForm, type RuleKind, type ValueType } from "./form";
import { ActionButton, idOf, refreshing, type BuilderUrls } from "./controls";

const TYPE_LABELS: Record<ValueType, string> = {
  string: "text",
  number: "number",
  boolean: "true / false",
  "string-list": "text list (one per line)",
  "number-list": "number list (one per line)",
  json: "JSON list",
};

export const RULE_LABELS: Record<RuleKind, string> = { require: "require", deny_if: "deny_if" };

function ValueInput(props: { id: string; name: string; condition: ConditionForm; label: string }) {
  const { condition } = props;
  const type = effectiveType(condition.op, condition.type);
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
      <input
        id={props.id}
        name={props.name}
        value={condition.value}
        inputmode={type === "number" ? "decimal" : undefined}
        spellcheck={false}
        autocomplete="off"
      />
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
        <input
          id={idOf(name("path"))}
          name={name("path")}
          value={condition.path}
          list={props.paths}
          placeholder="args.amount"
          autocomplete="off"
          spellcheck={false}
        />
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
      <ValueInput
        id={idOf(name("value"))}
        name={name("value")}
        condition={condition}
        label={`Value (${TYPE_LABELS[effectiveType(condition.op, condition.type)]})`}
      />
      <ActionButton urls={urls} action={`remove-condition:${owner}:${kind}:${k}:${m}`} label={`Remove condition ${m + 1}`} class="small quiet" />
    </div>
  );
}

export function RuleBlock(props: { urls: BuilderUrls; owner: string; kind: RuleKind; index: number; rule: RuleForm; paths: string }) {
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
      {rule.conditions.length === 0 ? (
        <p class="hint">No conditions: {kind === "deny_if" ? "this rule denies every call" : "this rule always holds"}.</p>
      ) : null}
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

// The visual policy builder's conversion, both ways: posted form fields -> form -> policy document,
// and a parsed document -> form -> fields -> form -> the same document. Every operator, every value
// type and every limit field is covered.
import { describe, expect, it } from "vitest";
import { formToPolicy, policyToForm } from "../../../src/console/builder/document";
import { applyAction } from "../../../src/console/builder/edits";
import { formFields, readForm } from "../../../src/console/builder/fields";
import { countersOf, emptyForm, OPERATORS, TYPES_OF_OPERATOR, type BuilderForm } from "../../../src/console/builder/form";
import { parsePolicy, type PolicyDocument } from "../../../src/policy/schema";

const parsed = (document: unknown): PolicyDocument => {
  const result = parsePolicy(document);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
};

/** parsePolicy adds `mode: "enforce"` when absent; the builder writes mode only for monitor. */
const withoutDefaultMode = (document: PolicyDocument): unknown => {
  const { mode, ...rest } = document;
  return mode === "enforce" ? rest : document;
};

/** One condition of every operator, each value type an operator takes. */
const EVERY_CONDITION = [
  { path: "args.env", op: "eq", value: "staging" },
  { path: "args.count", op: "eq", value: 5 },
  { path: "args.dry", op: "eq", value: true },
  { path: "args.env", op: "neq", value: "prod" },
  { path: "args.n", op: "neq", value: 0.5 },
  { path: "args.force", op: "neq", value: false },
  { path: "args.limit", op: "lt", value: 100 },
  { path: "args.limit", op: "lte", value: -3 },
  { path: "args.amount", op: "gt", value: 10000 },
  { path: "args.amount", op: "gte", value: 1e21 },
  { path: "args.region", op: "in", value: ["eu", "uk"] },
  { path: "args.code", op: "in", value: [1, 2, 3.5] },
  { path: "args.mixed", op: "in", value: ["a", 1, true] },
  { path: "args.table", op: "not_in", value: ["users", " spaced "] },
  { path: "args.id", op: "not_in", value: [7] },
  { path: "args.odd", op: "not_in", value: ["", "two\nlines"] },
  { path: "args.reason", op: "exists", value: true },
  { path: "args.token", op: "exists", value: false },
  { path: "args.sql", op: "regex", value: "(?i)drop\\s+table" },
  { path: "args.command", op: "contains", value: "rm -rf" },
  { path: "args.tags", op: "contains", value: 3 },
  { path: "args.flags", op: "contains", value: true },
];

const FULL_POLICY = {
  $schema: "https://gw.example.com/schema/policy-v1.json",
  version: "1",
  default: "deny",
  mode: "monitor",
  hide: ["*", "delete_account"],
  all_tools: { limits: [{ counter: "calls", window: "minute", max: 60, scope: "grant" }] },
  tools: {
    create_refund: {
      require: [{ conditions: [{ path: "args.reason", op: "exists", value: true }], on_deny: "Refunds need a reason." }],
      deny_if: [
        { conditions: EVERY_CONDITION, on_deny: "Every operator." },
        { conditions: [], on_deny: "Never." },
      ],
      limits: [
        { counter: "refunds", window: "minute", max: 5 },
        { counter: "refunds", window: "day", max: 100, scope: "grant" },
        { counter: "refund_total", window: 90, max: 10000, cost: "args.amount" },
        { counter: "calls", window: "hour", max: 1000, scope: "grant" },
      ],
    },
    list_customers: {},
    not_in_catalogue: { limits: [{ counter: "calls", window: "hour", max: 7 }] },
  },
};

describe("document -> form -> fields -> form -> document", () => {
  it("gives back every operator, value type and limit field unchanged", () => {
    const document = parsed(FULL_POLICY);
    const form = policyToForm(document, ["list_customers", "create_refund", "echo"]);
    const again = readForm(formFields(form));
    expect(again).toEqual(form);
    expect(formToPolicy(again)).toEqual({
      ...FULL_POLICY,
      // The builder lists tools in its row order: the catalogue's first, then the document's others.
      tools: { create_refund: FULL_POLICY.tools.create_refund, list_customers: {}, not_in_catalogue: FULL_POLICY.tools.not_in_catalogue },
    });
    expect(parsePolicy(formToPolicy(again)).ok).toBe(true);
  });

  it("rows: catalogue tools in order, then listed and hidden names the catalogue lacks", () => {
    const form = policyToForm(parsed(FULL_POLICY), ["list_customers", "create_refund", "echo"]);
    expect(form.tools.map((tool) => [tool.name, tool.access])).toEqual([
      ["list_customers", "allow"],
      ["create_refund", "allow"],
      ["echo", "default"],
      ["not_in_catalogue", "allow"],
      ["delete_account", "hide"],
    ]);
    expect(form.hideAll).toBe(true);
    expect(form.mode).toBe("monitor");
  });

  it("chooses the value type each condition's value has", () => {
    const form = policyToForm(parsed(FULL_POLICY), []);
    const conditions = form.tools.find((tool) => tool.name === "create_refund")!.deny_if[0]!.conditions;
    expect(conditions.map((c) => [c.op, c.type, c.value])).toEqual([
      ["eq", "string", "staging"],
      ["eq", "number", "5"],
      ["eq", "boolean", "true"],
      ["neq", "string", "prod"],
      ["neq", "number", "0.5"],
      ["neq", "boolean", "false"],
      ["lt", "number", "100"],
      ["lte", "number", "-3"],
      ["gt", "number", "10000"],
      ["gte", "number", "1e+21"],
      ["in", "string-list", "eu\nuk"],
      ["in", "number-list", "1\n2\n3.5"],
      ["in", "json", '["a",1,true]'],
      ["not_in", "string-list", "users\n spaced "],
      ["not_in", "number-list", "7"],
      ["not_in", "json", '["","two\\nlines"]'],
      ["exists", "boolean", "true"],
      ["exists", "boolean", "false"],
      ["regex", "string", "(?i)drop\\s+table"],
      ["contains", "string", "rm -rf"],
      ["contains", "number", "3"],
      ["contains", "boolean", "true"],
    ]);
    // The test covers all eleven operators.
    expect(new Set(conditions.map((c) => c.op))).toEqual(new Set(OPERATORS));
  });

  it("the recommended policy comes back exactly", () => {
    const recommended = {
      version: "1",
      default: "deny",
      tools: {
        run: { limits: [{ counter: "run_rate", window: "minute", max: 10, scope: "grant" }] },
        list_runs: { limits: [{ counter: "list_runs_rate", window: "minute", max: 60, scope: "grant" }] },
      },
    };
    const form = policyToForm(parsed(recommended), ["run", "list_runs", "delete_repo"]);
    expect(form.tools.map((tool) => tool.access)).toEqual(["allow", "allow", "default"]);
    expect(formToPolicy(readForm(formFields(form)))).toEqual(recommended);
  });

  it("default allow, no hide, no limits: the smallest document", () => {
    const document = parsed({ version: "1", default: "allow" });
    expect(formToPolicy(policyToForm(document, ["a", "b"]))).toEqual(withoutDefaultMode(document));
  });
});

/** The fields a browser posts for one tool row with the given extra fields. */
const posted = (extra: Record<string, string>, base: Record<string, string> = { default: "deny", mode: "enforce", schema: "" }) =>
  Object.entries({ ...base, "tool.0.name": "pay", "tool.0.access": "allow", ...extra });

describe("fields -> document", () => {
  it("reads every limit field", () => {
    const document = formToPolicy(
      readForm(
        posted({
          "tool.0.limit.0.counter": "spend",
          "tool.0.limit.0.window": "seconds",
          "tool.0.limit.0.seconds": "90",
          "tool.0.limit.0.max": "10000",
          "tool.0.limit.0.scope": "grant",
          "tool.0.limit.0.cost": "args.amount",
          "tool.0.limit.1.counter": "spend",
          "tool.0.limit.1.window": "day",
          "tool.0.limit.1.seconds": "",
          "tool.0.limit.1.max": "3",
          "tool.0.limit.1.scope": "",
          "tool.0.limit.1.cost": "",
          "all.limit.0.counter": "calls",
          "all.limit.0.window": "hour",
          "all.limit.0.max": "500",
          "all.limit.0.scope": "grant",
        }),
      ),
    );
    expect(document).toEqual({
      version: "1",
      default: "deny",
      all_tools: { limits: [{ counter: "calls", window: "hour", max: 500, scope: "grant" }] },
      tools: {
        pay: {
          limits: [
            { counter: "spend", window: 90, max: 10000, scope: "grant", cost: "args.amount" },
            { counter: "spend", window: "day", max: 3 },
          ],
        },
      },
    });
    expect(parsePolicy(document).ok).toBe(true);
  });

  it.each([
    ["eq", "string", "5", "5"],
    ["eq", "number", " 5 ", 5],
    ["eq", "boolean", "false", false],
    ["neq", "string", "x", "x"],
    ["neq", "number", "-2.5", -2.5],
    ["neq", "boolean", "true", true],
    ["lt", "number", "100", 100],
    ["lte", "number", "0", 0],
    ["gt", "number", "1e3", 1000],
    ["gte", "number", "7", 7],
    ["in", "string-list", "eu\r\nuk\n", ["eu", "uk"]],
    ["in", "number-list", "1\n2", [1, 2]],
    ["in", "json", '["eu", 1, false]', ["eu", 1, false]],
    ["not_in", "string-list", "users", ["users"]],
    ["not_in", "number-list", "", []],
    ["not_in", "json", "[]", []],
    ["exists", "boolean", "true", true],
    ["exists", "boolean", "false", false],
    ["regex", "string", "^a+$", "^a+$"],
    ["contains", "string", "rm -rf", "rm -rf"],
    ["contains", "number", "3", 3],
    ["contains", "boolean", "true", true],
  ])("%s with a %s value %j", (op, type, value, expected) => {
    const document = formToPolicy(
      readForm(
        posted({
          "tool.0.deny_if.0.on_deny": "No.",
          "tool.0.deny_if.0.cond.0.path": "args.x",
          "tool.0.deny_if.0.cond.0.op": op,
          "tool.0.deny_if.0.cond.0.type": type,
          "tool.0.deny_if.0.cond.0.value": value,
        }),
      ),
    );
    expect(document).toEqual({
      version: "1",
      default: "deny",
      tools: { pay: { deny_if: [{ conditions: [{ path: "args.x", op, value: expected }], on_deny: "No." }] } },
    });
    expect(parsePolicy(document).ok).toBe(true);
  });

  it("covers every operator's value types in the table above", () => {
    expect(Object.keys(TYPES_OF_OPERATOR).sort()).toEqual([...OPERATORS].sort());
  });

  it("a type the operator does not take reads as the operator's own (gt with a string type reads a number)", () => {
    const form = readForm(
      posted({
        "tool.0.require.0.on_deny": "x",
        "tool.0.require.0.cond.0.path": "args.a",
        "tool.0.require.0.cond.0.op": "gt",
        "tool.0.require.0.cond.0.type": "string",
        "tool.0.require.0.cond.0.value": "4",
      }),
    );
    expect(form.tools[0]!.require[0]!.conditions[0]!.type).toBe("number");
    expect(formToPolicy(form)).toMatchObject({ tools: { pay: { require: [{ conditions: [{ value: 4 }] }] } } });
  });

  it("an unfinished value goes into the document as typed, so parsePolicy names it by pointer", () => {
    const document = formToPolicy(
      readForm(
        posted({
          "tool.0.limit.0.counter": "",
          "tool.0.limit.0.window": "seconds",
          "tool.0.limit.0.seconds": "1.5",
          "tool.0.limit.0.max": "1o",
          "tool.0.deny_if.0.on_deny": "",
          "tool.0.deny_if.0.cond.0.path": "amount",
          "tool.0.deny_if.0.cond.0.op": "in",
          "tool.0.deny_if.0.cond.0.type": "json",
          "tool.0.deny_if.0.cond.0.value": "[1,",
        }),
      ),
    );
    const result = parsePolicy(document);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual(
      expect.arrayContaining([
        { path: "/tools/pay/deny_if/0/conditions/0/path", message: expect.stringContaining("args.<field>") },
        { path: "/tools/pay/deny_if/0/conditions/0/value", message: "expected a list" },
        { path: "/tools/pay/deny_if/0/on_deny", message: "expected a non-empty message" },
        { path: "/tools/pay/limits/0/counter", message: "expected a non-empty counter name" },
        { path: "/tools/pay/limits/0/window", message: "expected a positive whole number of seconds" },
        { path: "/tools/pay/limits/0/max", message: expect.stringContaining("expected") },
      ]),
    );
  });

  it("access: allow lists the tool, default leaves it out, hide hides it (and drops its rules)", () => {
    const form = readForm([
      ["default", "deny"],
      ["tool.0.name", "a"],
      ["tool.0.access", "allow"],
      ["tool.1.name", "b"],
      ["tool.1.access", "default"],
      ["tool.2.name", "c"],
      ["tool.2.access", "hide"],
      ["tool.2.limit.0.counter", "c_rate"],
      ["tool.2.limit.0.window", "minute"],
      ["tool.2.limit.0.max", "5"],
    ]);
    expect(formToPolicy(form)).toEqual({ version: "1", default: "deny", hide: ["c"], tools: { a: {} } });
    // The hidden tool's limit stays in the form, so un-hiding it brings it back.
    expect(form.tools[2]!.limits).toHaveLength(1);
  });

  it("document-level fields: default, mode, hide every tool, $schema", () => {
    const form = readForm([
      ["default", "allow"],
      ["mode", "monitor"],
      ["hide_all", "on"],
      ["schema", "https://x/schema"],
    ]);
    expect(formToPolicy(form)).toEqual({ $schema: "https://x/schema", version: "1", default: "allow", mode: "monitor", hide: ["*"] });
  });

  it("ignores unknown fields and junk choices, never a tool name in a field name", () => {
    const form = readForm([
      ["default", "maybe"],
      ["tool.0.name", "x"],
      ["tool.0.access", "sometimes"],
      ["__proto__", "1"],
      ["tool.x.name", "y"],
    ]);
    expect(form.default).toBe("deny");
    expect(form.tools).toEqual([{ name: "x", access: "default", limits: [], require: [], deny_if: [] }]);
  });
});

describe("structural edits", () => {
  const base = (): BuilderForm => emptyForm(["read", "write"]);

  it("adds and removes limits, rules and conditions, and keeps the row it touched", () => {
    let { form, touched } = applyAction(base(), "add-limit:tool.1");
    expect(touched).toBe(1);
    expect(form.tools[1]).toMatchObject({ access: "allow", limits: [{ counter: "write_rate", window: "minute", max: "60", scope: "grant" }] });
    ({ form } = applyAction(form, "add-rule:tool.1:deny_if"));
    ({ form } = applyAction(form, "add-condition:tool.1:deny_if:0"));
    expect(form.tools[1]!.deny_if[0]!.conditions).toHaveLength(2);
    ({ form } = applyAction(form, "remove-condition:tool.1:deny_if:0:0"));
    expect(form.tools[1]!.deny_if[0]!.conditions).toHaveLength(1);
    ({ form } = applyAction(form, "remove-rule:tool.1:deny_if:0"));
    ({ form } = applyAction(form, "remove-limit:tool.1:0"));
    expect(form.tools[1]).toMatchObject({ access: "allow", limits: [], deny_if: [] });
    ({ form, touched } = applyAction(form, "add-limit:all"));
    expect(touched).toBeNull();
    expect(form.allLimits).toHaveLength(1);
  });

  it("an unknown action or row changes nothing", () => {
    const form = base();
    expect(applyAction(form, "add-limit:tool.9").form).toBe(form);
    expect(applyAction(form, "explode:all").form).toBe(form);
    expect(applyAction(form, "add-rule:tool.0:approve_if").form).toBe(form);
  });

  it("names every counter with the tools that share it", () => {
    const form = policyToForm(parsed(FULL_POLICY), []);
    expect(countersOf(form).get("calls")).toEqual(["all tools", "create_refund", "not_in_catalogue"]);
    expect(countersOf(form).get("refunds")).toEqual(["create_refund"]);
  });
});

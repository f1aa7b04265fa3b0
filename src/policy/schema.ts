/**
 * The policy document: PolicyLayer's `policy.json` version "1", plus this project's extensions
 * (docs/policy.md).
 *
 * Every object is strict: an unknown key is an error, so a typo (`"deny_iff"`, `"limts"`) can never
 * silently drop a rule and weaken a policy.
 *
 * `parsePolicy` is the only way a document enters the system; what it returns is deeply frozen,
 * and its regular expressions are known to compile with RE2.
 */
import { z } from "zod";
import { canonicalJson } from "../canonical-json";
import { sha256Hex } from "../digest";
import { err, ok, type Result } from "../result";
export { formatPolicyErrors, pointer, pointerSegment, type PolicyError } from "./errors";
import { type PolicyError, readableIssue, toPolicyErrors } from "./errors";
import { DURATION_TEXT, durationSeconds, MAX_APPROVAL_TIMEOUT_SECONDS } from "./duration";
import { compilePattern, MAX_POLICY_PATTERNS, MAX_TOOL_PATTERN_SIZE, patternSize } from "./pattern";

export const OPERATORS = ["eq", "neq", "lt", "lte", "gt", "gte", "in", "not_in", "exists", "regex", "contains"] as const;
export const WINDOWS = ["minute", "hour", "day"] as const;

/** A message for a wrong value; a missing required key says "required" instead. */
const expecting = (message: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "required" : message),
});

const quoted = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(" | ");

/**
 * `args.<field>[.<field>…]`. Fields are split on "." and must be non-empty; a field whose own name
 * contains a dot cannot be addressed. Fields address object members only (no array indexes).
 */
const argumentPath = z
  .string(expecting('expected a string "args.<field>"'))
  .regex(/^args(\.[^.]+)+$/, { error: 'expected "args.<field>" or "args.<field>.<field>…" with non-empty fields' });

/** What `eq`, `neq`, `contains` and list elements compare against: JSON scalars except null. */
const scalar = z.union([z.string(), z.number(), z.boolean()], expecting("expected a string, number or boolean"));

const number = z.number(expecting("expected a number"));

/**
 * Compiled here with the engine that will run it (RE2, src/policy/pattern.ts), so a pattern that
 * could not run in linear time (a backreference, a lookaround) is refused at save time, never
 * found on a live call.
 */
const pattern = z.string(expecting("expected a regular expression as a string")).check((ctx) => {
  const compiled = compilePattern(ctx.value);
  if (!compiled.ok) ctx.issues.push({ code: "custom", input: ctx.value, message: compiled.error });
});

const condition = <Op extends string, V extends z.ZodType>(op: Op, value: V) => z.strictObject({ path: argumentPath, op: z.literal(op), value });

export const conditionSchema = z.discriminatedUnion(
  "op",
  [
    condition("eq", scalar),
    condition("neq", scalar),
    condition("lt", number),
    condition("lte", number),
    condition("gt", number),
    condition("gte", number),
    condition("in", z.array(scalar, expecting("expected a list"))),
    condition("not_in", z.array(scalar, expecting("expected a list"))),
    condition("exists", z.boolean(expecting("expected true or false"))),
    condition("regex", pattern),
    condition("contains", scalar),
  ],
  { error: `expected one of ${quoted(OPERATORS)}` },
);

export const ruleSchema = z.strictObject({
  conditions: z.array(conditionSchema, expecting("expected a list of conditions")),
  on_deny: z.string(expecting("expected the message an agent sees when the rule denies")).regex(/\S/, { error: "expected a non-empty message" }),
});

const windowSchema = z.union(
  [
    z.enum(WINDOWS),
    z.number().int({ error: "expected a positive whole number of seconds" }).positive({ error: "expected a positive whole number of seconds" }),
  ],
  {
    error: (issue) =>
      issue.input === undefined
        ? "required"
        : typeof issue.input === "string"
          ? `expected ${quoted(WINDOWS)}`
          : typeof issue.input === "number"
            ? "expected a positive whole number of seconds"
            : `expected ${quoted(WINDOWS)} or a positive whole number of seconds`,
  },
);

export const limitSchema = z.strictObject({
  counter: z.string(expecting("expected a counter name")).min(1, { error: "expected a non-empty counter name" }),
  window: windowSchema,
  max: z
    .number(expecting("expected a positive whole number"))
    .int({ error: "expected a positive whole number" })
    .positive({ error: "expected a positive whole number" }),
  // Absent means "grant", as in every PolicyLayer example. "server": one count for every grant of
  // the server, kept by the server's Durable Object (docs/policy.md, "Server-wide limits").
  scope: z.enum(["grant", "server"], expecting('expected "grant" | "server"')).optional(),
  cost: argumentPath.optional(),
});

/** A key that the spec reserves for an extension this gateway does not enforce yet. */
type RulesWithConditions = { require?: { conditions: Condition[] }[]; deny_if?: { conditions: Condition[] }[]; approve_if?: { conditions: Condition[] }[] };

/** Every `regex` condition of one tool's rules, with its path relative to the tool. */
function* regexConditionsOf(rules: RulesWithConditions): Generator<[path: (string | number)[], pattern: string]> {
  for (const list of ["require", "deny_if", "approve_if"] as const) {
    for (const [i, rule] of (rules[list] ?? []).entries()) {
      for (const [j, c] of rule.conditions.entries()) {
        if (c.op === "regex") yield [[list, i, "conditions", j, "value"], c.value];
      }
    }
  }
}

const DURATION_EXPECTED = 'expected a duration such as "30s", "15m" or "24h", or a whole number of seconds';

/** How long an approval request stays open: at most 7 days, since its argument values are kept that long. */
const approvalTimeoutSchema = z
  .union(
    [z.string().regex(DURATION_TEXT, { error: DURATION_EXPECTED }), z.number().int({ error: DURATION_EXPECTED }).positive({ error: DURATION_EXPECTED })],
    expecting(DURATION_EXPECTED),
  )
  .check((ctx) => {
    const seconds = durationSeconds(ctx.value);
    if (seconds !== null && seconds > MAX_APPROVAL_TIMEOUT_SECONDS) {
      ctx.issues.push({ code: "custom", input: ctx.value, message: `at most 7 days (${MAX_APPROVAL_TIMEOUT_SECONDS} seconds)` });
    }
  });

export const toolRulesSchema = z
  .strictObject({
    require: z.array(ruleSchema, expecting("expected a list of rules")).optional(),
    deny_if: z.array(ruleSchema, expecting("expected a list of rules")).optional(),
    // Checked only once nothing above denies: a call that passes needs a person's approval.
    approve_if: z.array(ruleSchema, expecting("expected a list of rules")).optional(),
    approve: z.boolean(expecting("expected true or false")).optional(),
    approval_timeout: approvalTimeoutSchema.optional(),
    limits: z.array(limitSchema, expecting("expected a list of limits")).optional(),
  })
  .check((ctx) => {
    // One call can run every pattern of its tool: their total bounds a call's matching work.
    let total = 0;
    for (const [, pattern] of regexConditionsOf(ctx.value)) total += patternSize(pattern) ?? 0;
    if (total > MAX_TOOL_PATTERN_SIZE) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message:
          `the regex patterns of this tool compile to ${total} RE2 instructions together, more than ` +
          `${MAX_TOOL_PATTERN_SIZE}; a call is checked against all of them (see docs/policy.md)`,
      });
    }
  });

const toolName = z.string().min(1, { error: "a tool name cannot be empty" });
const hiddenName = z.string(expecting("expected a tool name")).min(1, { error: "a tool name cannot be empty" });

const toolsSchema = z.preprocess(
  (raw, ctx) => {
    // zod's record drops a "__proto__" key without a word (it cannot be assigned safely); a tool
    // of that name would then lose its rules under `default: "allow"`. Refuse it instead.
    if (typeof raw === "object" && raw !== null && Object.hasOwn(raw, "__proto__")) {
      ctx.issues.push({
        code: "custom",
        input: raw,
        path: ["__proto__"],
        message: 'a tool named "__proto__" cannot be configured',
      });
    }
    return raw;
  },
  z.record(toolName, toolRulesSchema, expecting("expected an object of tool names to rules")),
);

export const policySchema = z
  .strictObject({
    // Names a JSON Schema for editors (docs/policy.schema.json); not part of the policy's meaning.
    $schema: z.string(expecting("expected the URL of a JSON Schema as a string")).optional(),
    version: z.literal("1", expecting('expected "1"')),
    default: z.enum(["allow", "deny"], expecting('expected "allow" | "deny"')),
    hide: z.array(hiddenName, expecting("expected a list of tool names")).optional(),
    all_tools: z.strictObject({ limits: z.array(limitSchema, expecting("expected a list of limits")).optional() }).optional(),
    tools: toolsSchema.optional(),
    mode: z.enum(["enforce", "monitor"], expecting('expected "enforce" | "monitor"')).default("enforce"),
    // Tool pinning (docs/policy.md, "Tool pinning"): a tool whose definition changed is blocked.
    pin_tools: z.boolean(expecting("expected true or false")).optional(),
  })
  .check((ctx) => {
    // Every pattern is compiled whenever the policy is parsed, including each time a grant loads it.
    let count = 0;
    for (const [tool, rules] of Object.entries(ctx.value.tools ?? {})) {
      for (const [path] of regexConditionsOf(rules)) {
        if (++count === MAX_POLICY_PATTERNS + 1) {
          ctx.issues.push({
            code: "custom",
            input: ctx.value,
            path: ["tools", tool, ...path],
            message: `more than ${MAX_POLICY_PATTERNS} regex conditions in one policy (see docs/policy.md)`,
          });
          return;
        }
      }
    }
  });

export type PolicyDocument = z.infer<typeof policySchema>;
export type ToolRules = z.infer<typeof toolRulesSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type Limit = z.infer<typeof limitSchema>;

export function parsePolicy(input: unknown): Result<PolicyDocument, PolicyError[]> {
  const parsed = policySchema.safeParse(input, { error: readableIssue });
  if (!parsed.success) return err(parsed.error.issues.flatMap(toPolicyErrors));
  return ok(deepFreeze(parsed.data));
}

/** SHA-256 (hex) of a document's canonical JSON: what audit records and grants name a policy by. */
export function policySha256(document: PolicyDocument): string {
  return sha256Hex(canonicalJson(document));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

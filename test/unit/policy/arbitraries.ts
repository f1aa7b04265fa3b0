/**
 * fast-check generators for policy documents and tool-call arguments over a small alphabet, so
 * that random tool names, fields and values collide often enough to exercise every branch.
 */
import fc from "fast-check";

/** Names a policy may list or hide: plain, confusable (Cyrillic е), prototype-shaped, outside the charset. */
export const policyToolNames = ["read", "write", "delete", "d\u0435lete", "constructor", "toString", "x y", "a/b~c"];
/** Names an agent may call: the above plus unlisted, bidi, empty and "*" names. */
export const calledToolNames = [...policyToolNames, "other", "__proto__", "\u202Edaer", "", "*", "Read"];

const fields = ["a", "b", "constructor"];
const scalars = [0, 1, 5, -1, 2.5, "1", "5", "x", "", "true", true, false];

/**
 * What an agent may send besides: numbers spelled as strings the way upstreams coerce them, strings
 * that are no number although Number() reads some of them (blank, "1_0", "Infinity"), Unicode and
 * vertical whitespace for `\s`, and strings on either side of the `regex` length limit.
 */
const argumentOnlyScalars = [" 5 ", "5.0", "0x5", "1e0", "+5", "-0", "2.5e0", "  ", "1_0", "Infinity", "NaN", "x\u00a0", "\u000b", "a b", "x1"];
const longStrings = ["x".repeat(65_536), "x".repeat(65_537)];

const scalar = fc.constantFrom(...scalars);
const argumentScalar = fc.oneof(
  { arbitrary: fc.constantFrom(...scalars, ...argumentOnlyScalars), weight: 20 },
  { arbitrary: fc.constantFrom(...longStrings), weight: 4 },
);
const path = fc.array(fc.constantFrom(...fields), { minLength: 1, maxLength: 2 }).map((parts) => `args.${parts.join(".")}`);

export const conditionInput = fc.oneof(
  { arbitrary: fc.record({ path, op: fc.constantFrom("eq", "neq", "contains"), value: scalar }), weight: 1 },
  { arbitrary: fc.record({ path, op: fc.constantFrom("lt", "lte", "gt", "gte"), value: fc.constantFrom(0, 1, 5, -1, 2.5) }), weight: 1 },
  { arbitrary: fc.record({ path, op: fc.constantFrom("in", "not_in"), value: fc.array(scalar, { maxLength: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ path, op: fc.constant("exists"), value: fc.boolean() }), weight: 1 },
  {
    arbitrary: fc.record({ path, op: fc.constant("regex"), value: fc.constantFrom("^x$", "x", "1", "^$", "[0-9]", "\\s", "^\\S+$", "x\\s?1", "^(x+)+$") }),
    weight: 2,
  },
);

const rule = fc.record({
  conditions: fc.array(conditionInput, { maxLength: 3 }),
  on_deny: fc.constantFrom("no", "not like that"),
});

const limit = fc.record(
  {
    counter: fc.constantFrom("calls", "refunds"),
    window: fc.constantFrom<string | number>("minute", "hour", "day", 1, 90),
    max: fc.integer({ min: 1, max: 100 }),
    scope: fc.constant("grant"),
    cost: path,
  },
  { requiredKeys: ["counter", "window", "max"] },
);

const toolRules = fc.record(
  {
    require: fc.array(rule, { maxLength: 2 }),
    deny_if: fc.array(rule, { maxLength: 2 }),
    limits: fc.array(limit, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

export const policyInput = fc.record(
  {
    version: fc.constant("1"),
    default: fc.constantFrom("allow", "deny"),
    hide: fc.array(fc.constantFrom(...policyToolNames, "*"), { maxLength: 2 }),
    all_tools: fc.record({ limits: fc.array(limit, { maxLength: 2 }) }, { requiredKeys: [] }),
    tools: fc.dictionary(fc.constantFrom(...policyToolNames), toolRules, { maxKeys: 4 }),
    mode: fc.constantFrom("enforce", "monitor"),
  },
  { requiredKeys: ["version", "default"] },
);

/**
 * Documents that always reach the rules: the tool "read" is listed with rules and nothing hides
 * it, so every run exercises require and deny_if (most runs of policyInput stop at steps 1–3).
 */
export const rulesOfReadInput = fc.record({
  version: fc.constant("1"),
  default: fc.constantFrom("allow", "deny"),
  tools: fc.record({ read: fc.record({ require: fc.array(rule, { maxLength: 2 }), deny_if: fc.array(rule, { maxLength: 2 }) }, { requiredKeys: [] }) }),
});

const argumentValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    argumentScalar,
    fc.constant(null),
    // Flat lists of scalars: what `contains` reads as a list and a string-reading upstream joins.
    fc.array(argumentScalar, { minLength: 1, maxLength: 3 }),
    fc.array(tie("value"), { maxLength: 2 }),
    fc.dictionary(fc.constantFrom(...fields), tie("value"), { maxKeys: 2 }),
  ),
})).value;

export const toolArguments = fc.dictionary(fc.constantFrom(...fields), argumentValue, { maxKeys: 3 }) as fc.Arbitrary<Record<string, unknown>>;

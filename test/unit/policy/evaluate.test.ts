import { describe, expect, test } from "vitest";
import { evaluateToolCall, type Evaluation } from "../../../src/policy/evaluate";
import { formatPolicyErrors, parsePolicy, type PolicyDocument } from "../../../src/policy/schema";
import { EXAMPLE_POLICY } from "./example";

function policyOf(input: unknown): PolicyDocument {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(formatPolicyErrors(parsed.error));
  return parsed.value;
}

/** The decision without the LimitRequests, for tables; a concealed hidden tool reads as hidden. */
function verdict(e: Evaluation): string {
  if (e.kind === "allow") return "allow";
  if (e.kind === "conceal") return `hidden ${e.rule}`;
  if (e.kind === "approve") return `approve ${e.approval.rule}`;
  return `${e.code} ${e.rule ?? "-"}`;
}

describe("the example of POLICY.md behaves as described", () => {
  const policy = policyOf(EXAMPLE_POLICY);

  test.each<[string, string, Record<string, unknown>, string]>([
    ["listed tool with no rules", "list_customers", {}, "allow"],
    ["refund with a reason", "create_refund", { reason: "damaged", amount: 50 }, "allow"],
    ["refund at the cap", "create_refund", { reason: "damaged", amount: 10000 }, "allow"],
    ["refund without a reason", "create_refund", { amount: 50 }, "require /tools/create_refund/require/0"],
    ["refund with a null reason", "create_refund", { reason: null, amount: 50 }, "require /tools/create_refund/require/0"],
    ["refund over the cap", "create_refund", { reason: "x", amount: 10001 }, "deny_if /tools/create_refund/deny_if/0"],
    ["require is checked before deny_if", "create_refund", { amount: 10001 }, "require /tools/create_refund/require/0"],
    ["hidden tool", "delete_account", {}, "hidden /hide/0"],
    ["unlisted tool under default deny", "drop_database", {}, "not_permitted /default"],
  ])("%s", (_d, tool, args, expected) => {
    expect(verdict(evaluateToolCall(policy, tool, args))).toBe(expected);
  });

  test("denials carry the author's messages", () => {
    expect(evaluateToolCall(policy, "create_refund", { amount: 1 })).toEqual({
      kind: "deny",
      code: "require",
      rule: "/tools/create_refund/require/0",
      message: "Refunds need a reason.",
    });
    expect(evaluateToolCall(policy, "create_refund", { reason: "x", amount: 20000 })).toMatchObject({
      message: "Refund exceeds the policy limit.",
    });
    expect(evaluateToolCall(policy, "drop_database", {})).toMatchObject({
      message: 'Tool "drop_database" is not permitted by policy',
    });
    expect(evaluateToolCall(policy, "delete_account", {})).toMatchObject({ message: "Tool delete_account not found" });
  });

  test("an allowed refund reserves the tool's limit, then all_tools'", () => {
    expect(evaluateToolCall(policy, "create_refund", { reason: "x", amount: 1 })).toEqual({
      kind: "allow",
      limits: [
        { rule: "/tools/create_refund/limits/0", counter: "create_refund_rate", windowSeconds: 60, max: 10, cost: 1, scope: "grant" },
        { rule: "/all_tools/limits/0", counter: "calls", windowSeconds: 60, max: 60, cost: 1, scope: "grant" },
      ],
    });
    expect(evaluateToolCall(policy, "list_customers", {})).toEqual({
      kind: "allow",
      limits: [{ rule: "/all_tools/limits/0", counter: "calls", windowSeconds: 60, max: 60, cost: 1, scope: "grant" }],
    });
  });
});

describe("step 1: no policy", () => {
  test("denies every call", () => {
    expect(evaluateToolCall(null, "anything", {})).toEqual({
      kind: "deny",
      code: "no_policy",
      rule: null,
      message: "No policy is attached to this grant",
    });
  });
});

describe("the first denial wins", () => {
  // Every step would deny "t": the table removes them one at a time, earliest first.
  const rejectEverything = {
    version: "1",
    default: "deny",
    hide: ["other", "t"],
    tools: {
      t: {
        require: [
          { conditions: [], on_deny: "require 0 holds" },
          { conditions: [{ path: "args.missing", op: "exists", value: true }], on_deny: "require 1" },
          { conditions: [{ path: "args.also_missing", op: "exists", value: true }], on_deny: "require 2" },
        ],
        deny_if: [
          { conditions: [{ path: "args.x", op: "eq", value: 2 }], on_deny: "deny_if 0 does not hold" },
          { conditions: [], on_deny: "deny_if 1" },
          { conditions: [], on_deny: "deny_if 2" },
        ],
        limits: [{ counter: "c", window: "minute", max: 1, cost: "args.n" }],
      },
    },
  };
  const t = rejectEverything.tools.t;

  test.each<[string, unknown, string, string]>([
    ["hidden before everything", rejectEverything, "hidden /hide/1", "Tool t not found"],
    ["require, in order", { ...rejectEverything, hide: [] }, "require /tools/t/require/1", "require 1"],
    ["deny_if after require, in order", { ...rejectEverything, hide: [], tools: { t: { ...t, require: [] } } }, "deny_if /tools/t/deny_if/1", "deny_if 1"],
    [
      "invalid cost after deny_if",
      { ...rejectEverything, hide: [], tools: { t: { ...t, require: [], deny_if: [] } } },
      "invalid_cost /tools/t/limits/0",
      'This call must give args.n as a number of at least 0 (it is counted against "c")',
    ],
    ["not permitted before require", { ...rejectEverything, hide: [], tools: { other: t } }, "not_permitted /default", 'Tool "t" is not permitted by policy'],
  ])("%s", (_d, input, expected, message) => {
    const e = evaluateToolCall(policyOf(input), "t", { x: 1 });
    expect(verdict(e)).toBe(expected);
    expect(e).toMatchObject({ message });
  });

  test('"*" in hide hides every tool, listed or not; the rule names the entry that matched', () => {
    const policy = policyOf({ version: "1", default: "allow", hide: ["a", "*"], tools: { a: {}, b: {} } });
    expect(verdict(evaluateToolCall(policy, "a", {}))).toBe("hidden /hide/0");
    expect(verdict(evaluateToolCall(policy, "b", {}))).toBe("hidden /hide/1");
    expect(verdict(evaluateToolCall(policy, "zzz", {}))).toBe("hidden /hide/1");
  });

  test("an empty deny_if blocks every call of the tool", () => {
    const policy = policyOf({
      version: "1",
      default: "allow",
      tools: { rm: { deny_if: [{ conditions: [], on_deny: "Never." }] } },
    });
    expect(evaluateToolCall(policy, "rm", { anything: 1 })).toEqual({
      kind: "deny",
      code: "deny_if",
      rule: "/tools/rm/deny_if/0",
      message: "Never.",
    });
    expect(evaluateToolCall(policy, "ls", {}).kind).toBe("allow");
  });
});

describe("default allow", () => {
  const policy = policyOf({
    version: "1",
    default: "allow",
    all_tools: { limits: [{ counter: "calls", window: "hour", max: 100 }] },
    tools: { deploy: { require: [{ conditions: [{ path: "args.env", op: "eq", value: "staging" }], on_deny: "Staging only." }] } },
  });

  test("an unlisted tool is allowed and consumes all_tools limits only", () => {
    expect(evaluateToolCall(policy, "read_file", {})).toEqual({
      kind: "allow",
      limits: [{ rule: "/all_tools/limits/0", counter: "calls", windowSeconds: 3600, max: 100, cost: 1, scope: "grant" }],
    });
  });

  test("a listed tool still has its rules", () => {
    expect(verdict(evaluateToolCall(policy, "deploy", { env: "prod" }))).toBe("require /tools/deploy/require/0");
    expect(verdict(evaluateToolCall(policy, "deploy", { env: "staging" }))).toBe("allow");
  });
});

describe("tool names match exactly, byte for byte", () => {
  const denyDefault = policyOf({
    version: "1",
    default: "deny",
    tools: { delete: {}, "fs/rm~x": { deny_if: [{ conditions: [], on_deny: "no" }] }, "e\u0301": {} },
  });
  const allowDefault = policyOf({
    version: "1",
    default: "allow",
    tools: { delete: { deny_if: [{ conditions: [], on_deny: "Deleting is blocked." }] }, ünïcode: {} },
  });

  test.each<[string, PolicyDocument, string, string]>([
    ["exact name", denyDefault, "delete", "allow"],
    ["case differs", denyDefault, "Delete", "not_permitted /default"],
    ["trailing space is outside the charset", denyDefault, "delete ", "invalid_name -"],
    ["Cyrillic е under default deny", denyDefault, "d\u0435lete", "invalid_name -"],
    ["Cyrillic е under default allow does not escape delete's deny_if as delete", allowDefault, "d\u0435lete", "invalid_name -"],
    ["the real delete under default allow", allowDefault, "delete", "deny_if /tools/delete/deny_if/0"],
    ["U+202E bidi override under default allow", allowDefault, "\u202Eeteled", "invalid_name -"],
    ["zero-width space under default allow", allowDefault, "del\u200Bete", "invalid_name -"],
    ["empty name under default allow", allowDefault, "", "invalid_name -"],
    ["129 characters under default allow", allowDefault, "a".repeat(129), "invalid_name -"],
    ["128 characters under default allow", allowDefault, "a".repeat(128), "allow"],
    ["dots, dashes and underscores are in the charset", allowDefault, "fs.read-file_2", "allow"],
    ["a listed non-charset name is allowed", allowDefault, "ünïcode", "allow"],
    ["NFC form does not match a listed NFD name", denyDefault, "\u00e9", "invalid_name -"],
    ["the listed NFD name itself", denyDefault, "e\u0301", "allow"],
    ["a listed name with / and ~ escapes in its pointer", denyDefault, "fs/rm~x", "deny_if /tools/fs~1rm~0x/deny_if/0"],
  ])("%s", (_d, policy, tool, expected) => {
    expect(verdict(evaluateToolCall(policy, tool, {}))).toBe(expected);
  });

  test("an invalid name is answered like an unknown tool", () => {
    expect(evaluateToolCall(allowDefault, "\u202Eeteled", {})).toMatchObject({ message: "Tool \u202Eeteled not found" });
  });

  test.each(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"])("%s is not listed by inheritance under default deny", (tool) => {
    expect(verdict(evaluateToolCall(denyDefault, tool, {}))).toBe("not_permitted /default");
  });

  test("a tool literally named constructor can be listed", () => {
    const policy = policyOf({ version: "1", default: "deny", tools: { constructor: {} } });
    expect(verdict(evaluateToolCall(policy, "constructor", {}))).toBe("allow");
    expect(verdict(evaluateToolCall(policy, "toString", {}))).toBe("not_permitted /default");
  });
});

describe("limits", () => {
  const limits = (tool: unknown, all: unknown) => policyOf({ version: "1", default: "deny", all_tools: { limits: all }, tools: { pay: { limits: tool } } });

  test("windows become seconds", () => {
    const policy = limits(
      [
        { counter: "a", window: "minute", max: 1 },
        { counter: "b", window: "hour", max: 2 },
        { counter: "c", window: "day", max: 3 },
        { counter: "d", window: 90, max: 4 },
      ],
      [],
    );
    const e = evaluateToolCall(policy, "pay", {});
    expect(e.kind === "allow" && e.limits.map((l) => [l.counter, l.windowSeconds, l.max])).toEqual([
      ["a", 60, 1],
      ["b", 3600, 2],
      ["c", 86400, 3],
      ["d", 90, 4],
    ]);
  });

  test("limits naming the same counter come out with that same counter, tool's first", () => {
    const policy = limits(
      [
        { counter: "refunds", window: "minute", max: 5 },
        { counter: "refunds", window: "day", max: 100 },
      ],
      [{ counter: "refunds", window: "hour", max: 50 }],
    );
    expect(evaluateToolCall(policy, "pay", {})).toEqual({
      kind: "allow",
      limits: [
        { rule: "/tools/pay/limits/0", counter: "refunds", windowSeconds: 60, max: 5, cost: 1, scope: "grant" },
        { rule: "/tools/pay/limits/1", counter: "refunds", windowSeconds: 86400, max: 100, cost: 1, scope: "grant" },
        { rule: "/all_tools/limits/0", counter: "refunds", windowSeconds: 3600, max: 50, cost: 1, scope: "grant" },
      ],
    });
  });

  const costly = limits(
    [{ counter: "refund_total", window: "day", max: 10000, cost: "args.refund.amount" }],
    [{ counter: "calls", window: "minute", max: 60 }],
  );

  test.each<[string, Record<string, unknown>, number]>([
    ["a whole amount", { refund: { amount: 250 } }, 250],
    ["a fractional amount", { refund: { amount: 12.5 } }, 12.5],
    ["zero", { refund: { amount: 0 } }, 0],
    ["a numeric string, as a coercing upstream would charge it", { refund: { amount: "250" } }, 250],
    ["a padded exponent string", { refund: { amount: " 2.5e2 " } }, 250],
    ["a hex string", { refund: { amount: "0xfa" } }, 250],
    ["-0, as 0", { refund: { amount: "-0" } }, 0],
  ])("cost from the argument: %s", (_d, args, cost) => {
    const e = evaluateToolCall(costly, "pay", args);
    expect(e.kind === "allow" && e.limits.map((l) => l.cost)).toEqual([cost, 1]);
  });

  test.each<[string, Record<string, unknown>]>([
    ["missing", { refund: {} }],
    ["missing parent", {}],
    ["negative", { refund: { amount: -1 } }],
    ["a negative string", { refund: { amount: "-1" } }],
    ["an empty string (Number reads 0)", { refund: { amount: "" } }],
    ["a blank string", { refund: { amount: "  " } }],
    ["a string with digit separators", { refund: { amount: "1_000" } }],
    ["the string Infinity", { refund: { amount: "Infinity" } }],
    ["true", { refund: { amount: true } }],
    ["null", { refund: { amount: null } }],
    ["NaN", { refund: { amount: Number.NaN } }],
    ["Infinity", { refund: { amount: Number.POSITIVE_INFINITY } }],
    ["a list", { refund: { amount: [5] } }],
  ])("a cost argument that is %s is denied, without echoing the value", (_d, args) => {
    const e = evaluateToolCall(costly, "pay", args);
    expect(e).toEqual({
      kind: "deny",
      code: "invalid_cost",
      rule: "/tools/pay/limits/0",
      message: 'This call must give args.refund.amount as a number of at least 0 (it is counted against "refund_total")',
    });
  });

  test("an all_tools cost names the all_tools limit", () => {
    const policy = limits([], [{ counter: "bytes", window: "hour", max: 1000, cost: "args.size" }]);
    expect(verdict(evaluateToolCall(policy, "pay", {}))).toBe("invalid_cost /all_tools/limits/0");
  });
});

describe("a rule an argument cannot settle denies, under require and deny_if alike", () => {
  const policy = policyOf({
    version: "1",
    default: "deny",
    tools: {
      refund: {
        deny_if: [
          { conditions: [{ path: "args.amount", op: "gt", value: 10000 }], on_deny: "Refund exceeds the policy limit." },
          {
            conditions: [
              { path: "args.fee", op: "gt", value: 5 },
              { path: "args.currency", op: "eq", value: "USD" },
            ],
            on_deny: "USD fees above 5 need approval.",
          },
          { conditions: [{ path: "args.note", op: "regex", value: "^(\\w+\\s?)*$" }], on_deny: "Notes must not be plain words." },
        ],
      },
      transfer: {
        require: [{ conditions: [{ path: "args.amount", op: "lte", value: 100 }], on_deny: "Transfers are capped at 100." }],
      },
    },
  });

  test.each<[string, string, Record<string, unknown>, string, string]>([
    ["deny_if over a string above the cap", "refund", { amount: "20000" }, "deny_if /tools/refund/deny_if/0", "Refund exceeds the policy limit."],
    ["deny_if over a padded exponent", "refund", { amount: " 2e4 " }, "deny_if /tools/refund/deny_if/0", "Refund exceeds the policy limit."],
    ["deny_if over a list", "refund", { amount: [20000] }, "deny_if /tools/refund/deny_if/0", "args.amount is not a number"],
    ["deny_if over a boolean", "refund", { amount: true }, "deny_if /tools/refund/deny_if/0", "args.amount is not a number"],
    ["deny_if over an empty string", "refund", { amount: "" }, "deny_if /tools/refund/deny_if/0", "args.amount is not a number"],
    ["deny_if over an unsettled and a true condition", "refund", { fee: "x", currency: "USD" }, "deny_if /tools/refund/deny_if/1", "args.fee is not a number"],
    [
      "deny_if over a string too long to check",
      "refund",
      { note: "a".repeat(70_000) },
      "deny_if /tools/refund/deny_if/2",
      "args.note is too long to check (over 65536 characters)",
    ],
    ["require over a numeric string", "transfer", { amount: "1e3" }, "require /tools/transfer/require/0", "Transfers are capped at 100."],
    ["require over a list", "transfer", { amount: [50] }, "require /tools/transfer/require/0", "args.amount is not a number"],
    ["require over null", "transfer", { amount: null }, "require /tools/transfer/require/0", "args.amount is not a number"],
  ])("%s", (_d, tool, args, expected, message) => {
    const e = evaluateToolCall(policy, tool, args);
    expect(verdict(e)).toBe(expected);
    expect(e).toMatchObject({ message });
  });

  test.each<[string, string, Record<string, unknown>]>([
    ["a number under the cap", "refund", { amount: 500 }],
    ["a numeric string under the cap", "refund", { amount: "500" }],
    ["an unsettled condition beside a false one: no reading of fee could make the rule hold", "refund", { fee: "x", currency: "EUR" }],
    ["a missing argument", "refund", {}],
    ["a long string that is not plain words, under the limit", "refund", { note: `${"a".repeat(60_000)}!` }],
    ["require over a numeric string under the cap", "transfer", { amount: " 100 " }],
  ])("allows %s", (_d, tool, args) => {
    expect(verdict(evaluateToolCall(policy, tool, args))).toBe("allow");
  });

  test("the message never carries the argument's value", () => {
    const e = evaluateToolCall(policy, "refund", { amount: ["SECRET-VALUE"] });
    expect(JSON.stringify(e)).not.toContain("SECRET-VALUE");
  });
});

describe("evaluation is pure", () => {
  test("monitor mode still reports the real decision (the Durable Object applies the mode)", () => {
    const policy = policyOf({ version: "1", default: "deny", mode: "monitor" });
    expect(verdict(evaluateToolCall(policy, "x", {}))).toBe("not_permitted /default");
  });

  test("the same inputs give the same answer, and the arguments are not modified", () => {
    const policy = policyOf(EXAMPLE_POLICY);
    const args = { reason: "x", amount: 1, nested: { a: [1] } };
    const before = structuredClone(args);
    const first = evaluateToolCall(policy, "create_refund", args);
    expect(evaluateToolCall(policy, "create_refund", args)).toEqual(first);
    expect(args).toEqual(before);
  });
});

describe("approvals come after everything that denies", () => {
  const over500 = { conditions: [{ path: "args.amount", op: "gt", value: 500 }], on_deny: "Refunds above 500 need a person." };
  const policy = policyOf({
    version: "1",
    default: "deny",
    tools: {
      refund: {
        require: [{ conditions: [{ path: "args.reason", op: "exists", value: true }], on_deny: "Refunds need a reason." }],
        deny_if: [{ conditions: [{ path: "args.amount", op: "gt", value: 10000 }], on_deny: "Refund exceeds the policy limit." }],
        approve_if: [over500],
        limits: [{ counter: "refunds", window: "minute", max: 5, cost: "args.amount" }],
        approval_timeout: "30m",
      },
      deploy: { approve: true, approve_if: [over500] },
      run: { approve: false },
    },
  });

  test.each<[string, string, Record<string, unknown>, string]>([
    ["under the threshold", "refund", { reason: "late", amount: 100 }, "allow"],
    ["over the threshold", "refund", { reason: "late", amount: 900 }, "approve /tools/refund/approve_if/0"],
    ["a numeric string over the threshold", "refund", { reason: "late", amount: "9e2" }, "approve /tools/refund/approve_if/0"],
    ["require first", "refund", { amount: 900 }, "require /tools/refund/require/0"],
    ["deny_if first", "refund", { reason: "late", amount: 20000 }, "deny_if /tools/refund/deny_if/0"],
    ["approve: true, whatever the arguments", "deploy", {}, "approve /tools/deploy/approve"],
    ["approve: false asks nobody", "run", {}, "allow"],
    ["a tool the policy does not list", "other", {}, "not_permitted /default"],
  ])("%s", (_d, tool, args, expected) => {
    expect(verdict(evaluateToolCall(policy, tool, args))).toBe(expected);
  });

  test("the approval carries its message, its timeout and the limits to reserve once approved", () => {
    const e = evaluateToolCall(policy, "refund", { reason: "late", amount: 900 });
    if (e.kind !== "approve") throw new Error(e.kind);
    expect(e.approval).toEqual({ rule: "/tools/refund/approve_if/0", message: "Refunds above 500 need a person.", timeoutSeconds: 1800 });
    expect(e.limits.map((l) => [l.counter, l.cost])).toEqual([["refunds", 900]]);
    const deploy = evaluateToolCall(policy, "deploy", {});
    expect(deploy.kind === "approve" && deploy.approval.timeoutSeconds).toBe(900);
  });

  test("an unreadable argument needs a person's approval, with the path as the reason", () => {
    const e = evaluateToolCall(policy, "refund", { reason: "late", amount: [900] });
    // deny_if over [900] is unsettled first, and denies: approval is never asked for a denied call.
    expect(verdict(e)).toBe("deny_if /tools/refund/deny_if/0");
    const lenient = policyOf({ version: "1", default: "deny", tools: { refund: { approve_if: [over500] } } });
    const unread = evaluateToolCall(lenient, "refund", { amount: [900] });
    expect(unread.kind === "approve" && unread.approval.message).toBe("args.amount is not a number");
  });

  test("an invalid cost denies before anyone is asked", () => {
    expect(verdict(evaluateToolCall(policy, "refund", { reason: "late", amount: "lots" }))).toBe("deny_if /tools/refund/deny_if/0");
    const costly = policyOf({ version: "1", default: "deny", tools: { t: { approve: true, limits: [{ counter: "c", window: 60, max: 9, cost: "args.n" }] } } });
    expect(verdict(evaluateToolCall(costly, "t", {}))).toBe("invalid_cost /tools/t/limits/0");
  });
});

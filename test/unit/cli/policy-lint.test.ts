import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../../src/admin/body";
import { parsePolicy } from "../../../src/policy/schema";
import { lintPolicy, MAX_POLICY_BYTES, nearest } from "../../../src/cli/policy-lint";

const lint = (document: unknown, tools?: string[]) => {
  const text = JSON.stringify(document, null, 2);
  return lintPolicy(text, Buffer.byteLength(text), tools === undefined ? null : { serverId: "crm", tools });
};
const codes = (document: unknown, tools?: string[]) => lint(document, tools).warnings.map((w) => [w.code, w.path]);

describe("lintPolicy errors are the gateway's", () => {
  it.each([
    [{ version: 1, default: "deny" }],
    [{ version: "1", default: "deny", tools: { run: { deny_iff: [], limits: [{ counter: "c", window: "week", max: 0 }] } } }],
    [{ version: "1", default: "deny", tools: { q: { deny_if: [{ conditions: [{ path: "args.q", op: "regex", value: "(a)\\1" }], on_deny: "x" }] } } }],
    [{ version: "1", default: "deny", all_tools: { limits: [{ counter: "", window: 0, max: 1, scope: "server" }] } }],
  ])("%j", (document) => {
    const expected = parsePolicy(document);
    expect(expected.ok).toBe(false);
    const result = lint(document);
    expect(result.document).toBeNull();
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    expect(result.errors.map(({ path, message }) => ({ path, message })).sort(byPath)).toEqual([...(expected.ok ? [] : expected.error)].sort(byPath));
    expect(result.errors.every((e) => e.severity === "error" && e.code === "invalid_policy" && e.line !== undefined)).toBe(true);
  });

  it("locates errors at the key for unknown keys and at the nearest parent for missing ones", () => {
    const text = '{\n  "version": "1",\n  "tools": {\n    "run": { "limitz": [] }\n  }\n}';
    const result = lintPolicy(text, text.length);
    expect(result.errors).toEqual([
      { severity: "error", code: "invalid_policy", path: "/default", message: "required", line: 1, column: 1 },
      { severity: "error", code: "invalid_policy", path: "/tools/run/limitz", message: 'unknown key "limitz" (did you mean "limits"?)', line: 4, column: 14 },
    ]);
  });

  it("refuses text the strict parser refuses, and files over the admin API's size limit", () => {
    expect(lintPolicy('{"version":"1","default":"deny","Tools":{},"tools":{}}', 60).errors).toEqual([
      { severity: "error", code: "invalid_json", path: "", message: "not valid JSON: object keys differ only in case", line: 1, column: expect.any(Number) },
    ]);
    expect(lintPolicy(null, 3).errors[0]).toMatchObject({ code: "invalid_json", message: "the file is not valid UTF-8" });
    expect(MAX_POLICY_BYTES).toBe(MAX_BODY_BYTES);
    expect(lintPolicy("{}", MAX_BODY_BYTES + 1).errors[0]).toMatchObject({ code: "body_too_large" });
  });
});

describe("lintPolicy warnings", () => {
  const base = { version: "1", default: "deny" };
  const limit = (counter: string) => ({ counter, window: "minute", max: 5 });

  it("flags a counter used once whose name breaks the <tool>_rate convention, suggesting a near one", () => {
    expect(codes({ ...base, tools: { pay: { limits: [limit("pay_rate")] } } })).toEqual([]);
    expect(codes({ ...base, tools: { pay: { limits: [limit("money")] }, refund: { limits: [limit("money")] } } })).toEqual([]);
    expect(codes({ ...base, all_tools: { limits: [limit("calls")] } })).toEqual([]);
    const split = lint({ ...base, tools: { pay: { limits: [limit("refund")] }, refund: { limits: [limit("refunds"), limit("refunds")] } } });
    expect(split.warnings).toEqual([
      expect.objectContaining({
        code: "lonely_counter",
        path: "/tools/pay/limits/0/counter",
        message: 'counter "refund" is used by no other limit and is not named "pay_rate"; did you mean "refunds" (used by another limit)?',
      }),
    ]);
  });

  it("flags rules on hidden tools, deny_if negations a missing argument slips past, and monitor mode", () => {
    expect(codes({ ...base, hide: ["pay"], tools: { pay: {}, list: {} } })).toEqual([["hidden_tool_rules", "/tools/pay"]]);
    expect(codes({ ...base, hide: ["*"], tools: { list: {} } })).toEqual([["hidden_tool_rules", "/tools/list"]]);
    const negation = (op: string, value: unknown, require?: unknown) => ({
      ...base,
      tools: {
        run: {
          ...(require ? { require: [{ conditions: [require], on_deny: "need env" }] } : {}),
          deny_if: [{ conditions: [{ path: "args.env", op, value }], on_deny: "no" }],
        },
      },
    });
    expect(codes(negation("neq", "staging"))).toEqual([["unpaired_negation", "/tools/run/deny_if/0/conditions/0"]]);
    expect(codes(negation("not_in", ["a"]))).toEqual([["unpaired_negation", "/tools/run/deny_if/0/conditions/0"]]);
    expect(codes(negation("neq", "staging", { path: "args.env", op: "exists", value: true }))).toEqual([]);
    expect(codes(negation("neq", "staging", { path: "args.other", op: "exists", value: true }))).toHaveLength(1);
    expect(codes(negation("eq", "prod"))).toEqual([]);
    expect(codes({ ...base, mode: "monitor" })).toEqual([["monitor_mode", "/mode"]]);
  });

  it("with the catalogue, flags names under tools and hide that the server does not list", () => {
    const tools = ["list_customers", "delete_account"];
    expect(codes({ ...base, hide: ["*", "delete_account"], tools: { list_customers: {} } }, tools)).toEqual([["hidden_tool_rules", "/tools/list_customers"]]);
    const deny = lint({ ...base, tools: { list_customer: {} } }, tools).warnings;
    expect(deny).toEqual([
      expect.objectContaining({
        code: "unknown_tool",
        message: 'server crm lists no tool "list_customer" (did you mean "list_customers"?); these rules apply to nothing',
      }),
    ]);
    const allow = lint({ version: "1", default: "allow", hide: ["delete_acount"], tools: { zzz: {} } }, tools).warnings;
    expect(allow.map((w) => w.message)).toEqual([
      'server crm lists no tool "delete_acount" (did you mean "delete_account"?); if it is a typo, the real tool is not hidden',
      'server crm lists no tool "zzz"; if it is a typo, the real tool runs without these rules',
    ]);
  });

  it("suggests only names within two edits", () => {
    expect(nearest("refund", ["refunds", "refund_total"])).toBe("refunds");
    expect(nearest("abc", ["xyz"])).toBeNull();
    expect(nearest("same", ["same"])).toBeNull();
  });
});

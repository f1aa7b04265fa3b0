import { describe, expect, it } from "vitest";
import {
  admitRefusal,
  decideMessage,
  needsVisibility,
  RECORDED_REFUSALS_PER_MINUTE,
  retentionSeconds,
  tokenHashMatches,
  type RefusalWindow,
} from "../../../src/grant/decide";
import { withTotals, type CountedEvent } from "../../../src/grant/counters";
import type { MessageSummary } from "../../../src/grant/protocol";
import { parsePolicy, type PolicyDocument } from "../../../src/policy/schema";

function policy(doc: unknown): PolicyDocument {
  const parsed = parsePolicy(doc);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

const limited = (mode: "enforce" | "monitor") =>
  policy({
    version: "1",
    default: "deny",
    mode,
    tools: { refund: { limits: [{ counter: "r", window: "minute", max: 1 }] } },
    all_tools: { limits: [{ counter: "all", window: 7200, max: 100 }] },
  });

const call = (tool: string, args: Record<string, unknown> = {}): MessageSummary => ({ kind: "request", method: "tools/call", id: 1, tool, args });
const none = (): readonly CountedEvent[] => [];
const full = (counter: string): readonly CountedEvent[] => (counter === "r" ? withTotals([{ at: 0, amount: 1 }]) : []);
const noApprovals = { latest: () => null, newId: () => "apr_unused", policy: null, origin: null, requestId: "req-1" };
const at = (
  now: number,
  eventsFor: (counter: string) => readonly CountedEvent[] = none,
  taskBound = (_: string) => false,
  quarantined: ReadonlySet<string> = new Set(),
) => ({
  eventsFor,
  taskBound,
  quarantined,
  now,
  approvals: noApprovals,
});

describe("tokenHashMatches", () => {
  const a = "a".repeat(64);
  it.each([
    { presented: a, expected: true },
    { presented: `${"a".repeat(63)}b`, expected: false },
    { presented: `b${"a".repeat(63)}`, expected: false },
    { presented: "a".repeat(63), expected: false },
    { presented: "a".repeat(65), expected: false },
    { presented: "", expected: false },
  ])("$presented.length chars -> $expected", ({ presented, expected }) => {
    expect(tokenHashMatches(presented, a)).toBe(expected);
  });
});

describe("decideMessage", () => {
  it("an allowed tools/call takes one event per counter and records argument keys only", () => {
    const plan = decideMessage(limited("enforce"), call("refund", { why: "x", amount: 3 }), at(1000, none));
    expect(plan.decision).toEqual({ outcome: "forward", monitored: null });
    expect(plan.take).toEqual([
      { counter: "r", amount: 1 },
      { counter: "all", amount: 1 },
    ]);
    expect(plan.audit).toEqual({
      rpcMethod: "tools/call",
      rpcId: 1,
      tool: "refund",
      argKeys: ["amount", "why"],
      decision: "allow",
      code: null,
      rule: null,
      message: null,
    });
  });

  it("over the limit: denied with retryAfter, nothing taken", () => {
    const plan = decideMessage(limited("enforce"), call("refund"), at(30_000, full));
    expect(plan.decision).toMatchObject({ outcome: "deny", code: "rate_limited", rule: "/tools/refund/limits/0", retryAfter: 30 });
    expect(plan.take).toEqual([]);
    expect(plan.audit).toMatchObject({ decision: "deny", code: "rate_limited" });
  });

  it("monitor mode forwards the would-be denial, takes nothing, and audits monitor_deny", () => {
    const plan = decideMessage(limited("monitor"), call("refund"), at(30_000, full));
    expect(plan.decision).toEqual({
      outcome: "forward",
      monitored: { code: "rate_limited", rule: "/tools/refund/limits/0", message: expect.stringContaining("retry in 30s"), retryAfter: 30 },
    });
    expect(plan.take).toEqual([]);
    expect(plan.audit).toMatchObject({ decision: "monitor_deny", code: "rate_limited", rule: "/tools/refund/limits/0" });
  });

  it("monitor mode does not forward an invalid message", () => {
    const plan = decideMessage(limited("monitor"), { kind: "invalid", code: -32600, reason: "batch" }, at(0, none));
    expect(plan.decision).toEqual({ outcome: "deny", code: "invalid_message", rule: null, message: "batch" });
  });

  it("a tools/call without a name is denied as an invalid name", () => {
    const plan = decideMessage(limited("enforce"), { kind: "request", method: "tools/call", id: 1 }, at(0, none));
    expect(plan.decision).toMatchObject({ outcome: "deny", code: "invalid_name" });
    expect(plan.audit).toMatchObject({ tool: null, argKeys: [] });
  });

  it("other requests, notifications and responses pass through unevaluated, even with no policy", () => {
    for (const m of [
      { kind: "request", method: "tools/list", id: 2 },
      { kind: "notification", method: "notifications/cancelled" },
      { kind: "response", id: 3 },
    ] as MessageSummary[]) {
      expect(decideMessage(null, m, at(0, none))).toMatchObject({ decision: { outcome: "forward", monitored: null }, take: [] });
    }
  });
});

describe("a hidden tool under default allow is answered as a missing one", () => {
  const open = (mode: "enforce" | "monitor") =>
    policy({
      version: "1",
      default: "allow",
      mode,
      hide: ["rm"],
      tools: { rm: { limits: [{ counter: "own", window: "minute", max: 5 }] } },
      all_tools: { limits: [{ counter: "all", window: "minute", max: 3 }] },
    });

  it("forwards a stand-in, counted against all_tools only (as a missing tool is), and records the real reason", () => {
    const plan = decideMessage(open("enforce"), call("rm", { path: "/" }), at(0));
    expect(plan.decision).toEqual({ outcome: "forward", monitored: null, conceal: "tool" });
    expect(plan.take).toEqual([{ counter: "all", amount: 1 }]);
    expect(plan.audit).toMatchObject({ decision: "deny", code: "hidden", rule: "/hide/0", tool: "rm", argKeys: ["path"] });
  });

  it("over all_tools, it is rate-limited exactly as a missing tool would be", () => {
    const busy = (counter: string) => (counter === "all" ? withTotals([{ at: 0, amount: 3 }]) : []);
    expect(decideMessage(open("enforce"), call("rm"), at(1000, busy)).decision).toMatchObject({
      outcome: "deny",
      code: "rate_limited",
      rule: "/all_tools/limits/0",
    });
    expect(decideMessage(open("enforce"), call("no_such_tool"), at(1000, busy)).decision).toMatchObject({
      outcome: "deny",
      code: "rate_limited",
      rule: "/all_tools/limits/0",
    });
  });

  it("in monitor mode the real call is forwarded and recorded as monitor_deny hidden", () => {
    const plan = decideMessage(open("monitor"), call("rm"), at(0));
    expect(plan.decision).toMatchObject({ outcome: "forward", monitored: { code: "hidden", rule: "/hide/0" } });
    expect(plan.decision).not.toHaveProperty("conceal");
    expect(plan.audit).toMatchObject({ decision: "monitor_deny", code: "hidden" });
  });

  it("a name outside the charset is refused locally whether hidden or not", () => {
    expect(decideMessage(open("enforce"), call("r m"), at(0)).decision).toMatchObject({ outcome: "deny", code: "invalid_name" });
  });
});

describe("task requests", () => {
  const task = (method: string, taskId: string): MessageSummary => ({ kind: "request", method, id: 9, taskId });
  const mine = (id: string) => id === "t-mine";

  it.each(["tasks/get", "tasks/result", "tasks/cancel"])("%s of a task of this grant is forwarded as it is", (method) => {
    expect(decideMessage(null, task(method, "t-mine"), at(0, none, mine)).decision).toEqual({ outcome: "forward", monitored: null });
  });

  it.each(["tasks/get", "tasks/result", "tasks/cancel"])("%s of another grant's task is answered as a missing task", (method) => {
    const plan = decideMessage(null, task(method, "t-other"), at(0, none, mine));
    expect(plan.decision).toEqual({ outcome: "forward", monitored: null, conceal: "task" });
    expect(plan.audit).toMatchObject({ decision: "deny", code: "unknown_task", rpcMethod: method });
  });
});

it("retentionSeconds is the longest window of any limit", () => {
  expect(retentionSeconds(limited("enforce"))).toBe(7200);
  expect(retentionSeconds(policy({ version: "1", default: "allow" }))).toBe(0);
});

it("needsVisibility: for tools/list, a hidden or badly named tool, or when there is no policy", () => {
  const p = limited("enforce");
  const forward = { outcome: "forward", monitored: null } as const;
  const deny = (code: "hidden" | "invalid_name" | "deny_if") => ({ outcome: "deny", code, rule: null, message: "m" }) as const;
  expect(needsVisibility(p, [call("refund")], [forward])).toBe(false);
  expect(needsVisibility(p, [call("refund")], [deny("deny_if")])).toBe(false);
  expect(needsVisibility(p, [call("refund")], [deny("hidden")])).toBe(true);
  expect(needsVisibility(p, [call("refund")], [deny("invalid_name")])).toBe(true);
  expect(needsVisibility(p, [{ kind: "request", method: "tools/list", id: 1 }], [forward])).toBe(true);
  expect(needsVisibility(null, [], [])).toBe(true);
});

describe("admitRefusal: refused requests recorded one by one, at most 60 a minute", () => {
  it("records the first 60 of a minute, counts the rest, and reports the count on the next record", () => {
    const window: RefusalWindow = { start: 0, recorded: 0, unreported: 0 };
    const t0 = 1_000_000;
    const first = Array.from({ length: RECORDED_REFUSALS_PER_MINUTE }, (_, i) => admitRefusal(window, t0 + i));
    expect(first.every((a) => a.record)).toBe(true);
    expect(first.every((a) => a.record && a.unreported === 0)).toBe(true);
    expect(admitRefusal(window, t0 + 100)).toEqual({ record: false });
    expect(admitRefusal(window, t0 + 59_999)).toEqual({ record: false });
    // A new minute: recorded again, with the two that were only counted.
    expect(admitRefusal(window, t0 + 60_000)).toEqual({ record: true, unreported: 2 });
    expect(admitRefusal(window, t0 + 60_001)).toEqual({ record: true, unreported: 0 });
  });

  it("starts a new window when the clock steps back", () => {
    const window: RefusalWindow = { start: 5_000_000, recorded: RECORDED_REFUSALS_PER_MINUTE, unreported: 3 };
    expect(admitRefusal(window, 4_000_000)).toEqual({ record: true, unreported: 3 });
  });
});

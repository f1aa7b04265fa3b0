import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CounterLedger, countInWindow, earliestFit, reserve, withTotals } from "../../../src/grant/counters";
import { describeWindow } from "../../../src/policy/windows";
import type { LimitRequest } from "../../../src/policy/evaluate";

const MINUTE = 60;
const perMinute = (max: number, counter = "calls", cost = 1, rule = `/tools/t/limits/0`): LimitRequest => ({
  rule,
  counter,
  windowSeconds: MINUTE,
  max,
  cost,
  scope: "grant",
});

/** Plays a sequence of call attempts against a ledger, committing the allowed ones. */
function play(ledger: CounterLedger, limits: LimitRequest[], times: number[], firstSeq = 1) {
  return times.map((now, i) => {
    const r = reserve(limits, ledger.eventsFor, now);
    if (r.ok) for (const t of r.take) ledger.add(t.counter, { at: now, amount: t.amount, seq: firstSeq + i });
    return r;
  });
}

describe("reserve: window arithmetic", () => {
  it("allows exactly max calls within the window, then denies", () => {
    const ledger = new CounterLedger();
    const results = play(
      ledger,
      [perMinute(10)],
      Array.from({ length: 11 }, (_, i) => i * 100),
    );
    expect(results.slice(0, 10).every((r) => r.ok)).toBe(true);
    expect(results[10]).toMatchObject({ ok: false, rule: "/tools/t/limits/0" });
    expect(ledger.size).toBe(10);
  });

  it("is rolling, not fixed: the call from t=0 expires at exactly t=60s", () => {
    const ledger = new CounterLedger();
    play(
      ledger,
      [perMinute(10)],
      Array.from({ length: 10 }, (_, i) => i * 1000),
    );
    expect(reserve([perMinute(10)], ledger.eventsFor, 59_999).ok).toBe(false);
    const [first, second] = play(ledger, [perMinute(10)], [60_001, 60_001], 100);
    expect(first?.ok).toBe(true);
    expect(second?.ok).toBe(false);
  });

  const retryTable: Array<{ name: string; events: number[]; now: number; retryAfter: number }> = [
    { name: "oldest leaves in 1ms -> 1s (never 0)", events: [0, 1000], now: 59_999, retryAfter: 1 },
    { name: "oldest leaves in exactly 30s", events: [0, 1000], now: 30_000, retryAfter: 30 },
    { name: "30.001s rounds up to 31s", events: [0, 1000], now: 29_999, retryAfter: 31 },
    { name: "29.999s rounds up to 30s", events: [0, 1000], now: 30_001, retryAfter: 30 },
  ];
  it.each(retryTable)("retryAfter: $name", ({ events, now, retryAfter }) => {
    const ledger = new CounterLedger();
    for (const [i, at] of events.entries()) ledger.add("calls", { at, amount: 1, seq: i + 1 });
    const r = reserve([perMinute(2)], ledger.eventsFor, now);
    expect(r).toEqual({
      ok: false,
      rule: "/tools/t/limits/0",
      retryAfter,
      message: `Rate limit exceeded: 2 calls per minute on counter "calls"; retry in ${retryAfter}s`,
    });
  });

  it("retryAfter waits for enough units to leave when one event is not enough", () => {
    const events = withTotals([
      { at: 0, amount: 3 },
      { at: 10_000, amount: 3 },
      { at: 20_000, amount: 3 },
    ]);
    // max 10, 9 used, a call costing 5 needs 4 units freed: the first two events must leave.
    expect(earliestFit(events, 60_000, 10, 5, 30_000)).toBe(70_000);
    expect(earliestFit(events, 60_000, 10, 1, 30_000)).toBe(30_000);
    const r = reserve([perMinute(10, "refunds", 5)], () => events, 30_000);
    expect(r).toMatchObject({ ok: false, retryAfter: 40 });
    if (!r.ok) expect(r.message).toBe('Rate limit exceeded: 10 units per minute on counter "refunds"; retry in 40s');
  });

  it("an event at exactly now - window no longer counts", () => {
    const events = withTotals([
      { at: 0, amount: 1 },
      { at: 1, amount: 1 },
    ]);
    expect(countInWindow(events, 60_000, 60_000)).toBe(1);
    expect(countInWindow(events, 60_000, 59_999)).toBe(2);
    expect(countInWindow(events, 60_000, 60_001)).toBe(0);
  });
});

describe("reserve: shared counters and cost", () => {
  it("limits naming the same counter share one count and the call adds to it once", () => {
    const limits = [
      perMinute(3, "refunds", 1, "/tools/a/limits/0"),
      { rule: "/all_tools/limits/0", counter: "refunds", windowSeconds: 3600, max: 5, cost: 7, scope: "grant" as const },
    ];
    const r = reserve(limits, () => [], 0);
    // The amount is the first limit's cost (1), not 7: 7 > 5 would otherwise never fit.
    expect(r).toEqual({ ok: true, take: [{ counter: "refunds", amount: 1 }] });
  });

  it("a shared counter is checked against every limit's window and max", () => {
    const ledger = new CounterLedger();
    const limits = [
      perMinute(3, "refunds", 1, "/tools/a/limits/0"),
      { rule: "/tools/a/limits/1", counter: "refunds", windowSeconds: 3600, max: 4, cost: 1, scope: "grant" as const },
    ];
    const results = play(ledger, limits, [0, 1, 2, 3, 61_000, 62_000]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true, false]);
    // The last call is denied by the hour limit (4 used within the hour), not the minute one.
    expect(results[5]).toMatchObject({ ok: false, rule: "/tools/a/limits/1", retryAfter: 3600 - 62 });
  });

  it("two different counters are both charged, and a denial on either charges neither", () => {
    const ledger = new CounterLedger();
    const limits = [perMinute(5, "tool", 1, "/tools/a/limits/0"), perMinute(2, "all", 1, "/all_tools/limits/0")];
    const results = play(ledger, limits, [0, 1, 2]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ rule: "/all_tools/limits/0" });
    expect(ledger.eventsFor("tool")).toHaveLength(2);
    expect(ledger.eventsFor("all")).toHaveLength(2);
  });

  it("the denial names the first exceeded limit and retries when all of them fit", () => {
    const a = withTotals([{ at: 0, amount: 1 }]);
    const b = withTotals([{ at: 30_000, amount: 1 }]);
    const limits = [perMinute(1, "a", 1, "/tools/t/limits/0"), perMinute(1, "b", 1, "/all_tools/limits/0")];
    const r = reserve(limits, (c) => (c === "a" ? a : b), 40_000);
    expect(r).toMatchObject({ ok: false, rule: "/tools/t/limits/0", retryAfter: 50 });
  });

  it("cost counts units: 10,000 per minute allows 4,000 + 6,000 and denies 1 more", () => {
    const ledger = new CounterLedger();
    const lim = (cost: number) => [perMinute(10_000, "amount", cost)];
    expect(play(ledger, lim(4000), [0])[0]?.ok).toBe(true);
    expect(play(ledger, lim(6000), [1], 2)[0]?.ok).toBe(true);
    expect(reserve(lim(1), ledger.eventsFor, 2)).toMatchObject({ ok: false, retryAfter: 60 });
  });

  it("a cost above max can never fit: no retryAfter, and the message says so", () => {
    const r = reserve([perMinute(10_000, "amount", 10_001)], () => [], 0);
    expect(r).toEqual({
      ok: false,
      rule: "/tools/t/limits/0",
      retryAfter: null,
      message: 'Rate limit exceeded: this call costs 10001, more than the 10000 allowed per minute on counter "amount"; it can never be allowed',
    });
  });

  it("a server-wide limit says so in both refusals: over the limit, and a cost that can never fit", () => {
    const team = { ...perMinute(10, "team", 5), scope: "server" as const };
    const over = reserve([team], () => withTotals([{ at: 0, amount: 9 }]), 30_000);
    if (over.ok) throw new Error("expected a refusal");
    expect(over.message).toBe('Server-wide rate limit exceeded: 10 units per minute on counter "team"; retry in 30s');
    const never = reserve([{ ...team, cost: 11 }], () => [], 0);
    if (never.ok) throw new Error("expected a refusal");
    expect(never.message).toBe(
      'Server-wide rate limit exceeded: this call costs 11, more than the 10 allowed per minute on counter "team"; it can never be allowed',
    );
  });

  it("a cost of zero fits and records nothing; a negative cost is refused", () => {
    expect(reserve([perMinute(1, "c", 0)], () => withTotals([{ at: 0, amount: 1 }]), 1)).toEqual({ ok: true, take: [] });
    expect(reserve([perMinute(1, "c", -5)], () => [], 0)).toMatchObject({ ok: false, retryAfter: null });
  });

  it("no limits: always allowed, nothing taken", () => {
    expect(reserve([], () => [], 0)).toEqual({ ok: true, take: [] });
  });
});

describe("CounterLedger", () => {
  it("release gives the capacity back", () => {
    const ledger = new CounterLedger();
    play(ledger, [perMinute(2)], [0, 1]);
    expect(reserve([perMinute(2)], ledger.eventsFor, 2).ok).toBe(false);
    ledger.release(2);
    expect(ledger.size).toBe(1);
    expect(reserve([perMinute(2)], ledger.eventsFor, 2).ok).toBe(true);
  });

  it("keeps events sorted when the clock steps back, and prunes old ones", () => {
    const ledger = new CounterLedger();
    ledger.add("c", { at: 100, amount: 1, seq: 1 });
    ledger.add("c", { at: 50, amount: 1, seq: 2 });
    ledger.add("c", { at: 200, amount: 1, seq: 3 });
    expect(ledger.eventsFor("c").map((e) => e.at)).toEqual([50, 100, 200]);
    ledger.prune(100);
    expect(ledger.eventsFor("c").map((e) => e.at)).toEqual([200]);
    ledger.prune(200);
    expect(ledger.size).toBe(0);
  });
});

it("describeWindow names PolicyLayer windows", () => {
  expect([60, 3600, 86400, 90].map(describeWindow)).toEqual(["minute", "hour", "day", "90 seconds"]);
});

describe("running totals agree with a naive count (property)", () => {
  const naiveCount = (events: { at: number; amount: number }[], windowMs: number, now: number) =>
    events.filter((e) => now - e.at < windowMs).reduce((sum, e) => sum + e.amount, 0);

  it("countInWindow and earliestFit match brute force, including after pruning", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 10_000 }), amount: fc.integer({ min: 1, max: 5 }) }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 0, max: 15_000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 5_000 }),
        (raw, windowMs, now, max, amountSeed, pruneAt) => {
          const amount = amountSeed % (max + 1);
          const ledger = new CounterLedger();
          for (const [i, e] of raw.entries()) ledger.add("c", { ...e, seq: i });
          ledger.prune(pruneAt);
          const kept = raw.filter((e) => e.at > pruneAt);
          const events = ledger.eventsFor("c");
          expect(countInWindow(events, windowMs, now)).toBe(naiveCount(kept, windowMs, now));
          const candidates = [now, ...kept.map((e) => e.at + windowMs)].filter((t) => t >= now).sort((a, b) => a - b);
          const expected = candidates.find((t) => naiveCount(kept, windowMs, t) + amount <= max);
          expect(earliestFit(events, windowMs, max, amount, now)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

it("fractional costs do not drift past max: 0.1 x 10 fills a max of 1 exactly", () => {
  const ledger = new CounterLedger();
  const limits = [perMinute(1, "money", 0.1)];
  const results = play(
    ledger,
    limits,
    Array.from({ length: 11 }, (_, i) => i),
  );
  expect(results.filter((r) => r.ok)).toHaveLength(10);
  expect(results[10]?.ok).toBe(false);
});

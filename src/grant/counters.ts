/**
 * Exact rolling-window rate counters (docs/policy.md, evaluation step 8). Pure: no storage, no clock;
 * every function receives `now` in epoch milliseconds.
 *
 * Window rule: an event recorded at `at` counts toward a limit of `windowSeconds` while
 * `now - at < windowSeconds * 1000`, so at no moment are more than `max` units counted within
 * the last window. The window rolls with every millisecond; it is never aligned to a clock minute.
 *
 * One call adds to each counter once: when several limits name the same counter (say the tool's
 * "refunds" per minute and per day), they share one count, and the amount the call adds is the
 * `cost` of the first limit that names the counter. Every limit is still checked against that
 * shared count with its own window and `max`.
 */
import type { LimitRequest } from "../policy/evaluate";
import { describeWindow } from "../policy/windows";

/** One counted call on one counter. Events of a counter are kept sorted by `at`. */
export interface CounterEvent {
  at: number;
  amount: number;
}

/** An event with its counter's running total up to and including it (only differences matter). */
export interface CountedEvent extends CounterEvent {
  total: number;
}

/** What a call adds to a counter when it is allowed. */
export interface CounterTake {
  counter: string;
  amount: number;
}

export type Reservation =
  | { ok: true; take: CounterTake[] }
  | {
      ok: false;
      /** The pointer of the limit that denied the call. */
      rule: string;
      message: string;
      /** Whole seconds (>= 1) until the call would fit; null when it never can. */
      retryAfter: number | null;
    };

/**
 * Decides whether a call fits every one of its limits given the events already counted; a call
 * that does not fit consumes nothing. The first limit (in the order given: the tool's, then
 * all_tools) that the call would exceed names the denial; `retryAfter` is the earliest moment at
 * which every limit fits, because the call needs all of them.
 */
export function reserve(limits: readonly LimitRequest[], eventsFor: (counter: string) => readonly CountedEvent[], now: number): Reservation {
  const take: CounterTake[] = [];
  const amountOf = new Map<string, number>();
  for (const limit of limits) {
    if (amountOf.has(limit.counter)) continue;
    // A negative or non-finite amount would refill the counter; the evaluator already denies such
    // costs as invalid_cost, this keeps the arithmetic safe on its own.
    if (!Number.isFinite(limit.cost) || limit.cost < 0) {
      return { ok: false, rule: limit.rule, message: `Invalid cost for counter "${limit.counter}"`, retryAfter: null };
    }
    amountOf.set(limit.counter, limit.cost);
    if (limit.cost > 0) take.push({ counter: limit.counter, amount: limit.cost });
  }

  let firstDenied: LimitRequest | null = null;
  let fitsAt = now;
  for (const limit of limits) {
    const amount = amountOf.get(limit.counter) ?? 0;
    if (amount > limit.max) {
      return { ok: false, rule: limit.rule, message: neverFitsMessage(limit, amount), retryAfter: null };
    }
    const moment = earliestFit(eventsFor(limit.counter), limit.windowSeconds * 1000, limit.max, amount, now);
    if (moment > now) {
      firstDenied ??= limit;
      fitsAt = Math.max(fitsAt, moment);
    }
  }
  if (firstDenied === null) return { ok: true, take };
  const retryAfter = Math.max(1, Math.ceil((fitsAt - now) / 1000));
  return { ok: false, rule: firstDenied.rule, message: exceededMessage(firstDenied, retryAfter), retryAfter };
}

/**
 * The earliest moment (>= now) at which `amount` more fits under `max` within the window: `now`
 * if it fits already, else the moment enough of the oldest counted events have left the window.
 * Requires `amount <= max`. O(log n): running totals turn "units in the window" into one
 * subtraction and "how many must leave" into a binary search.
 */
export function earliestFit(events: readonly CountedEvent[], windowMs: number, max: number, amount: number, now: number): number {
  const first = firstInWindow(events, now - windowMs);
  const last = events[events.length - 1];
  const oldest = events[first];
  if (last === undefined || oldest === undefined) return now;
  const before = oldest.total - oldest.amount;
  const excess = last.total - before + amount - max;
  if (excess <= TOLERANCE) return now;
  // The first k whose leaving frees enough: total[k] - before >= excess.
  let lo = first;
  let hi = events.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.total - before >= excess - TOLERANCE) hi = mid;
    else lo = mid + 1;
  }
  return events[lo]!.at + windowMs;
}

/**
 * Costs taken from arguments may be fractional, and sums of binary fractions are not exact:
 * a difference below this many units is treated as zero.
 */
const TOLERANCE = 1e-9;

/** Units counted within the window ending at `now`. */
export function countInWindow(events: readonly CountedEvent[], windowMs: number, now: number): number {
  const oldest = events[firstInWindow(events, now - windowMs)];
  const last = events[events.length - 1];
  return oldest === undefined || last === undefined ? 0 : last.total - (oldest.total - oldest.amount);
}

/** Index of the first event with `at > cutoff` (binary search over events sorted by `at`). */
function firstInWindow(events: readonly CounterEvent[], cutoff: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.at > cutoff) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Adds running totals to events sorted by `at`. */
export function withTotals<E extends CounterEvent>(events: readonly E[]): (E & { total: number })[] {
  let total = 0;
  return events.map((e) => {
    total += e.amount;
    return { ...e, total };
  });
}

/** A server-wide limit (`scope: "server"`, counted across the server's grants) says so in its message. */
const exceededPrefix = (limit: LimitRequest): string => (limit.scope === "server" ? "Server-wide rate limit exceeded" : "Rate limit exceeded");

function exceededMessage(limit: LimitRequest, retryAfter: number): string {
  const unit = limit.cost === 1 ? "calls" : "units";
  return `${exceededPrefix(limit)}: ${limit.max} ${unit} per ${describeWindow(limit.windowSeconds)} on counter "${limit.counter}"; retry in ${retryAfter}s`;
}

function neverFitsMessage(limit: LimitRequest, amount: number): string {
  return `${exceededPrefix(limit)}: this call costs ${amount}, more than the ${limit.max} allowed per ${describeWindow(limit.windowSeconds)} on counter "${limit.counter}"; it can never be allowed`;
}

/** A counted event plus the decision record that reserved it, so the reservation can be released. */
export interface LedgerEvent extends CounterEvent {
  seq: number;
}

type LedgerEntry = LedgerEvent & { total: number };

/**
 * The grant's counted events, per counter, in memory. The Durable Object writes each change
 * through to SQLite and rebuilds the ledger from there when it starts; this class keeps each
 * counter's events sorted by `at` with running totals, which `reserve` relies on.
 */
export class CounterLedger {
  readonly #events = new Map<string, LedgerEntry[]>();
  static readonly #none: readonly CountedEvent[] = [];

  eventsFor = (counter: string): readonly CountedEvent[] => this.#events.get(counter) ?? CounterLedger.#none;

  /** Adds an event, keeping the counter's events sorted by `at` even if the clock stepped back. */
  add(counter: string, event: LedgerEvent): void {
    let events = this.#events.get(counter);
    if (events === undefined) {
      events = [];
      this.#events.set(counter, events);
    }
    const last = events[events.length - 1];
    if (last === undefined || last.at <= event.at) {
      events.push({ ...event, total: (last?.total ?? 0) + event.amount });
      return;
    }
    let i = events.length;
    while (i > 0 && events[i - 1]!.at > event.at) i--;
    events.splice(i, 0, { ...event, total: 0 });
    this.#events.set(counter, withTotals(events));
  }

  /** Removes the events reserved by decision record `seq`. */
  release(seq: number): void {
    for (const [counter, events] of this.#events) {
      const kept = events.filter((e) => e.seq !== seq);
      if (kept.length === 0) this.#events.delete(counter);
      else if (kept.length !== events.length) this.#events.set(counter, withTotals(kept));
    }
  }

  /** Forgets events at or before `cutoff`; they no longer count toward any window we keep. */
  prune(cutoff: number): void {
    for (const [counter, events] of this.#events) {
      const first = firstInWindow(events, cutoff);
      if (first === events.length) this.#events.delete(counter);
      else if (first > 0) this.#events.set(counter, withTotals(events.slice(first)));
    }
  }

  /** Number of events held, for tests and diagnostics. */
  get size(): number {
    let n = 0;
    for (const events of this.#events.values()) n += events.length;
    return n;
  }
}

/**
 * A counter's events with more appended (the newest): what a request has reserved so far, so the
 * later messages of a batch see the earlier ones' reservations.
 */
export function withReserved(events: readonly CountedEvent[], reserved: readonly CounterEvent[]): readonly CountedEvent[] {
  if (reserved.length === 0) return events;
  let total = events.at(-1)?.total ?? 0;
  const appended = reserved.map((e) => {
    total += e.amount;
    return { at: e.at, amount: e.amount, total };
  });
  return [...events, ...appended];
}

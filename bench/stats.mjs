// The benchmark's arithmetic: pure functions over measurement records, no I/O.

/** The q-quantile (0..1) of a list of numbers, nearest-rank; NaN for an empty list. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  return quantile(values, 0.5);
}

/** One measurement reduced to the numbers the table shows. */
export function summarizeMeasurement(m) {
  return {
    reqPerSec: m.completed / m.seconds,
    p50: quantile(m.latenciesMs, 0.5),
    p99: quantile(m.latenciesMs, 0.99),
    workerCpuPerReq: m.completed > 0 ? m.workerCpuMicros / m.completed : Number.NaN,
    upstreamCpuPerReq: m.completed > 0 ? m.upstreamCpuMicros / m.completed : Number.NaN,
    completed: m.completed,
    failed: m.non2xx + m.errors + m.timeouts,
  };
}

/**
 * Several rounds of one row reduced to one line: the median of each number over the rounds (a round
 * disturbed by something else on the machine moves the median least), and the totals of counts.
 */
export function summarizeRounds(measurements) {
  const rounds = measurements.map(summarizeMeasurement);
  const of = (key) => median(rounds.map((r) => r[key]));
  return {
    rounds: rounds.length,
    reqPerSec: of("reqPerSec"),
    reqPerSecMin: Math.min(...rounds.map((r) => r.reqPerSec)),
    reqPerSecMax: Math.max(...rounds.map((r) => r.reqPerSec)),
    p50: of("p50"),
    p99: of("p99"),
    workerCpuPerReq: of("workerCpuPerReq"),
    upstreamCpuPerReq: of("upstreamCpuPerReq"),
    completed: rounds.reduce((sum, r) => sum + r.completed, 0),
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
  };
}

/** A row against its baseline (same concurrency, same run). */
export function compareToBaseline(row, baseline) {
  return {
    throughputRatio: row.reqPerSec / baseline.reqPerSec,
    p50DeltaMs: row.p50 - baseline.p50,
    cpuRatio: row.workerCpuPerReq / baseline.workerCpuPerReq,
  };
}

/** The added peak memory a large result may cost the gateway, in MiB (below, not at). */
export const MEMORY_BUDGET_MIB = 8;
/** The size of the large result the time and memory targets are checked at, in MiB. */
export const TARGET_RESULT_MIB = 32;

const percent = (ratio) => `${Math.abs((ratio - 1) * 100).toFixed(0)}%`;
// A value printed next to its bound: one more digit when two would round onto the bound, so that
// "FAIL ... 1.15x" against "<= 1.15x" cannot happen.
const near = (value, bound) => (value.toFixed(2) === bound.toFixed(2) && value !== bound ? value.toFixed(3) : value.toFixed(2));

/**
 * The targets, for the rate-limited allowed call (`limited*`) against the floor, the peer and
 * direct calls, and for the gateway's large results against direct ones. Each is
 * { name, value, pass } with pass true, false, or null when its rows were not measured (then
 * `value` says why). A broken large result fails its targets whatever its numbers.
 * @param {{ limited1?: object, limited32?: object, floor1?: object, floor32?: object, peer1?: object, peer32?: object,
 *           large: Array<{ key: string, mebibytes: number, ms: number, broken: string | null, addedPeakMiB: number }> }} parts
 */
export function checkTargets({ limited1, limited32, floor1, floor32, peer1, peer32, large }) {
  const targets = [];
  const add = (name, against, inputs, judge) => {
    if (inputs.some((x) => x === undefined)) targets.push({ name, against, value: "not measured", pass: null });
    else targets.push({ name, against, ...judge(...inputs) });
  };
  const floorAgainst = "gateway: allowed, limit never trips vs the floor";
  add("workerd CPU per call at c=32 <= 1.15x the floor", floorAgainst, [limited32, floor32], (g, f) => {
    const ratio = compareToBaseline(g, f).cpuRatio;
    return { value: `${near(ratio, 1.15)}x`, pass: ratio <= 1.15 };
  });
  add("throughput at c=32 >= 0.9x the floor", floorAgainst, [limited32, floor32], (g, f) => {
    const ratio = compareToBaseline(g, f).throughputRatio;
    return { value: `${near(ratio, 0.9)}x`, pass: ratio >= 0.9 };
  });
  add("p50 at c=1 <= the floor + 0.3 ms", floorAgainst, [limited1, floor1], (g, f) => {
    const delta = compareToBaseline(g, f).p50DeltaMs;
    return { value: `${delta >= 0 ? "+" : "-"}${near(Math.abs(delta), 0.3)} ms`, pass: delta <= 0.3 };
  });
  const peerAgainst = "gateway: allowed, limit never trips vs the peer";
  for (const [c, g, p] of [
    [1, limited1, peer1],
    [32, limited32, peer32],
  ]) {
    add(`throughput at c=${c} ahead of the peer`, peerAgainst, [g, p], (gw, peer) => {
      const ratio = compareToBaseline(gw, peer).throughputRatio;
      return { value: `${ratio.toFixed(2)}x the peer's (${percent(ratio)} ${ratio > 1 ? "ahead" : "behind"})`, pass: ratio > 1 };
    });
    add(`p50 at c=${c} ahead of the peer`, peerAgainst, [g, p], (gw, peer) => {
      const delta = compareToBaseline(gw, peer).p50DeltaMs;
      return {
        value: `${signed(delta, 2)} ms vs the peer's ${peer.p50.toFixed(2)} ms (${Math.abs(delta).toFixed(2)} ms ${delta < 0 ? "ahead" : "behind"})`,
        pass: delta < 0,
      };
    });
  }
  const largeRow = (key) => large.find((r) => r.key === key && r.mebibytes === TARGET_RESULT_MIB);
  for (const [mode, label] of [
    ["json", "JSON"],
    ["sse", "SSE"],
  ]) {
    const gateway = largeRow(`gateway-${mode}`);
    const direct = largeRow(`direct-${mode}`);
    add(`time of a ${TARGET_RESULT_MIB} MiB ${label} result <= 1.3x direct`, `gateway vs direct to upstream, ${label}`, [gateway, direct], (g, d) => {
      if (g.broken) return { value: `broken: ${g.broken}`, pass: false };
      const ratio = g.ms / d.ms;
      return { value: `${near(ratio, 1.3)}x (${g.ms.toFixed(0)} vs ${d.ms.toFixed(0)} ms)`, pass: ratio <= 1.3 };
    });
  }
  for (const [mode, label] of [
    ["json", "JSON"],
    ["sse", "SSE"],
  ]) {
    const gateway = largeRow(`gateway-${mode}`);
    add(`added peak memory for a ${TARGET_RESULT_MIB} MiB ${label} result < ${MEMORY_BUDGET_MIB} MiB`, `gateway's workerd, ${label}`, [gateway], (g) => {
      const added = `${g.addedPeakMiB.toFixed(1)} MiB`;
      if (g.broken) return { value: `broken: ${g.broken} (${added} added)`, pass: false };
      return { value: added, pass: g.addedPeakMiB < MEMORY_BUDGET_MIB };
    });
  }
  return targets;
}

export function signed(value, digits) {
  return `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
}

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

/**
 * The targets of issue 4, for the rate-limited allowed call against the bare passthrough:
 * throughput >= 0.75x at c=32, p50 <= bare + 1.0 ms at c=1, CPU per request <= 1.3x (checked at
 * both concurrencies).
 */
export function checkTargets({ limitedC1, limitedC32, bareC1, bareC32 }) {
  const at32 = compareToBaseline(limitedC32, bareC32);
  const at1 = compareToBaseline(limitedC1, bareC1);
  return [
    { name: "throughput at c=32 >= 0.75x bare", value: `${at32.throughputRatio.toFixed(2)}x`, pass: at32.throughputRatio >= 0.75 },
    { name: "p50 at c=1 <= bare + 1.0 ms", value: `${signed(at1.p50DeltaMs, 2)} ms`, pass: at1.p50DeltaMs <= 1.0 },
    { name: "workerd CPU/request at c=1 <= 1.3x bare", value: `${at1.cpuRatio.toFixed(2)}x`, pass: at1.cpuRatio <= 1.3 },
    { name: "workerd CPU/request at c=32 <= 1.3x bare", value: `${at32.cpuRatio.toFixed(2)}x`, pass: at32.cpuRatio <= 1.3 },
  ];
}

export function signed(value, digits) {
  return `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
}

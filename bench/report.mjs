// The benchmark's tables and its results.md page, as plain strings from plain data.
import { checkTargets, compareToBaseline, signed } from "./stats.mjs";

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "—");
const whole = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—");

// Processes whose CPU is not a workerd's: the CPU cell is marked, and the upstream has no proxy CPU.
const CPU_MARK = { wranglerDev: " †", peer: " ‡" };

/** "vs base" or "vs floor" cells of one row: req/s ratio, p50 delta, CPU ratio. */
function comparisonCells(row, againstKey, byKey, name) {
  if (row.key === againstKey) return [name, name, name];
  const against = byKey.get(`${againstKey}@${row.concurrency}`);
  if (!against) return ["—", "—", "—"];
  const cmp = compareToBaseline(row.summary, against.summary);
  const hasCpu = row.process !== "upstream" && row.process !== "wranglerDev";
  return [`${fixed(cmp.throughputRatio, 2)}x`, signed(cmp.p50DeltaMs, 2), hasCpu ? `${fixed(cmp.cpuRatio, 2)}x` : "—"];
}

/**
 * @param {Array<{ key: string, label: string, concurrency: number, process: string, baseline: string, floor: string,
 *                 summary: ReturnType<import("./stats.mjs").summarizeRounds> }>} rows
 */
export function resultsTable(rows) {
  const byKey = new Map(rows.map((r) => [`${r.key}@${r.concurrency}`, r]));
  const lines = [
    "| path | c | req/s | p50 ms | p99 ms | workerd CPU µs/req | upstream CPU µs/req | req/s vs base | p50 Δ ms vs base | CPU vs base | req/s vs floor | p50 Δ ms vs floor | CPU vs floor | requests | failed |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of rows) {
    const s = row.summary;
    const cpuCell = row.process === "upstream" ? "—" : `${whole(s.workerCpuPerReq)}${CPU_MARK[row.process] ?? ""}`;
    const vsBase = comparisonCells(row, row.baseline, byKey, "base");
    const vsFloor = comparisonCells(row, row.floor, byKey, "floor");
    lines.push(
      `| ${row.label} | ${row.concurrency} | ${whole(s.reqPerSec)} | ${fixed(s.p50, 2)} | ${fixed(s.p99, 2)} | ${cpuCell} | ${whole(s.upstreamCpuPerReq)} | ` +
        `${vsBase.join(" | ")} | ${vsFloor.join(" | ")} | ${s.completed.toLocaleString("en-US")} | ${s.failed} |`,
    );
  }
  return lines.join("\n");
}

/**
 * @param {Awaited<ReturnType<typeof import("./large-results.mjs").measureLargeResults>>} large
 */
export function largeResultsTable(large) {
  const byKey = new Map(large.map((r) => [`${r.key}@${r.mebibytes}`, r]));
  const lines = ["| result | answer | path | time ms | vs direct | added peak RSS MiB | calls | answer received |", "|--:|---|---|--:|--:|--:|--:|---|"];
  for (const row of large) {
    const base = byKey.get(`${row.baseline}@${row.mebibytes}`);
    const isBase = row.key === row.baseline;
    const vsDirect = isBase ? "base" : row.broken || !base || base.broken ? "—" : `${fixed(row.ms / base.ms, 2)}x`;
    const memory = Number.isFinite(row.addedPeakMiB) ? `${fixed(row.addedPeakMiB, 1)}${row.exactMemory ? "" : " (sampled)"}` : "—";
    lines.push(
      `| ${row.mebibytes} MiB | ${row.mode === "json" ? "JSON" : "SSE"} | ${row.label} | ${row.broken ? "**broken**" : fixed(row.ms, 1)} | ${vsDirect} | ${memory} | ${row.calls} | ` +
        `${row.broken ? row.broken : `whole (${row.contentType.split(";")[0]})`} |`,
    );
  }
  return lines.join("\n");
}

/** PASS/FAIL lines for the targets (SKIP where their rows were not measured). */
export function targetLines(rows, large) {
  const find = (key, c) => rows.find((r) => r.key === key && r.concurrency === c)?.summary;
  const targets = checkTargets({
    limited1: find("limited", 1),
    limited32: find("limited", 32),
    floor1: find("floor", 1),
    floor32: find("floor", 32),
    peer1: find("peer", 1),
    peer32: find("peer", 32),
    large,
  });
  return {
    targets,
    lines: targets.map((t) => `${t.pass === null ? "SKIP" : t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.value}  (${t.against})`),
  };
}

export const MEASURED_PROCESSES = [
  "workerd CPU µs/req: CPU time of the one process that serves the row (all its threads: /proc/<pid>/task/*/schedstat), read before and after each measurement, divided by the requests completed in it.",
  "  bare passthrough rows: the passthrough's own workerd (its own Miniflare instance).",
  "  floor rows: the floor's own workerd (its own Miniflare instance), which runs both its Worker and its Durable Object.",
  "  gateway rows: the gateway's own workerd (its own Miniflare instance); it runs the Worker and every grant's Durable Object (SQLite), so gate() and settle() are included.",
  "  † wrangler dev row: wrangler's Node process and all its descendants (its proxy and its workerd), so the proxy's cost is included.",
  "  ‡ peer rows: the peer's Node process (@civic/passthrough-mcp-server through its API, one local allow-list hook; stdout discarded).",
  "upstream CPU µs/req: the upstream SDK server's Node process (a child of the benchmark); it is the same for every row and is part of every row's latency.",
  "Not measured: the load generator (autocannon, in the benchmark's own Node process) and Miniflare's Node-side loopback server (same process, not on the request path).",
  "Cells are medians over the rounds; 'vs base' compares with the bare passthrough row of the same concurrency, 'vs floor' with the floor row (tools/list rows with the tools/list rows of each).",
  "Large results: one tools/call of large_result over a fresh connection, timed from sending the request to the last byte received, the answer then checked whole (parsed, exact text); time is the median over the calls, 'broken' if any answer was wrong.",
  "  added peak RSS: the proxy process's peak resident memory during the call minus its resident memory just before (VmHWM after resetting it through /proc/<pid>/clear_refs; '(sampled)': VmRSS every 2 ms); the largest over the calls.",
];

/** The whole results.md page. */
export function resultsPage({ table, largeTable, targets, environment, settings, command, probeNotes }) {
  return [
    "# Benchmark results",
    "",
    "Written by `npm run bench` (bench/run.mjs); docs/performance.md explains what the numbers mean.",
    "",
    `- date: ${environment.date}`,
    `- command: \`${command}\``,
    `- machine: ${environment.cpuModel}, ${environment.nproc} CPUs (nproc), ${environment.os}`,
    `- load average (1, 5, 15 min) before: ${environment.loadAverage.start.join(", ")}; after: ${environment.loadAverage.end.join(", ")}`,
    `- node ${environment.node}, wrangler ${environment.wrangler}, miniflare ${environment.miniflare}, workerd ${environment.workerd}, autocannon ${environment.autocannon}, @civic/passthrough-mcp-server ${environment.peer}`,
    `- ${settings.rounds} round(s) per row, ${settings.seconds} s per measurement, rows interleaved round-robin, ${settings.warmupSeconds} s warm-up per row and concurrency before round 1`,
    "- every request: POST, `Accept: application/json, text/event-stream`, `Content-Type: application/json`, `MCP-Protocol-Version: 2025-06-18`, a JSON-RPC id used once, the grant's bearer token (gateway rows), no session except on the peer (which requires one: initialize first, then its `Mcp-Session-Id`); the upstream is stateless with JSON responses",
    `- large results: ${settings.largeSizes.join(", ")} MiB, ${settings.largeRepetitions} call(s) per cell, paths interleaved`,
    "",
    table,
    "",
    largeTable,
    "",
    ...targets.map((line) => `    ${line}`),
    "",
    ...MEASURED_PROCESSES.map((line) => (line.startsWith("  ") ? `  - ${line.trim()}` : `- ${line}`)),
    ...(probeNotes.length > 0 ? ["", ...probeNotes.map((n) => `- ${n}`)] : []),
    "",
  ].join("\n");
}

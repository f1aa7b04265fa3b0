// The benchmark's table and its results.md page, as plain strings from plain data.
import { checkTargets, compareToBaseline, signed } from "./stats.mjs";

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "—");
const whole = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—");

/**
 * @param {Array<{ key: string, label: string, concurrency: number, process: string, baseline: string,
 *                 summary: ReturnType<import("./stats.mjs").summarizeRounds> }>} rows
 */
export function resultsTable(rows) {
  const byKey = new Map(rows.map((r) => [`${r.key}@${r.concurrency}`, r]));
  const lines = [
    "| path | c | req/s | p50 ms | p99 ms | workerd CPU µs/req | upstream CPU µs/req | req/s vs base | p50 Δ ms vs base | CPU vs base | requests | failed |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of rows) {
    const s = row.summary;
    const base = byKey.get(`${row.baseline}@${row.concurrency}`);
    const isBase = row.key === row.baseline;
    const cmp = base && !isBase ? compareToBaseline(s, base.summary) : null;
    const cpuCell = row.process === "upstream" ? "—" : `${whole(s.workerCpuPerReq)}${row.process === "wranglerDev" ? " †" : ""}`;
    lines.push(
      `| ${row.label} | ${row.concurrency} | ${whole(s.reqPerSec)} | ${fixed(s.p50, 2)} | ${fixed(s.p99, 2)} | ${cpuCell} | ${whole(s.upstreamCpuPerReq)} | ` +
        `${isBase ? "base" : cmp ? `${fixed(cmp.throughputRatio, 2)}x` : "—"} | ` +
        `${isBase ? "base" : cmp ? signed(cmp.p50DeltaMs, 2) : "—"} | ` +
        `${isBase ? "base" : cmp && row.process !== "upstream" && row.process !== "wranglerDev" ? `${fixed(cmp.cpuRatio, 2)}x` : "—"} | ` +
        `${s.completed.toLocaleString("en-US")} | ${s.failed} |`,
    );
  }
  return lines.join("\n");
}

/** PASS/FAIL lines for the targets, or a line saying why they could not be checked. */
export function targetLines(rows) {
  const find = (key, c) => rows.find((r) => r.key === key && r.concurrency === c)?.summary;
  const parts = { limitedC1: find("limited", 1), limitedC32: find("limited", 32), bareC1: find("bare", 1), bareC32: find("bare", 32) };
  if (Object.values(parts).some((p) => p === undefined)) return { lines: ["targets: not checked (no gateway rows)"], targets: [] };
  const targets = checkTargets(parts);
  return {
    targets,
    lines: targets.map((t) => `${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.value}  (gateway: allowed, limit never trips vs bare passthrough)`),
  };
}

export const MEASURED_PROCESSES = [
  "workerd CPU µs/req: CPU time of the one workerd process that serves the row (all its threads: /proc/<pid>/task/*/schedstat), read before and after each measurement, divided by the requests completed in it.",
  "  bare passthrough rows: the passthrough's own workerd (its own Miniflare instance).",
  "  gateway rows: the gateway's own workerd (its own Miniflare instance); it runs the Worker and every grant's Durable Object (SQLite), so gate() and settle() are included.",
  "  † wrangler dev row: wrangler's Node process and all its descendants (its proxy and its workerd), so the proxy's cost is included.",
  "upstream CPU µs/req: the upstream SDK server's Node process (a child of the benchmark); it is the same for every row and is part of every row's latency.",
  "Not measured: the load generator (autocannon, in the benchmark's own Node process) and Miniflare's Node-side loopback server (same process, not on the request path).",
  "Cells are medians over the rounds; 'vs base' compares with the bare passthrough row of the same concurrency (tools/list rows with the bare passthrough's tools/list).",
];

/** The whole results.md page. */
export function resultsPage({ table, targets, environment, settings, command, probeNotes }) {
  return [
    "# Benchmark results",
    "",
    "Written by `npm run bench` (bench/run.mjs); docs/performance.md explains what the numbers mean.",
    "",
    `- date: ${environment.date}`,
    `- command: \`${command}\``,
    `- machine: ${environment.cpuModel}, ${environment.nproc} CPUs (nproc), ${environment.os}`,
    `- load average (1, 5, 15 min) before: ${environment.loadAverage.start.join(", ")}; after: ${environment.loadAverage.end.join(", ")}`,
    `- node ${environment.node}, wrangler ${environment.wrangler}, miniflare ${environment.miniflare}, workerd ${environment.workerd}, autocannon ${environment.autocannon}`,
    `- ${settings.rounds} round(s) per row, ${settings.seconds} s per measurement, rows interleaved round-robin, ${settings.warmupSeconds} s warm-up per row and concurrency before round 1`,
    "- every request: POST, `Accept: application/json, text/event-stream`, `Content-Type: application/json`, `MCP-Protocol-Version: 2025-06-18`, the grant's bearer token (gateway rows), no session; the upstream is stateless with JSON responses",
    "",
    table,
    "",
    ...targets.map((line) => `    ${line}`),
    "",
    ...MEASURED_PROCESSES.map((line) => (line.startsWith("  ") ? `  - ${line.trim()}` : `- ${line}`)),
    ...(probeNotes.length > 0 ? ["", ...probeNotes.map((n) => `- ${n}`)] : []),
    "",
  ].join("\n");
}

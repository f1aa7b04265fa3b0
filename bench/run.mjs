// `npm run bench`: what the policy costs, measured against a bare passthrough Worker, against the
// floor (the passthrough plus one durable SQLite write in a Durable Object per call), and against a
// peer proxy users might pick instead (@civic/passthrough-mcp-server with an allow-list hook).
//
//   node bench/run.mjs                 3 interleaved rounds, 5 s per measurement, large results of
//                                      1, 8 and 32 MiB (5 calls each); writes bench/results.md
//   node bench/run.mjs --quick         1 round, 0.5 s per measurement, no warm-up, 1 MiB large results (1 call);
//                                      writes nothing unless --out is given
//   node bench/run.mjs --large-only    the large-result rows alone (direct, bare passthrough, gateway):
//                                      no load rows, floor, peer or wrangler dev; writes nothing unless --out
//   options: --rounds N  --seconds S  --large-sizes 1,8,32  --large-calls N  --out FILE  --json FILE
//            --no-wrangler-dev
//            --gateway-config PATH  measure another build of the gateway (its wrangler.toml) against the
//                                   same baseline, e.g. a candidate change checked out elsewhere
//
// Everything runs on 127.0.0.1 and is stopped at the end, on error and on Ctrl-C: the upstream and
// the peer (Node children), the passthrough (twice: one per upstream answer mode), the floor and the
// gateway (each in its own workerd, through Miniflare's API, so each has its own process to read CPU
// and memory from), and `wrangler dev` for the one row that shows what users see locally. Exit
// status: 0 iff every row answered correctly and completed requests with no non-2xx answers, errors
// or timeouts, and every large result arrived whole. The targets are printed as PASS/FAIL; they do
// not change it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, type } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { bundleWorker, gatewayBundle, root } from "../test/support/workerd.mjs";
import { measureLargeResults } from "./large-results.mjs";
import { measure } from "./load.mjs";
import { benchmarkPaths, openSession, probe } from "./paths.mjs";
import { createCleanup, descendantsOf } from "./processes.mjs";
import { largeResultsTable, MEASURED_PROCESSES, resultsPage, resultsTable, targetLines } from "./report.mjs";
import { seedGateway, startGatewayInMiniflare, startPeer, startUpstream, startWorkerInMiniflare, startWranglerDev } from "./stack.mjs";
import { summarizeRounds } from "./stats.mjs";

process.env.WRANGLER_SEND_METRICS = "false";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    out: { type: "string" },
    json: { type: "string" },
    "no-wrangler-dev": { type: "boolean", default: false },
    "gateway-config": { type: "string" },
    "large-sizes": { type: "string" },
    "large-calls": { type: "string" },
    "large-only": { type: "boolean", default: false },
  },
});
const largeOnly = args["large-only"];
const settings = {
  rounds: Number(args.rounds ?? (args.quick ? 1 : 3)),
  seconds: Number(args.seconds ?? (args.quick ? 0.5 : 5)),
  // --quick is a smoke run: no warm-up, its numbers are not for reading.
  warmupSeconds: args.quick ? 0 : 1,
  largeSizes: (args["large-sizes"] ?? (args.quick ? "1" : "1,8,32")).split(",").map(Number),
  largeRepetitions: Number(args["large-calls"] ?? (args.quick ? 1 : 5)),
};
const resultsPath = args.out ?? (args.quick || largeOnly ? null : join(root, "bench/results.md"));
const cleanup = createCleanup();
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const gatewayConfig = args["gateway-config"] ? resolve(args["gateway-config"]) : null;

const firstLine = (error) => (error instanceof Error ? error.message : String(error)).split("\n")[0];

function environment() {
  const version = (pkg) => JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  let cpuModel = cpus()[0]?.model ?? "unknown";
  if (existsSync("/proc/cpuinfo")) {
    cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    wrangler: version("wrangler"),
    miniflare: version("miniflare"),
    workerd: version("workerd"),
    autocannon: version("autocannon"),
    peer: version("@civic/passthrough-mcp-server"),
    nproc: cpus().length,
    cpuModel,
    os: `${type()} ${release()}`,
    loadAverage: { start: loadAtStart.map((l) => Number(l.toFixed(2))), end: loadavg().map((l) => Number(l.toFixed(2))) },
  };
}

const loadAtStart = loadavg();

/** Runs `start`; on failure notes why (the rows that need it are skipped) and returns null. */
async function orSkip(what, notes, start) {
  try {
    return await start();
  } catch (error) {
    notes.push(`${what} rows skipped: ${firstLine(error)}`);
    log(notes.at(-1));
    return null;
  }
}

async function main() {
  log(`${settings.rounds} round(s), ${settings.seconds} s per measurement; large results ${settings.largeSizes.join(", ")} MiB × ${settings.largeRepetitions}`);
  // Other work on the machine shifts every row; the interleaving spreads it, but say so.
  if (loadAtStart[0] > cpus().length * 0.5) log(`warning: load average ${loadAtStart[0].toFixed(2)} on ${cpus().length} CPUs before starting`);
  const probeNotes = [];
  // Bundling is most of the start-up time; the three bundles do not depend on each other.
  const settled = (promise) =>
    promise.then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
  const bundles = {
    passthrough: settled(bundleWorker(join(root, "bench/passthrough/wrangler.toml"))),
    floor: settled(bundleWorker(join(root, "bench/floor/wrangler.toml"))),
    gateway: settled(gatewayConfig ? bundleWorker(gatewayConfig) : gatewayBundle()),
  };
  const bundled = async (name) => {
    const { value, error } = await bundles[name];
    if (error) throw error;
    return value;
  };
  const upstream = await startUpstream(cleanup);
  log(`upstream ${upstream.url}, SSE ${upstream.sseUrl} (pid ${upstream.pid})`);
  const passthroughBundle = await bundled("passthrough");
  const passthrough = await startWorkerInMiniflare(
    cleanup,
    join(root, "bench/passthrough/wrangler.toml"),
    { UPSTREAM_URL: upstream.url },
    { scriptPath: passthroughBundle },
  );
  log(`bare passthrough ${passthrough.origin} (workerd pid ${passthrough.workerdPid})`);
  // The SSE upstream is another port; a second instance keeps the passthrough itself unchanged.
  const passthroughSse = await startWorkerInMiniflare(
    cleanup,
    join(root, "bench/passthrough/wrangler.toml"),
    { UPSTREAM_URL: upstream.sseUrl },
    { scriptPath: passthroughBundle },
  );
  log(`bare passthrough to the SSE upstream ${passthroughSse.origin} (workerd pid ${passthroughSse.workerdPid})`);
  const floor = largeOnly
    ? null
    : await orSkip("floor", probeNotes, async () =>
        startWorkerInMiniflare(cleanup, join(root, "bench/floor/wrangler.toml"), { UPSTREAM_URL: upstream.url }, { scriptPath: await bundled("floor") }),
      );
  if (floor) log(`floor ${floor.origin} (workerd pid ${floor.workerdPid})`);
  const peer = largeOnly
    ? null
    : await orSkip("peer", probeNotes, async () => {
        const started = await startPeer(cleanup, upstream.url, ["echo"]);
        log(`peer ${started.url} (pid ${started.pid})`);
        return { ...started, headers: await openSession(started.url) };
      });

  // Until the gateway builds and its admin API answers, the other rows still run (and the exit
  // status says the run is incomplete).
  let gatewayProcess = null;
  let gateway = null;
  try {
    // Without --gateway-config the bundle is test/support/workerd.mjs's cached one.
    gatewayProcess = await startGatewayInMiniflare(cleanup, gatewayConfig, await bundled("gateway"));
    gateway = await seedGateway(gatewayProcess.origin, upstream.url, upstream.sseUrl);
    log(`gateway ${gatewayProcess.origin} (workerd pid ${gatewayProcess.workerdPid})`);
  } catch (error) {
    probeNotes.push(`gateway rows skipped: ${gatewayProcess ? "seeding through the admin API" : "starting the gateway"} failed: ${firstLine(error)}`);
    log(probeNotes.at(-1));
  }

  let wranglerDev = null;
  let wranglerDevPids = [];
  if (gateway && !args["no-wrangler-dev"] && !largeOnly) {
    const dev = await startWranglerDev(cleanup, gatewayConfig ?? join(root, "wrangler.toml"));
    const grants = await seedGateway(dev.origin, upstream.url);
    wranglerDev = grants.allowed;
    wranglerDevPids = [dev.pid, ...descendantsOf(dev.pid)];
    log(`wrangler dev ${dev.origin} (pids ${wranglerDevPids.join(", ")})`);
  }

  const cpuPidsOf = {
    upstream: [],
    passthrough: [passthrough.workerdPid],
    floor: floor ? [floor.workerdPid] : [],
    peer: peer ? [peer.pid] : [],
    gateway: gatewayProcess ? [gatewayProcess.workerdPid] : [],
    wranglerDev: wranglerDevPids,
  };
  const paths = largeOnly
    ? []
    : benchmarkPaths({ upstreamUrl: upstream.url, passthroughOrigin: passthrough.origin, floorOrigin: floor?.origin ?? null, peer, gateway, wranglerDev });

  let broken = false;
  for (const path of paths) {
    const problem = await probe(path);
    if (problem) {
      broken = true;
      probeNotes.push(`${path.label}: wrong answer before measuring: ${problem}`);
      log(probeNotes.at(-1));
    }
  }
  if (broken) return { ok: false, rows: [], large: [], probeNotes };

  const runOne = (path, connections, seconds) =>
    measure({
      url: path.url,
      headers: path.headers,
      body: path.body,
      connections,
      seconds,
      cpuPids: { worker: cpuPidsOf[path.process], upstream: [upstream.pid] },
    });

  if (settings.warmupSeconds > 0) for (const path of paths) for (const c of path.concurrencies) await runOne(path, c, settings.warmupSeconds);

  const measurements = new Map();
  for (let round = 1; round <= settings.rounds; round++) {
    log(`round ${round}/${settings.rounds}`);
    for (const path of paths) {
      for (const c of path.concurrencies) {
        const m = await runOne(path, c, settings.seconds);
        const id = `${path.key}@${c}`;
        measurements.set(id, [...(measurements.get(id) ?? []), m]);
      }
    }
  }

  const rows = paths.flatMap((path) =>
    path.concurrencies.map((c) => ({
      key: path.key,
      label: path.label,
      concurrency: c,
      process: path.process,
      baseline: path.baseline,
      floor: path.floor,
      summary: summarizeRounds(measurements.get(`${path.key}@${c}`)),
    })),
  );

  const largeTargets = [];
  for (const [mode, upstreamUrl, bare] of [
    ["json", upstream.url, passthrough],
    ["sse", upstream.sseUrl, passthroughSse],
  ]) {
    const baseline = `direct-${mode}`;
    largeTargets.push(
      { key: baseline, label: "direct to upstream", mode, url: upstreamUrl, token: null, memoryPid: null, baseline },
      { key: `bare-${mode}`, label: "bare passthrough", mode, url: `${bare.origin}/mcp`, token: null, memoryPid: bare.workerdPid, baseline },
    );
    if (gateway) {
      const grant = mode === "json" ? gateway.largeJson : gateway.largeSse;
      largeTargets.push({
        key: `gateway-${mode}`,
        label: "gateway: allowed, limit never trips",
        mode,
        ...grant,
        memoryPid: gatewayProcess.workerdPid,
        baseline,
      });
    }
  }
  const large = await measureLargeResults({ targets: largeTargets, sizes: settings.largeSizes, repetitions: settings.largeRepetitions, log });
  for (const row of large.filter((r) => r.broken)) {
    probeNotes.push(`large result ${row.mebibytes} MiB ${row.mode}, ${row.label}: broken: ${row.broken}`);
    log(probeNotes.at(-1));
  }

  const ok =
    gateway !== null &&
    (largeOnly || (floor !== null && peer !== null)) &&
    rows.every((r) => r.summary.completed > 0 && r.summary.failed === 0) &&
    large.every((r) => r.broken === null);
  return { ok, rows, large, probeNotes };
}

let exitCode = 1;
try {
  const { ok, rows, large, probeNotes } = await main();
  const table = resultsTable(rows);
  const largeTable = largeResultsTable(large);
  const { lines: targets, targets: checked } = targetLines(rows, large);
  const env = environment();
  const command = `node bench/run.mjs ${process.argv.slice(2).join(" ")}`.trim();
  console.log(`\n${table}\n\n${largeTable}\n\n${targets.join("\n")}\n`);
  for (const line of MEASURED_PROCESSES) console.log(line);
  for (const note of probeNotes) console.log(note);
  if (resultsPath && rows.length > 0) {
    writeFileSync(resultsPath, resultsPage({ table, largeTable, targets, environment: env, settings, command, probeNotes }));
    log(`wrote ${resultsPath}`);
  }
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ ok, settings, environment: env, rows, large, targets: checked, probeNotes }, null, 2)}\n`);
  exitCode = ok ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
} finally {
  await cleanup.runAll();
}
process.exit(exitCode);

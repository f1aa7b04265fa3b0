// Where a Worker's CPU goes: a V8 CPU profile of the gateway (or the bare passthrough) in workerd,
// taken over the inspector while autocannon drives one benchmark row, summarized by source module
// and by function. The inspector slows the isolate down, so these are shares, not the benchmark's
// numbers (bench/run.mjs measures without it).
//
//   node bench/profile.mjs [--row limited|allowed|denied|listed|bare|floor] [--seconds 5] [--connections 1]
//                          [--gateway-config PATH] [--top 25]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { root } from "../test/support/workerd.mjs";
import { freePort } from "../test/support/upstreams.mjs";
import { measure } from "./load.mjs";
import { benchmarkPaths, probe } from "./paths.mjs";
import { createCleanup } from "./processes.mjs";
import { ADMIN_TOKEN, GRANT_ID_SECRET, seedGateway, startUpstream, startWorkerInMiniflare } from "./stack.mjs";

const { values: args } = parseArgs({
  options: {
    row: { type: "string", default: "limited" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "1" },
    "gateway-config": { type: "string" },
    top: { type: "string", default: "25" },
  },
});

/** The source module of each line of an esbuild bundle, from the `// src/…` markers esbuild writes. */
function moduleOfLine(bundle) {
  const lines = bundle.split("\n");
  const owner = new Array(lines.length);
  let current = "(bundle prelude)";
  for (let i = 0; i < lines.length; i++) {
    // esbuild names each module by its path relative to the bundle's directory ("../../x/node_modules/…").
    const marker = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(lines[i]);
    if (marker) {
      const path = marker[1];
      const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
      current = dependency ? `${dependency[1]} (dependency)` : (/(?:^|\/)((?:src|bench)\/.*)$/.exec(path)?.[1] ?? path);
    }
    owner[i] = current;
  }
  return (line) => owner[line] ?? "(unknown)";
}

/** Self time per key (µs) of a V8 CPU profile. */
function selfTimes(profile, keyOf) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map();
  profile.samples.forEach((id, i) => {
    const key = keyOf(byId.get(id).callFrame);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return totals;
}

function inspectorSession(url) {
  const ws = new WebSocket(url);
  let nextId = 1;
  const waiting = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (message.id !== undefined && waiting.has(message.id)) {
      waiting.get(message.id)(message);
      waiting.delete(message.id);
    }
  });
  return {
    opened: new Promise((r, j) => {
      ws.once("open", r);
      ws.once("error", j);
    }),
    send(method, params = {}) {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((r) => waiting.set(id, r));
    },
    close: () => ws.close(),
  };
}

const cleanup = createCleanup();
try {
  const upstream = await startUpstream(cleanup);
  const inspectorPort = await freePort();
  // The bare passthrough and the floor are Workers of their own; every other row is the gateway's.
  const baseline = { bare: "bench/passthrough/wrangler.toml", floor: "bench/floor/wrangler.toml" }[args.row];
  const configPath = baseline ? join(root, baseline) : args["gateway-config"] ? resolve(args["gateway-config"]) : join(root, "wrangler.toml");
  const worker = await startWorkerInMiniflare(cleanup, configPath, baseline ? { UPSTREAM_URL: upstream.url } : { ADMIN_TOKEN, GRANT_ID_SECRET }, {
    inspectorPort,
  });
  const gateway = baseline ? null : await seedGateway(worker.origin, upstream.url);
  const path = benchmarkPaths({ upstreamUrl: upstream.url, passthroughOrigin: worker.origin, floorOrigin: worker.origin, gateway, wranglerDev: null }).find(
    (p) => p.key === args.row,
  );
  if (!path) throw new Error(`no row ${args.row}`);
  const problem = await probe(path);
  if (problem) throw new Error(`${path.label}: ${problem}`);

  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => !String(t.title ?? t.id).startsWith("core:")) ?? targets.at(-1);
  const session = inspectorSession(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`);
  await session.opened;
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 100 });
  const load = {
    url: path.url,
    headers: path.headers,
    body: path.body,
    connections: Number(args.connections),
    cpuPids: { worker: [worker.workerdPid], upstream: [upstream.pid] },
  };
  await measure({ ...load, seconds: 1 });
  await session.send("Profiler.start");
  const m = await measure({ ...load, seconds: Number(args.seconds) });
  const { result } = await session.send("Profiler.stop");
  session.close();

  const profile = result.profile;
  const moduleOf = moduleOfLine(readFileSync(worker.scriptPath, "utf8"));
  const isBundle = (frame) => frame.url === "index.js" || frame.url.endsWith("/index.js");
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const idle = selfTimes(profile, (f) => f.functionName).get("(idle)") ?? 0;
  const busy = total - idle;
  const byModule = selfTimes(profile, (f) =>
    isBundle(f) ? moduleOf(f.lineNumber) : f.url ? `other script: ${f.url.split("/").pop()}` : f.functionName || "(anonymous native)",
  );
  const byFunction = selfTimes(
    profile,
    (f) => `${f.functionName || "(anonymous)"}  ${isBundle(f) ? moduleOf(f.lineNumber) : f.url.split("/").pop() || "(native)"}`,
  );
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const perReq = (us) => `${(us / m.completed).toFixed(0).padStart(6)} µs/req`;
  const top = Number(args.top);

  console.log(`\n${path.label}, c=${args.connections}, ${m.completed} requests in ${m.seconds.toFixed(1)} s (inspector attached: slower than the benchmark)`);
  console.log(
    `isolate busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled = ${perReq(busy)}; workerd process CPU ${perReq(m.workerCpuMicros)}`,
  );
  console.log("\nself time by source module (share of the isolate's busy time):");
  for (const [key, us] of [...byModule]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`  ${pct(us)} ${perReq(us)}  ${key}`);
  console.log("\nself time by function:");
  for (const [key, us] of [...byFunction]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`  ${pct(us)} ${perReq(us)}  ${key}`);
} finally {
  await cleanup.runAll();
}
process.exit(0);

// The processes a benchmark needs, each started on 127.0.0.1 and registered with a cleanup so that
// it is stopped however the run ends: the upstream and the peer (Node children), Workers in their
// own Miniflare (own workerd), the gateway under `wrangler dev`, and the admin-API seeding of the
// gateway.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { adminClient, bundleWorker, root, startGateway } from "../test/support/workerd.mjs";
import { freePort } from "../test/support/upstreams.mjs";
import { POLICIES } from "./paths.mjs";
import { withNewWorkerd } from "./processes.mjs";

export const ADMIN_TOKEN = "bench-admin-token";
export const GRANT_ID_SECRET = "bench-grant-id-secret";

/**
 * Stops a benchmark child (bench/upstream.mjs, bench/peer.mjs) at cleanup: they exit when stdin
 * closes, which also happens if the benchmark dies; SIGKILL after 3 s or at exit as a last resort.
 */
function stopChildAtCleanup(cleanup, child) {
  cleanup.onExitKill(child.pid);
  cleanup.add(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => {
          clearTimeout(force);
          cleanup.forget(child.pid);
          resolve();
        });
        child.stdin.end();
      }),
  );
}

/** The upstream SDK servers (JSON and SSE) in their own Node process (bench/upstream.mjs). */
export async function startUpstream(cleanup) {
  const child = spawn(process.execPath, [join(root, "bench/upstream.mjs")], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  stopChildAtCleanup(cleanup, child);
  const firstLine = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`upstream exited with ${code} before listening`)));
  });
  return JSON.parse(firstLine);
}

/**
 * The peer row's proxy (bench/peer.mjs: @civic/passthrough-mcp-server with an allow-list hook) in
 * its own Node process, forwarding to `upstreamUrl`, allowing `allowedTools`.
 */
export async function startPeer(cleanup, upstreamUrl, allowedTools) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--require", join(root, "test/support/loopback-preload.cjs"), join(root, "bench/peer.mjs"), upstreamUrl, String(port), ...allowedTools],
    { cwd: root, stdio: ["pipe", "ignore", "inherit", "ipc"] },
  );
  stopChildAtCleanup(cleanup, child);
  const ready = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`peer exited with ${code} before listening`)));
  });
  child.disconnect();
  return ready;
}

/**
 * A Worker from its wrangler config, bundled as `wrangler deploy` would, in its own Miniflare (so
 * its own workerd process). `options` are extra Miniflare options (e.g. inspectorPort), and
 * `options.scriptPath` an entry module already bundled from the same config.
 */
export async function startWorkerInMiniflare(cleanup, configPath, bindings, options = {}) {
  const { scriptPath: bundled, ...miniflareOptions } = options;
  const scriptPath = bundled ?? (await bundleWorker(configPath));
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  const { value: mf, workerdPid } = await withNewWorkerd(async () => {
    const instance = new Miniflare({
      ...workerOptions,
      modules: true,
      scriptPath,
      modulesRoot: dirname(scriptPath),
      bindings: { ...workerOptions.bindings, ...bindings },
      host: "127.0.0.1",
      port: 0,
      verbose: false,
      ...miniflareOptions,
    });
    cleanup.add(() => instance.dispose());
    await instance.ready;
    return instance;
  });
  cleanup.onExitKill(workerdPid);
  return { origin: (await mf.ready).origin, workerdPid, scriptPath };
}

/**
 * One server, the policies, and one grant per gateway row, through the admin API; with
 * `sseUpstreamUrl`, a second server for it and the two grants of the large-result rows.
 */
export async function seedGateway(origin, upstreamUrl, sseUpstreamUrl = null) {
  const admin = adminClient(origin, ADMIN_TOKEN);
  const addServer = async (name, url) => {
    const server = await admin("POST", "/servers", { name, url });
    for (const [policyName, document] of Object.entries(POLICIES)) {
      await admin("PUT", `/servers/${server.id}/policies/${policyName}`, document);
    }
    return server;
  };
  const grantFor = async (label, server, policyName) => {
    const created = await admin("POST", "/grants", { label, serverId: server.id, policyName });
    return { url: `${origin}/mcp/${created.grant.id}`, token: created.token };
  };
  const server = await addServer("bench-upstream", upstreamUrl);
  const grants = {
    allowed: await grantFor("bench-allowed", server, "bench-allowed"),
    limited: await grantFor("bench-limited", server, "bench-limited"),
    // default deny with only echo listed; the row calls add
    denied: await grantFor("bench-denied", server, "bench-allowed"),
    listed: await grantFor("bench-listed", server, "bench-listed"),
  };
  if (sseUpstreamUrl === null) return grants;
  const sseServer = await addServer("bench-upstream-sse", sseUpstreamUrl);
  return {
    ...grants,
    largeJson: await grantFor("bench-large-json", server, "bench-large"),
    largeSse: await grantFor("bench-large-sse", sseServer, "bench-large"),
  };
}

/**
 * The gateway as tests start it (test/support/workerd.mjs), or another build of it from its wrangler
 * config (`scriptPath`: that config's bundle, if already built).
 */
export async function startGatewayInMiniflare(cleanup, configPath = null, scriptPath = undefined) {
  if (configPath) return startWorkerInMiniflare(cleanup, configPath, { ADMIN_TOKEN, GRANT_ID_SECRET }, { scriptPath });
  const { value: gateway, workerdPid } = await withNewWorkerd(async () => {
    const started = await startGateway({ adminToken: ADMIN_TOKEN });
    cleanup.add(() => started.dispose());
    return started;
  });
  cleanup.onExitKill(workerdPid);
  return { origin: gateway.origin, workerdPid };
}

async function waitForHttp(url, child, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer ${url} within ${seconds} s`);
}

/** The gateway under `wrangler dev` (its own process group, killed as a group at the end). */
export async function startWranglerDev(cleanup, configPath) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const persistTo = mkdtempSync(join(tmpdir(), "mpg-bench-dev-"));
  const child = spawn(
    process.execPath,
    [
      join(root, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config",
      configPath,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      "--var",
      `ADMIN_TOKEN:${ADMIN_TOKEN}`,
      "--var",
      `GRANT_ID_SECRET:${GRANT_ID_SECRET}`,
      "--show-interactive-dev-session=false",
    ],
    { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
  );
  let output = "";
  const keep = (d) => {
    output = (output + d).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  cleanup.onExitKill(-child.pid);
  cleanup.add(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(-child.pid, "SIGTERM");
      const force = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(force);
    }
    cleanup.forget(-child.pid);
    rmSync(persistTo, { recursive: true, force: true });
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/`, child, 90);
  } catch (error) {
    throw new Error(`${error.message}\n${output}`);
  }
  return { origin, pid: child.pid };
}

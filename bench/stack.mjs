// The processes a benchmark needs, each started on 127.0.0.1 and registered with a cleanup so that
// it is stopped however the run ends: the upstream, Workers in their own Miniflare (own workerd),
// the gateway under `wrangler dev`, and the admin-API seeding of the gateway.
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

/** The upstream SDK server in its own Node process (bench/upstream.mjs). */
export async function startUpstream(cleanup) {
  const child = spawn(process.execPath, [join(root, "bench/upstream.mjs")], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  cleanup.onExitKill(child.pid);
  cleanup.add(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const force = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => {
          clearTimeout(force);
          cleanup.forget(child.pid);
          resolve();
        });
        child.stdin.end();
      }),
  );
  const firstLine = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`upstream exited with ${code} before listening`)));
  });
  return JSON.parse(firstLine);
}

/**
 * A Worker from its wrangler config, bundled as `wrangler deploy` would, in its own Miniflare (so
 * its own workerd process). `options` are extra Miniflare options (e.g. inspectorPort).
 */
export async function startWorkerInMiniflare(cleanup, configPath, bindings, options = {}) {
  const scriptPath = await bundleWorker(configPath);
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
      ...options,
    });
    cleanup.add(() => instance.dispose());
    await instance.ready;
    return instance;
  });
  cleanup.onExitKill(workerdPid);
  return { origin: (await mf.ready).origin, workerdPid, scriptPath };
}

/** One server, the three policies, and one grant per gateway row, through the admin API. */
export async function seedGateway(origin, upstreamUrl) {
  const admin = adminClient(origin, ADMIN_TOKEN);
  const server = await admin("POST", "/servers", { name: "bench-upstream", url: upstreamUrl });
  for (const [name, document] of Object.entries(POLICIES)) {
    await admin("PUT", `/servers/${server.id}/policies/${name}`, document);
  }
  const grantFor = async (label, policyName) => {
    const created = await admin("POST", "/grants", { label, serverId: server.id, policyName });
    return { url: `${origin}/mcp/${created.grant.id}`, token: created.token };
  };
  return {
    allowed: await grantFor("bench-allowed", "bench-allowed"),
    limited: await grantFor("bench-limited", "bench-limited"),
    // default deny with only echo listed; the row calls add
    denied: await grantFor("bench-denied", "bench-allowed"),
    listed: await grantFor("bench-listed", "bench-listed"),
  };
}

/** The gateway as tests start it (test/support/workerd.mjs), or another build of it from its wrangler config. */
export async function startGatewayInMiniflare(cleanup, configPath = null) {
  if (configPath) return startWorkerInMiniflare(cleanup, configPath, { ADMIN_TOKEN, GRANT_ID_SECRET });
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
      join(root, "node_modules/wrangler/bin/wrangler.js"), "dev",
      "--config", configPath,
      "--ip", "127.0.0.1", "--port", String(port),
      "--inspector-ip", "127.0.0.1", "--inspector-port", String(inspectorPort),
      "--persist-to", persistTo,
      "--var", `ADMIN_TOKEN:${ADMIN_TOKEN}`,
      "--var", `GRANT_ID_SECRET:${GRANT_ID_SECRET}`,
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

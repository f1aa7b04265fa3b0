// Starts the gateway (or any Worker) in workerd through Miniflare's API, for the end-to-end tests
// and the benchmark. The Worker is bundled exactly as `wrangler deploy` would bundle it
// (`wrangler deploy --dry-run --outdir`), and its bindings come from wrangler.toml, so what runs here
// is what users deploy. Plain JS so that both vitest (TS) and the Node bench scripts can import it.
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { auditKeyPair } from "../../scripts/audit-keygen.mjs";
import { quietRuntimeStdio } from "./runtime-noise.mjs";

const run = promisify(execFile);
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Bundles a Worker with wrangler; returns the path of the bundled entry module. */
export async function bundleWorker(configPath = join(root, "wrangler.toml")) {
  const outdir = await mkdtemp(join(tmpdir(), "mpg-build-"));
  await run(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir, "--config", configPath], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  return join(outdir, "index.js");
}

let cachedBundle;
/** The gateway's bundle, built once per process. */
export function gatewayBundle() {
  cachedBundle ??= bundleWorker();
  return cachedBundle;
}

/**
 * Starts the gateway on 127.0.0.1 (random port) with in-memory KV, Durable Objects and R2.
 * `persistTo` keeps Durable Object, KV and R2 storage in that folder (otherwise in memory), so a
 * test can look at what was stored. Each gateway gets a fresh AUDIT_SIGNING_KEY (its public key is
 * `auditPublicKey`; `vars: { AUDIT_SIGNING_KEY: "" }` turns signing off) and the R2 bucket
 * AUDIT_ARCHIVE from wrangler.toml (`archive: false` leaves it out; `archive()` reads it).
 *
 * Static assets (the console's CSS and scripts, `[assets]` in wrangler.toml) are served only with
 * `assets: true`. Deployed, `run_worker_first` sends /mcp and /admin straight to the Worker; in
 * Miniflare a JS asset router sits in front of every request instead, and after a refused chunked
 * body it leaves the client's keep-alive connection to be reset (test/e2e/bypass/wire.test.ts failed
 * 2 runs in 4 with it, none in 3 without). The console's browser test and `npm run dev` use assets.
 * @param {{ adminToken?: string, vars?: Record<string,string>, port?: number, persistTo?: string, archive?: boolean, assets?: boolean }} [options]
 * @returns {Promise<{ url: URL, origin: string, adminToken: string, auditPublicKey: string, archive: () => Promise<any>, mf: Miniflare, dispose: () => Promise<void> }>}
 */
export async function startGateway(options = {}) {
  const adminToken = options.adminToken ?? "e2e-admin-token";
  const scriptPath = await gatewayBundle();
  const { workerOptions: configured } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
  const { assets, ...withoutAssets } = configured;
  const workerOptions = options.assets ? configured : withoutAssets;
  const auditKey = await auditKeyPair();
  const mf = new Miniflare({
    ...workerOptions,
    ...(options.archive === false ? { r2Buckets: {} } : {}),
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    bindings: {
      ...workerOptions.bindings,
      GRANT_ID_SECRET: "e2e-grant-id-secret",
      AUDIT_SIGNING_KEY: auditKey.privateJwk,
      ...(options.vars ?? {}),
      ADMIN_TOKEN: adminToken,
    },
    host: "127.0.0.1",
    port: options.port ?? 0,
    verbose: false,
    handleRuntimeStdio: quietRuntimeStdio,
    ...(options.persistTo
      ? { durableObjectsPersist: join(options.persistTo, "do"), kvPersist: join(options.persistTo, "kv"), r2Persist: join(options.persistTo, "r2") }
      : {}),
  });
  const url = await mf.ready;
  const origin = url.origin;
  const archive = () => mf.getR2Bucket("AUDIT_ARCHIVE");
  return { url, origin, adminToken, auditPublicKey: auditKey.publicKey, archive, mf, dispose: () => mf.dispose() };
}

export { adminClient } from "./admin.mjs";

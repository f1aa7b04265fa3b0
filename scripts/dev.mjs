// `npm run dev`: the gateway under `wrangler dev` on 127.0.0.1 with local KV and Durable Objects,
// a demo upstream MCP server, and a seeded server, policy and grant. Prints the grant's URL, its
// token and a ready-to-paste client config. Ctrl-C stops everything.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminClient } from "../test/support/admin.mjs";
import { auditKeyPair } from "./audit-keygen.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8787);
const upstreamPort = Number(process.env.DEMO_UPSTREAM_PORT ?? 8788);
const origin = `http://127.0.0.1:${gatewayPort}`;

// The secrets live in .dev.vars (git-ignored): each one missing is generated on first run.
const devVars = join(root, ".dev.vars");
const secretOf = (name) => new RegExp(`^${name}=(.*)$`, "m").exec(existsSync(devVars) ? readFileSync(devVars, "utf8") : "")?.[1]?.trim();
// AUDIT_SIGNING_KEY is an Ed25519 private JWK (scripts/audit-keygen.mjs), quoted for dotenv.
const auditKey = secretOf("AUDIT_SIGNING_KEY") ? null : `'${(await auditKeyPair()).privateJwk}'`;
for (const name of ["ADMIN_TOKEN", "GRANT_ID_SECRET", "AUDIT_SIGNING_KEY"]) {
  if (secretOf(name)) continue;
  const existing = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  const value = name === "AUDIT_SIGNING_KEY" ? auditKey : randomBytes(32).toString("base64url");
  writeFileSync(devVars, `${existing}${separator}${name}=${value}\n`, { mode: 0o600 });
}
const adminToken = secretOf("ADMIN_TOKEN");
if (!adminToken) throw new Error(".dev.vars has no ADMIN_TOKEN");

const children = [];
function start(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => process.env.VERBOSE && process.stdout.write(`[${name}] ${d}`));
  child.stderr.on("data", (d) => process.env.VERBOSE && process.stderr.write(`[${name}] ${d}`));
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`${name} exited (${code}); stopping.`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // wrangler dev shuts workerd down on SIGINT (Ctrl-C); whatever is still running after 3 s is killed.
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = Promise.all(running.map((child) => new Promise((r) => child.once("exit", r))));
  for (const child of running) child.kill("SIGINT");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  process.exit(code);
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

async function waitFor(url, what) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { method: "GET" });
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not start on ${url}`);
}

start("upstream", [join(root, "scripts/demo-upstream.mjs")], { DEMO_UPSTREAM_PORT: String(upstreamPort) });
start("wrangler", [
  join(root, "node_modules/wrangler/bin/wrangler.js"),
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  String(gatewayPort),
  "--persist-to",
  process.env.DEV_PERSIST_DIR ?? join(root, ".wrangler/state"),
]);
console.log("starting the demo upstream and the gateway (wrangler dev)…");
await waitFor(`http://127.0.0.1:${upstreamPort}/mcp`, "the demo upstream");
await waitFor(`${origin}/`, "the gateway");

const admin = adminClient(origin, adminToken);
const upstreamUrl = `http://127.0.0.1:${upstreamPort}/mcp`;
try {
  await admin("POST", "/servers", { id: "demo", name: "Demo upstream", url: upstreamUrl });
} catch (e) {
  if (e.status !== 409) throw e;
  await admin("PATCH", "/servers/demo", { url: upstreamUrl });
}
const policy = JSON.parse(readFileSync(join(root, "scripts/demo-policy.json"), "utf8"));
const saved = await admin("PUT", "/servers/demo/policies/default", policy);
const created = await admin("POST", "/grants", { label: "demo-agent", serverId: "demo", policyName: "default" });

const config = { mcpServers: { "demo-via-gateway": { type: "http", url: created.url, headers: { Authorization: `Bearer ${created.token}` } } } };
console.log(`
mcp-policy-gateway is running on ${origin}
  console       ${origin}/console   (sign in with the ADMIN_TOKEN from .dev.vars)
  admin API     ${origin}/admin   (Authorization: Bearer <ADMIN_TOKEN from .dev.vars>)
  audit keys    ${origin}/.well-known/mcp-policy-gateway/audit-keys   (docs/audit.md)
  upstream      ${upstreamUrl}   (demo MCP server)
  policy        "default" v${saved.version} (scripts/demo-policy.json)

Grant "${created.grant.label}" (${created.grant.id})
  URL    ${created.url}
  token  ${created.token}

Paste into your MCP client's config:
${JSON.stringify(config, null, 2)}

Try it:  npx @modelcontextprotocol/inspector --cli ${created.url} --transport http --method tools/list --header "Authorization: Bearer ${created.token}"
Ctrl-C stops everything.`);

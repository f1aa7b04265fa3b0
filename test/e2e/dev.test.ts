// `npm run dev` is the README's first command: it must start the gateway under wrangler dev with a
// demo upstream, seed a grant, and print a URL and token that a real SDK client can use at once.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../support/upstreams.mjs";
import { root } from "../support/workerd.mjs";

let dev: ChildProcess | undefined;
afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev!.once("exit", r));
    dev.kill("SIGTERM");
    await exited;
  }
});

it("npm run dev prints the console URL, and a grant URL, token and client config that work at once", async () => {
  const [gatewayPort, upstreamPort] = [await freePort(), await freePort()];
  dev = spawn(process.execPath, [join(root, "scripts/dev.mjs")], {
    cwd: root,
    env: {
      ...process.env,
      GATEWAY_PORT: String(gatewayPort),
      DEMO_UPSTREAM_PORT: String(upstreamPort),
      DEV_PERSIST_DIR: mkdtempSync(join(tmpdir(), "mpg-dev-")),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  dev.stdout!.on("data", (d) => (output += d));
  dev.stderr!.on("data", (d) => (output += d));
  await expect.poll(() => output, { timeout: 90_000, interval: 250 }).toContain("Ctrl-C stops everything.");

  const url = /^\s+URL\s+(\S+)$/m.exec(output)?.[1];
  const token = /^\s+token\s+(\S+)$/m.exec(output)?.[1];
  expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${gatewayPort}/mcp/g[0-9a-f]{32}$`));
  expect(token).toMatch(/^mpg_g[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
  // The console's URL is printed, and it serves its sign-in page (with its stylesheet, from Workers Static Assets).
  const consoleUrl = /^\s+console\s+(\S+)/m.exec(output)?.[1];
  expect(consoleUrl).toBe(`http://127.0.0.1:${gatewayPort}/console`);
  const signIn = await fetch(`${consoleUrl}/sign-in`);
  expect(signIn.status).toBe(200);
  expect(await signIn.text()).toContain('name="token"');
  expect((await fetch(`${consoleUrl}/assets/console.css`)).headers.get("content-type")).toContain("text/css");
  const config = JSON.parse(output.slice(output.indexOf("{\n"), output.indexOf("\n}\n") + 2));
  expect(config.mcpServers["demo-via-gateway"]).toEqual({ type: "http", url, headers: { Authorization: `Bearer ${token}` } });

  const client = new Client({ name: "dev-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url!), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).not.toContain("delete_account");
  const echoed: any = await client.callTool({ name: "echo", arguments: { message: "hi from dev" } });
  expect(echoed.content[0].text).toBe("hi from dev");
  const denied: any = await client.callTool({ name: "create_refund", arguments: { customer: 1, amount: 50000, reason: "x" } });
  expect(denied.content[0].text).toBe("[POLICY DENIED] Refund exceeds the policy limit.");
  await client.close();
  // The audit signing key generated into .dev.vars reaches wrangler dev intact.
  const keys: any = await (await fetch(`http://127.0.0.1:${gatewayPort}/.well-known/mcp-policy-gateway/audit-keys`)).json();
  expect(keys.keys.map((k: any) => k.status)).toEqual(["active"]);
}, 120_000);

// The CLI end to end, against the gateway in workerd (Miniflare) with a real SDK upstream on
// 127.0.0.1. One gateway for the file. Every command is run in both output modes where it has
// them, the `--json` shapes are asserted, and so are the exit codes (0 ok, 1 errors, 2 usage,
// 3 refused).
//
// `mpg` runs a command line through the CLI's `main` inside this process (test/support/cli.mjs),
// with its own environment, stdin and captured output: the same code as the bundle, at a fraction
// of a process's cost. `mpgProcess` runs the esbuild bundle with plain `node` as a child process,
// as an installed `mpg` runs; it is kept for what only a process proves: the bundle and its
// version stamp, stdin as a real pipe (the admin token, prompted header values), exit statuses
// (0, 1, 2, 3), no colour on a pipe, the working directory, the token printed once on stdout,
// and `audit --follow` stopping on SIGINT. The workflow test runs the bundle from bash.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { cliBundle, runCli, runCliInProcess, startCli } from "../support/cli.mjs";
import { freePort, startSdkServer } from "../support/upstreams.mjs";
import { adminClient, root, startGateway } from "../support/workerd.mjs";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Run = Awaited<ReturnType<typeof runCli>>;

const ADMIN_TOKEN = "cli-e2e-admin-token-5f0c1d2e";
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: Awaited<ReturnType<typeof startSdkServer>>;
let admin: Admin;
let work: string;
/** CI style: the gateway and token from the environment, no login. */
let ci: Record<string, string>;

beforeAll(async () => {
  [gateway, upstream, work] = await Promise.all([
    startGateway({ adminToken: ADMIN_TOKEN, vars: { APPROVAL_HOLD_MS: "0" } }),
    startSdkServer(),
    mkdtemp(join(tmpdir(), "mpg-cli-e2e-")),
    cliBundle(),
  ]);
  admin = adminClient(gateway.origin, ADMIN_TOKEN) as Admin;
  ci = { MPG_URL: gateway.origin, MPG_ADMIN_TOKEN: ADMIN_TOKEN, MPG_CONFIG_DIR: join(work, "no-login") };
  await admin("POST", "/servers", { id: "shop", name: "Shop", url: upstream.url });
});
afterAll(async () => {
  await upstream?.close();
  await gateway?.dispose();
});

type Options = { env?: Record<string, string>; input?: string };
/** The CLI in this process (most checks). */
const mpg = (args: string[], options: Options = {}): Promise<Run> => runCliInProcess(args, { ...options, env: { ...ci, ...(options.env ?? {}) } });
/** The bundle as a child process: for what only a process shows. */
const mpgProcess = (args: string[], options: Options & { cwd?: string } = {}): Promise<Run> =>
  runCli(args, { ...options, env: { ...ci, ...(options.env ?? {}) } });

/** Nothing the CLI printed holds this secret. */
function neverShows(run: Run, secret: string): void {
  expect(run.stdout).not.toContain(secret);
  expect(run.stderr).not.toContain(secret);
}

async function policyFile(name: string, document: unknown): Promise<string> {
  const path = join(work, name);
  await writeFile(path, typeof document === "string" ? document : JSON.stringify(document, null, 2));
  return path;
}

/** A real MCP client through a grant: what an agent with the printed token can do. */
async function callThrough(grantUrl: string, token: string, calls: { name: string; arguments?: Record<string, unknown> }[]) {
  const client = new Client({ name: "cli-e2e-agent", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(grantUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  const results = [];
  for (const call of calls) results.push(await client.callTool({ name: call.name, arguments: call.arguments ?? {} }));
  await client.close();
  return results;
}

describe("login", () => {
  it("checks the token with the gateway, saves it mode 0600, and never takes it from argv", async () => {
    const dir = join(work, "login");
    const env = { MPG_CONFIG_DIR: dir, MPG_URL: "", MPG_ADMIN_TOKEN: "" };

    const [wrong, inArgv, noTerminal] = await Promise.all([
      mpg(["login", "--gateway", gateway.origin, "--token-stdin"], { env, input: "wrong-token-0123456789\n" }),
      mpg(["login", "--gateway", gateway.origin, `--token=${ADMIN_TOKEN}`], { env }),
      mpg(["login", "--gateway", gateway.origin], { env }),
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("401 unauthorized");
    neverShows(wrong, "wrong-token-0123456789");
    await expect(stat(join(dir, "config.json"))).rejects.toThrow(/ENOENT/);

    expect(inArgv.code).toBe(2);
    expect(inArgv.stderr).toContain("unknown option '--token=…'");
    neverShows(inArgv, ADMIN_TOKEN);

    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toContain("--token-stdin");

    const ok = await mpgProcess(["login", "--gateway", `${gateway.origin}/`, "--token-stdin", "--json"], { env, input: `${ADMIN_TOKEN}\n` });
    expect(ok.code).toBe(0);
    neverShows(ok, ADMIN_TOKEN);
    expect(ok.json()).toEqual({ url: gateway.origin, configPath: join(dir, "config.json"), servers: expect.any(Number) });
    expect((await stat(join(dir, "config.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    expect(saved).toEqual({ current: gateway.origin, gateways: { [gateway.origin]: { token: ADMIN_TOKEN, saved: expect.any(String) } } });

    // Later commands use the saved login; the token is never offered to another gateway.
    const [listed, elsewhere] = await Promise.all([
      mpg(["servers", "list", "--json"], { env }),
      mpg(["servers", "list", "--gateway", "http://127.0.0.1:1"], { env }),
    ]);
    expect(listed.code).toBe(0);
    expect(listed.json().servers.map((s: any) => s.id)).toContain("shop");
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("No admin token for http://127.0.0.1:1");

    const human = await mpg(["logout"], { env });
    expect(human.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, "config.json"), "utf8"))).toEqual({ current: null, gateways: {} });
    const loggedOut = await mpg(["servers", "list"], { env });
    expect(loggedOut.code).toBe(2);
    expect(loggedOut.stderr).toContain("mpg login");
  });
});

describe("servers", () => {
  it("adds, lists, shows, updates and removes servers; header values come from env or a prompt, never argv", async () => {
    const key = "sk-upstream-secret-7c1a";
    const added = await mpg(["servers", "add", "crm", "--name", "CRM", "--url", upstream.url, "--header-from-env", "X-Api-Key=CRM_KEY", "--json"], {
      env: { CRM_KEY: key },
    });
    expect(added.code).toBe(0);
    neverShows(added, key);
    expect(added.json()).toMatchObject({
      id: "crm",
      name: "CRM",
      url: upstream.url,
      headers: ["X-Api-Key"],
      version: 1,
      discovery: { outcome: "ok", tools: 6 },
    });
    // The value reached the upstream: the gateway sent it when it discovered the tools.
    expect(upstream.requests.some((r: any) => r.headers["x-api-key"] === key)).toBe(true);

    const prompted = await mpgProcess(["servers", "update", "crm", "--header", "X-Api-Key", "--header", "X-Tenant"], { input: "sk-prompted-1\nacme\n" });
    expect(prompted.code).toBe(0);
    expect(prompted.stdout).toMatch(/✓ Updated server crm to version 2; discovered 6 tools/);
    neverShows(prompted, "sk-prompted-1");
    expect(upstream.requests.some((r: any) => r.headers["x-api-key"] === "sk-prompted-1" && r.headers["x-tenant"] === "acme")).toBe(true);

    const [inArgv, unset, nothing, list, listJson, shown, shownJson] = await Promise.all([
      mpg(["servers", "update", "crm", "--header", "X-Api-Key=sk-in-argv-99"]),
      mpg(["servers", "update", "crm", "--header-from-env", "X-Api-Key=NOT_SET_ANYWHERE"]),
      mpg(["servers", "update", "crm"]),
      mpg(["servers", "list"]),
      mpg(["servers", "list", "--json"]),
      mpg(["servers", "show", "crm"]),
      mpg(["servers", "show", "crm", "--json"]),
    ]);
    expect(inArgv.code).toBe(2);
    expect(inArgv.stderr).toContain("never taken from the command line");
    neverShows(inArgv, "sk-in-argv-99");
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("NOT_SET_ANYWHERE is not set");
    expect(nothing.code).toBe(2);

    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID +NAME +URL +HEADERS +VERSION +UPDATED$/);
    const crmRow = rows.find((row) => row.startsWith("crm "))!;
    // Aligned: every column starts where its header does.
    expect(crmRow.indexOf(upstream.url)).toBe(header!.indexOf("URL"));
    expect(crmRow).toContain("X-Api-Key,X-Tenant");
    expect(listJson.json()).toEqual({
      servers: expect.arrayContaining([expect.objectContaining({ id: "crm", headers: ["X-Api-Key", "X-Tenant"], version: 2 })]),
    });

    expect(shown.stdout).toMatch(/headers: +X-Api-Key, X-Tenant/);
    expect(shown.stdout).toContain("No policies.");
    expect(shownJson.json()).toMatchObject({ id: "crm", version: 2, policies: [] });

    const [renamed, discovered, unconfirmed, invalid, incomplete] = await Promise.all([
      mpg(["servers", "update", "crm", "--name", "CRM (prod)", "--json"]),
      mpg(["servers", "discover", "crm", "--json"]),
      mpg(["servers", "rm", "crm"]),
      mpg(["servers", "add", "Bad_Id", "--name", "x", "--url", upstream.url, "--json"]),
      mpg(["servers", "add", "x", "--name", "x"]),
    ]);
    expect(renamed.json()).toMatchObject({ id: "crm", name: "CRM (prod)", version: 3 });
    expect(renamed.json().discovery).toBeUndefined();
    expect(discovered.json()).toMatchObject({ serverId: "crm", discovery: { outcome: "ok", tools: 6 } });
    expect(invalid.code).toBe(3);
    expect(JSON.parse(invalid.stderr).error).toMatchObject({ status: 400, code: "invalid_body", details: [{ path: "/id" }] });
    expect(incomplete.code).toBe(2);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("--yes");
    expect((await mpg(["servers", "rm", "crm", "--yes", "--json"])).json()).toEqual({ id: "crm", deleted: true });

    const [gone, goneJson] = await Promise.all([mpgProcess(["servers", "show", "crm"]), mpg(["servers", "show", "crm", "--json"])]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toBe('error: the gateway refused (404 server_not_found): No server "crm"\n');
    expect(goneJson.code).toBe(3);
    expect(goneJson.stdout).toBe("");
    expect(JSON.parse(goneJson.stderr)).toEqual({ error: { status: 404, code: "server_not_found", message: 'No server "crm"' } });
  });
});

describe("tools", () => {
  it("shows the catalogue with risk classes, and sets and drops overrides", async () => {
    const [human, jsonRun, badCategory, noTool, noServer] = await Promise.all([
      mpg(["tools", "shop"]),
      mpg(["tools", "shop", "--json"]),
      mpg(["tools", "classify", "shop", "echo", "dangerous"]),
      mpg(["tools", "classify", "shop", "no_such_tool", "read"]),
      mpg(["tools", "nowhere"]),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^TOOL +CATEGORY +RISK +RECOMMENDED +NOTES$/m);
    expect(human.stdout).toMatch(/^create_refund +financial +critical +deny *$/m);
    expect(human.stdout).toMatch(/^list_customers +read +low +60\/minute *$/m);
    expect(human.stdout).toContain("6 tools of shop");

    const json = jsonRun.json();
    expect(json).toMatchObject({ serverId: "shop", stale: false });
    expect(json.tools.find((t: any) => t.name === "delete_account")).toMatchObject({
      category: "destructive",
      risk: "critical",
      recommended: { allowed: false },
    });

    const classified = await mpg(["tools", "classify", "shop", "echo", "execute", "--json"]);
    expect(classified.json()).toMatchObject({ name: "echo", category: "execute", override: { category: "execute" }, classification: { category: "read" } });
    expect((await mpg(["tools", "shop", "--wide"])).stdout).toMatch(/^echo +execute +high +10\/minute +override \(classifier: read\) +/m);
    expect((await mpg(["tools", "unclassify", "shop", "echo", "--json"])).json()).toMatchObject({ name: "echo", category: "read", override: null });

    expect(badCategory.code).toBe(2);
    expect(noTool.code).toBe(3);
    expect(noServer.code).toBe(3);
  });
});

describe("policy lint", () => {
  const invalid = {
    version: 1,
    default: "deny",
    tools: {
      run: { deny_iff: [], limits: [{ counter: "run_rate", window: "week", max: 5 }] },
      search: { deny_if: [{ conditions: [{ path: "args.q", op: "regex", value: "(?!x)" }], on_deny: "no" }] },
    },
  };

  it("reports exactly the gateway's errors, at their JSON pointers and lines, and exits 1", async () => {
    const file = await policyFile("invalid.json", invalid);
    const [run, human, annotated] = await Promise.all([
      mpg(["policy", "lint", file, "--json"], { env: { MPG_URL: "", MPG_ADMIN_TOKEN: "" } }),
      mpg(["policy", "lint", file], { env: { MPG_URL: "", MPG_ADMIN_TOKEN: "" } }),
      mpg(["policy", "lint", file], { env: { GITHUB_ACTIONS: "true" } }),
    ]);
    expect(run.code).toBe(1);
    const [result] = run.json().files;
    const gatewaySays = await fetch(`${gateway.origin}/admin/servers/shop/policies/invalid`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: await readFile(file),
    }).then((r) => r.json() as Promise<any>);
    expect(gatewaySays.error).toBe("invalid_policy");
    expect(result.errors.map((e: any) => ({ path: e.path, message: e.message })).sort(byPath)).toEqual([...gatewaySays.details].sort(byPath));
    expect(result.errors.find((e: any) => e.path === "/version")).toMatchObject({ severity: "error", code: "invalid_policy", line: 2, column: 3 });

    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${file}:2:3`);
    expect(human.stdout).toMatch(/error +\/tools\/search\/deny_if\/0\/conditions\/0\/value +lookahead "\(\?!" is not supported/);
    expect(human.stdout).toContain("✖ 4 errors, 0 warnings in 1 file");

    expect(annotated.stdout).toContain(`::error file=${file},line=2,col=3,title=/version::expected "1"`);
  });

  it("refuses what the gateway's strict parser refuses", async () => {
    const file = await policyFile("duplicate.json", '{"version":"1","default":"deny","tools":{"pay":{"deny_if":[]},"pay":{}}}');
    const run = await mpg(["policy", "lint", file, "--json"]);
    expect(run.code).toBe(1);
    expect(run.json().files[0].errors).toEqual([
      { severity: "error", code: "invalid_json", path: "", message: "not valid JSON: duplicate object key", line: 1, column: expect.any(Number) },
    ]);
    const gatewaySays = await fetch(`${gateway.origin}/admin/servers/shop/policies/dup`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: await readFile(file),
    }).then((r) => r.json() as Promise<any>);
    expect(gatewaySays).toMatchObject({ error: "invalid_json", details: { reason: "duplicate_key" } });
  });

  it("warns about what the gateway accepts but is rarely meant, offline and against the catalogue", async () => {
    const file = await policyFile("warnings.json", {
      version: "1",
      default: "allow",
      mode: "monitor",
      hide: ["delete_acount"],
      tools: {
        create_refund: { limits: [{ counter: "refund", window: "minute", max: 5 }] },
        add: {
          limits: [
            { counter: "refunds", window: "day", max: 100 },
            { counter: "refunds", window: "minute", max: 5 },
          ],
        },
        echo: { deny_if: [{ conditions: [{ path: "args.env", op: "neq", value: "staging" }], on_deny: "staging only" }] },
        ech0: {},
      },
    });
    const [offline, online, human, missing, none, nowhere] = await Promise.all([
      mpg(["policy", "lint", file, "--json"], { env: { MPG_URL: "", MPG_ADMIN_TOKEN: "" } }),
      mpg(["policy", "lint", file, "--server", "shop", "--json"]),
      mpg(["policy", "lint", file, "--server", "shop"]),
      mpg(["policy", "lint", join(work, "missing.json")]),
      mpg(["policy", "lint"]),
      mpg(["policy", "lint", file, "--server", "nowhere"]),
    ]);
    expect(offline.code).toBe(0);
    expect(offline.json()).toMatchObject({ ok: true, server: null, files: [{ file, ok: true, errors: [] }] });
    expect(offline.json().files[0].warnings.map((w: any) => [w.code, w.path])).toEqual([
      ["monitor_mode", "/mode"],
      ["lonely_counter", "/tools/create_refund/limits/0/counter"],
      ["unpaired_negation", "/tools/echo/deny_if/0/conditions/0"],
    ]);
    expect(offline.json().files[0].warnings[1].message).toBe(
      'counter "refund" is used by no other limit and is not named "create_refund_rate"; did you mean "refunds" (used by another limit)?',
    );

    expect(online.code).toBe(0);
    expect(
      online
        .json()
        .files[0].warnings.filter((w: any) => w.code === "unknown_tool")
        .map((w: any) => [w.path, w.message]),
    ).toEqual([
      ["/hide/0", 'server shop lists no tool "delete_acount" (did you mean "delete_account"?); if it is a typo, the real tool is not hidden'],
      ["/tools/ech0", 'server shop lists no tool "ech0" (did you mean "echo"?); if it is a typo, the real tool runs without these rules'],
    ]);
    expect(human.stdout).toMatch(/warning +\/tools\/ech0 +server shop lists no tool "ech0"/);
    expect(human.stdout).toContain("✓ 1 file valid, 5 warnings");

    expect(missing.code).toBe(1);
    expect(none.code).toBe(2);
    expect(nowhere.code).toBe(3);
  });
});

describe("policy diff, push, pull", () => {
  it("diffs against the live version, pushes only changes, counts the grants that took it, and pulls versions", async () => {
    const v1 = {
      version: "1",
      default: "deny",
      tools: { list_customers: {}, create_refund: { limits: [{ counter: "create_refund_rate", window: "minute", max: 5 }] } },
    };
    const file = await policyFile("support.json", v1);

    const [fresh, dry] = await Promise.all([
      mpg(["policy", "diff", "shop", "support", file, "--json"]),
      mpg(["policy", "push", "shop", "support", file, "--dry-run", "--json"]),
    ]);
    expect(fresh.code).toBe(0);
    expect(fresh.json()).toMatchObject({ serverId: "shop", name: "support", file, live: null, changed: true, changes: [{ op: "add", path: "" }] });
    expect(fresh.json().patch).toMatch(/^--- \/dev\/null\n\+\+\+ .*support\.json\n@@ -0,0 \+1,\d+ @@\n\+\{/);

    expect(dry.json()).toMatchObject({ dryRun: true, changed: true, saved: null });
    expect((await admin("GET", "/servers/shop/policies")).policies).toEqual([]);

    const pushed = await mpg(["policy", "push", "shop", "support", file]);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain("New policy shop/support");
    expect(pushed.stdout).toContain("✓ Saved shop/support version 1; 0 grants took it");

    const grant = await admin("POST", "/grants", { label: "policy-bot", serverId: "shop", policyName: "support" });
    await writeFile(
      file,
      JSON.stringify({ ...v1, tools: { ...v1.tools, create_refund: { limits: [{ counter: "create_refund_rate", window: "minute", max: 7 }] } } }),
    );
    const [diff, diffJson] = await Promise.all([mpg(["policy", "diff", "shop", "support", file]), mpg(["policy", "diff", "shop", "support", file, "--json"])]);
    expect(diff.stdout).toContain("--- shop/support version 1 (live)");
    expect(diff.stdout).toMatch(/^-\s+"max": 5$/m);
    expect(diff.stdout).toMatch(/^\+\s+"max": 7$/m);
    expect(diff.stdout).toContain("1 change to shop/support");
    expect(diffJson.json()).toMatchObject({
      live: { version: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      changed: true,
      changes: [{ op: "replace", path: "/tools/create_refund/limits/0/max", from: 5, to: 7 }],
    });

    const second = await mpg(["policy", "push", "shop", "support", file, "--json"]);
    expect(second.json()).toMatchObject({ changed: true, dryRun: false, saved: { version: 2, grants: 1 } });
    expect((await admin("GET", `/grants/${grant.grant.id}`)).policyVersion).toBe(2);

    // The same content reformatted and reordered is no change: nothing is saved again.
    await writeFile(
      file,
      JSON.stringify({
        tools: { create_refund: { limits: [{ max: 7, window: "minute", counter: "create_refund_rate" }] }, list_customers: {} },
        default: "deny",
        version: "1",
      }),
    );
    const again = await mpg(["policy", "push", "shop", "support", file]);
    expect(again.stdout).toBe("Unchanged: shop/support stays at version 2; nothing saved\n");
    expect((await admin("GET", "/servers/shop/policies/support")).version).toBe(2);

    const broken = await policyFile("broken.json", {
      version: "1",
      default: "deny",
      tools: { x: { limits: [{ counter: "x_rate", window: "week", max: 1 }] } },
    });
    const [refused, noServer] = await Promise.all([mpg(["policy", "push", "shop", "support", broken]), mpg(["policy", "push", "nowhere", "support", file])]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("/tools/x/limits/0/window");
    expect(refused.stderr).toContain("nothing was sent");
    const refusedJson = await mpg(["policy", "diff", "shop", "support", broken, "--json"]);
    expect(refusedJson.code).toBe(1);
    expect(refusedJson.stdout).toBe("");
    expect(JSON.parse(refusedJson.stderr).error).toMatchObject({
      code: "lint_failed",
      details: { file: broken, errors: [{ path: "/tools/x/limits/0/window", line: expect.any(Number) }] },
    });
    expect((await admin("GET", "/servers/shop/policies/support")).version).toBe(2);
    expect(noServer.code).toBe(3);

    const pulled = join(work, "pulled.json");
    const recommendedFile = join(work, "recommended.json");
    const [pull, toStdout, defaultName, badVersion, noVersion, list, listJson, recommended] = await Promise.all([
      mpg(["policy", "pull", "shop", "support", "--version", "1", "-o", pulled, "--json"]),
      mpg(["policy", "pull", "shop", "support", "-o", "-"]),
      mpgProcess(["policy", "pull", "shop", "support"], { cwd: work }),
      mpg(["policy", "pull", "shop", "support", "--version", "x"]),
      mpg(["policy", "pull", "shop", "support", "--version", "9"]),
      mpg(["policy", "list", "shop"]),
      mpg(["policy", "list", "shop", "--json"]),
      mpg(["policy", "recommend", "shop", "-o", recommendedFile]),
    ]);
    expect(pull.json()).toEqual({ serverId: "shop", name: "support", version: 1, sha256: expect.any(String), file: pulled });
    expect(JSON.parse(await readFile(pulled, "utf8"))).toEqual({ ...v1, mode: "enforce" });
    expect(JSON.parse(toStdout.stdout).tools.create_refund.limits[0].max).toBe(7);
    expect(defaultName.stdout).toContain("Wrote shop/support version 2 to support.json");
    expect(badVersion.code).toBe(2);
    expect(noVersion.code).toBe(3);

    expect(list.stdout).toMatch(/^NAME +LATEST +CREATED +UPDATED\nsupport +2 /);
    expect(listJson.json()).toMatchObject({ serverId: "shop", policies: [{ name: "support", latest: 2 }] });

    expect(recommended.code).toBe(0);
    expect(recommended.stderr).toContain("create_refund:");
    const recommendation = JSON.parse(await readFile(recommendedFile, "utf8"));
    expect(recommendation).toMatchObject({
      version: "1",
      default: "deny",
      tools: { list_customers: { limits: [{ counter: "list_customers_rate", max: 60 }] } },
    });
    // What the gateway recommends lints clean (checked below, with the rm confirmation).

    await admin("DELETE", `/grants/${grant.grant.id}`);
    const [lintedRecommendation, unconfirmed] = await Promise.all([
      mpg(["policy", "lint", recommendedFile, "--server", "shop", "--json"]),
      mpg(["policy", "rm", "shop", "support"]),
    ]);
    expect(lintedRecommendation.json().files[0]).toMatchObject({ ok: true, warnings: [] });
    expect(unconfirmed.code).toBe(2);
    expect((await mpg(["policy", "rm", "shop", "support", "--yes", "--json"])).json()).toEqual({ serverId: "shop", name: "support", deleted: true, grants: 0 });
  });
});

describe("grants", () => {
  it("creates a grant and prints its token once with a client config; the token works; later commands never show it", async () => {
    await admin("PUT", "/servers/shop/policies/agents", { version: "1", default: "deny", tools: { list_customers: {} } });
    const created = await mpgProcess(["grants", "create", "support-bot", "--server", "shop", "--policy", "agents", "--client", "claude-code"]);
    expect(created.code).toBe(0);
    const token = /^(mpg_g[0-9a-f]{32}_\S+)$/m.exec(created.stdout)?.[1];
    expect(token).toBeDefined();
    const grantId = token!.slice(4, 37);
    const url = `${gateway.origin}/mcp/${grantId}`;
    expect(created.stdout).toContain(`✓ Created grant ${grantId} (support-bot) on shop, policy agents v1`);
    expect(created.stdout).toContain("Token (shown once");
    expect(created.stdout).toContain(`claude mcp add --transport http support-bot ${url} --header 'Authorization: Bearer ${token}'`);
    expect(created.stderr).toBe("");

    // The printed token is the grant's: an agent with it lists customers and nothing else.
    const [allowed, denied] = await callThrough(url, token!, [{ name: "list_customers" }, { name: "delete_account", arguments: { customer: 1 } }]);
    expect(allowed!.isError).toBeFalsy();
    expect(JSON.stringify(denied)).toContain("[POLICY DENIED]");

    const clients = ["cursor", "vscode", "claude-desktop", "inspector"];
    const [badClient, noServer, list, listJson, shown, shownJson, ...perClient] = await Promise.all([
      mpg(["grants", "create", "x", "--server", "shop", "--client", "emacs"]),
      mpg(["grants", "create", "x", "--server", "nowhere"]),
      mpg(["grants", "list", "--server", "shop"]),
      mpg(["grants", "list", "--json"]),
      mpg(["grants", "show", grantId]),
      mpg(["grants", "show", grantId, "--json"]),
      ...clients.map((client) =>
        mpg(["grants", "create", `bot-${client}`, "--server", "shop", "--client", client, "--json", ...(client === "cursor" ? ["--region", "weur"] : [])]),
      ),
    ]);
    for (const [i, client] of clients.entries()) {
      const run = perClient[i]!;
      expect(run.code).toBe(0);
      const answer = run.json();
      expect(answer).toMatchObject({
        grant: { label: `bot-${client}`, serverId: "shop", policyName: null },
        token: expect.stringMatching(/^mpg_g/),
        url: expect.stringContaining("/mcp/g"),
        serverUrl: `${gateway.origin}/mcp/shop`,
      });
      const config = answer.clientConfig;
      expect(config.client).toBe(client);
      if (client === "cursor") expect(answer.grant.placement).toEqual({ region: "weur", createdFrom: expect.toBeOneOf([expect.any(String), null]) });
      if (client === "cursor")
        expect(config.value).toEqual({ mcpServers: { [`bot-${client}`]: { url: answer.url, headers: { Authorization: `Bearer ${answer.token}` } } } });
      if (client === "vscode") {
        expect(config.value.servers[`bot-${client}`]).toEqual({
          type: "http",
          url: answer.url,
          headers: { Authorization: `Bearer \${input:bot-${client}-token}` },
        });
        expect(config.text).not.toContain(answer.token);
      }
      if (client === "claude-desktop")
        expect(config.value.mcpServers[`bot-${client}`]).toEqual({
          command: "npx",
          args: ["mcp-remote", answer.url, "--header", "Authorization: Bearer ${MPG_TOKEN}"],
          env: { MPG_TOKEN: answer.token },
        });
      if (client === "inspector")
        expect(config.text).toBe(
          `npx @modelcontextprotocol/inspector --cli ${answer.url} --transport http --header 'Authorization: Bearer ${answer.token}' --method tools/list\n`,
        );
    }
    expect(badClient.code).toBe(2);
    expect(noServer.code).toBe(3);

    expect(list.stdout).toMatch(/^ID +LABEL +SERVER +POLICY +STATUS +CREATED$/m);
    expect(list.stdout).toMatch(new RegExp(`^${grantId} +support-bot +shop +agents +active `, "m"));
    neverShows(list, token!);
    expect(listJson.json().grants.find((g: any) => g.id === grantId)).toEqual({
      id: grantId,
      label: "support-bot",
      serverId: "shop",
      policyName: "agents",
      created: expect.any(String),
      revoked: null,
      rotated: null,
      placement: { region: null, createdFrom: expect.toBeOneOf([expect.any(String), null]) },
    });

    expect(shown.stdout).toMatch(/policy: +agents version 1/);
    expect(shown.stdout).toMatch(new RegExp(`^url: +${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    expect(shown.stdout).toMatch(/^placement: +(near \S+, where it was created|where it was created \(location unknown\))$/m);
    neverShows(shown, token!);
    expect(shownJson.json()).toMatchObject({ id: grantId, policyVersion: 1, policySha256: expect.any(String), upstreamVersion: 1 });

    const [relabelled, nothing] = await Promise.all([mpg(["grants", "update", grantId, "--label", "helpdesk", "--json"]), mpg(["grants", "update", grantId])]);
    expect(relabelled.json()).toMatchObject({ label: "helpdesk", policyName: "agents" });
    expect(nothing.code).toBe(2);
    expect((await mpg(["grants", "update", grantId, "--no-policy"])).stdout).toContain("no policy (denies every call)");
    expect((await mpg(["grants", "update", grantId, "--policy", "agents", "--json"])).json()).toMatchObject({ policyName: "agents", policyVersion: 1 });

    const rotated = await mpg(["grants", "rotate", grantId, "--json"]);
    const newToken = rotated.json().token as string;
    expect(rotated.json()).toMatchObject({ grant: { id: grantId, rotated: expect.any(String) }, url });
    expect(newToken).not.toBe(token);
    const statusWith = async (t: string) =>
      (
        await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${t}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: "{}",
        })
      ).status;
    expect(await statusWith(token!)).toBe(401);
    expect(await statusWith(newToken)).not.toBe(401);
    const rotatedHuman = await mpg(["grants", "rotate", grantId, "--client", "cursor"]);
    expect(rotatedHuman.stdout).toContain("the previous token no longer works");
    expect(rotatedHuman.stdout).toContain('"mcpServers"');

    expect((await mpg(["grants", "revoke", grantId, "--yes", "--json"])).json()).toMatchObject({ grant: { id: grantId, revoked: expect.any(String) } });
    const [revokedShown, rotateRevoked, unconfirmed] = await Promise.all([
      mpg(["grants", "show", grantId]),
      mpg(["grants", "rotate", grantId, "--json"]),
      mpg(["grants", "rm", grantId]),
    ]);
    expect(revokedShown.stdout).toMatch(/status: +revoked at /);
    expect(unconfirmed.code).toBe(2);
    expect(rotateRevoked.code).toBe(3);
    expect(JSON.parse(rotateRevoked.stderr).error).toMatchObject({ status: 409, code: "grant_revoked" });

    expect((await mpg(["grants", "rm", grantId, "--yes"])).stdout).toContain(`Deleted grant ${grantId}`);
    const [deletedShown, auditKept] = await Promise.all([mpg(["grants", "show", grantId]), mpg(["audit", grantId, "--json"])]);
    expect(deletedShown.code).toBe(3);
    expect(auditKept.json().records.length).toBeGreaterThan(0);
  });
});

describe("audit", () => {
  it("lists records with client-side filters, follows new ones, and verifies the chain", async () => {
    await admin("PUT", "/servers/shop/policies/audited", { version: "1", default: "deny", tools: { list_customers: {}, echo: {} } });
    const created = await admin("POST", "/grants", { label: "audited", serverId: "shop", policyName: "audited" });
    const grantId = created.grant.id as string;
    await callThrough(created.url, created.token, [
      { name: "list_customers" },
      { name: "delete_account", arguments: { customer: 1 } },
      { name: "echo", arguments: { message: "hi" } },
    ]);

    const [all, denied, human, echo, lastHour, future, lastTwo, badSince, unknownGrant, verified, verifiedHuman] = await Promise.all([
      mpg(["audit", grantId, "--json"]),
      mpg(["audit", grantId, "--decision", "deny", "--json"]),
      mpg(["audit", grantId, "--decision", "deny"]),
      mpg(["audit", grantId, "--tool", "echo", "--json"]),
      mpg(["audit", grantId, "--since", "1h", "--json"]),
      mpg(["audit", grantId, "--since", "2999-01-01T00:00:00Z", "--json"]),
      mpg(["audit", grantId, "--limit", "2", "--json"]),
      mpg(["audit", grantId, "--since", "yesterday"]),
      mpg(["audit", `g${"0".repeat(32)}`]),
      mpg(["audit", "verify", grantId, "--local", "--json"]),
      mpg(["audit", "verify", grantId]),
    ]);
    expect(all.code).toBe(0);
    const records = all.json().records as any[];
    expect(all.json()).toMatchObject({ grantId, filter: { decisions: null, tool: null, since: null } });
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(records.filter((r) => r.type === "decision" && r.rpcMethod === "tools/call").map((r) => [r.tool, r.decision])).toEqual([
      ["list_customers", "allow"],
      ["delete_account", "deny"],
      ["echo", "allow"],
    ]);
    neverShows(all, created.token);

    expect(denied.json().records.map((r: any) => [r.tool, r.code])).toEqual([["delete_account", "not_permitted"]]);
    expect(human.stdout).toMatch(/^SEQ +TIME +TYPE +DECISION +TARGET +CODE +DETAIL$/m);
    expect(human.stdout).toMatch(
      /^\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +decision +deny +delete_account +not_permitted +Tool "delete_account" is not permitted by policy$/m,
    );
    expect(echo.json().records.map((r: any) => r.tool)).toEqual(["echo"]);
    expect(lastHour.json().records).toHaveLength(records.length);
    expect(future.json().records).toEqual([]);
    expect(lastTwo.json().records.map((r: any) => r.seq)).toEqual([records.length - 1, records.length]);
    expect(badSince.code).toBe(2);
    expect(unknownGrant.code).toBe(3);

    const follower = await startCli(["audit", grantId, "--follow", "--interval", "200ms", "--decision", "deny"], { env: ci });
    await follower.waitFor((out: string) => out.includes("delete_account"));
    await callThrough(created.url, created.token, [{ name: "add", arguments: { a: 1, b: 2 } }]);
    await follower.waitFor((out: string) => /decision +deny +add +not_permitted/.test(out));
    (follower.child as import("node:child_process").ChildProcess).kill("SIGINT");
    expect(await follower.exited).toBe(0);
    expect(follower.output.stdout.split("\n").filter((line) => line.includes("decision"))).toHaveLength(2);

    expect(verified.code).toBe(0);
    expect(verified.json()).toEqual({
      grantId,
      ok: true,
      gateway: { ok: true, count: expect.any(Number) },
      local: { ok: true, count: expect.any(Number), start: { seq: 0, hash: "0".repeat(64) } },
    });
    expect(verified.json().local.count).toBe(verified.json().gateway.count);
    expect(verifiedHuman.stdout).toMatch(/^✓ gateway: the chain of \d+ records is intact\n$/);
  });
});

describe("verify-audit", () => {
  it("saves a real signed export, verifies it offline, names the record a one-byte edit changed, and refuses another key", async () => {
    await admin("PUT", "/servers/shop/policies/exported", { version: "1", default: "allow" });
    const created = await admin("POST", "/grants", { label: "exported", serverId: "shop", policyName: "exported" });
    const grantId = created.grant.id as string;
    await callThrough(created.url, created.token, [
      { name: "echo", arguments: { message: "a" } },
      { name: "echo", arguments: { message: "b" } },
    ]);
    const dir = join(work, "verify-audit");
    await mkdir(dir);
    const [file, keyFile, tamperedFile] = [join(dir, "export.ndjson"), join(dir, "audit-keys.json"), join(dir, "tampered.ndjson")];
    const [saved, unknownGrant, backwards] = await Promise.all([
      mpg(["audit", "export", grantId, "-o", file, "--json"]),
      mpg(["audit", "export", `g${"0".repeat(32)}`, "-o", join(dir, "unknown.ndjson")]),
      mpg(["audit", "export", grantId, "--after", "3", "--until", "2", "-o", join(dir, "backwards.ndjson")]),
    ]);
    expect(saved.code, saved.stderr).toBe(0);
    const exported = await readFile(file, "utf8");
    const lines = exported.trimEnd().split("\n");
    expect(saved.json()).toEqual({ grantId, file, start: 0, end: lines.length - 1, keyId: expect.any(String) });
    // Byte for byte the admin API's records (the header differs only in its time and signature), up
    // to the same end: an outcome recorded after the answer may have come in since.
    const res = await fetch(`${gateway.origin}/admin/grants/${grantId}/audit/export?until=${lines.length - 1}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect((await res.text()).split("\n").slice(1).join("\n")).toBe(exported.split("\n").slice(1).join("\n"));
    expect(unknownGrant.code).toBe(3);
    expect(backwards.code).toBe(2);
    await expect(readdir(dir)).resolves.toEqual(["export.ndjson"]);
    const keys = await (await fetch(`${gateway.origin}/.well-known/mcp-policy-gateway/audit-keys`)).text();
    expect(JSON.parse(lines[0]!)).toMatchObject({ grantId, start: { seq: 0 }, signature: expect.any(String) });
    // One byte of record 2 (the file's third line): its label's last letter.
    const edited = lines[2]!.replace('"label":"exported"', '"label":"exporteD"');
    expect(edited).not.toBe(lines[2]);
    await Promise.all([writeFile(keyFile, keys), writeFile(tamperedFile, `${[lines[0], lines[1], edited, ...lines.slice(3)].join("\n")}\n`)]);
    const otherKey = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x!;
    // No gateway and no login: the file and the public key are enough.
    const offline = { MPG_URL: "", MPG_ADMIN_TOKEN: "" };

    const [ok, okJson, tampered, tamperedJson, wrongKey, missing, notAKey, noKey, directory] = await Promise.all([
      mpgProcess(["verify-audit", file, "--key", keyFile], { env: offline }),
      mpg(["verify-audit", file, "--key", gateway.auditPublicKey, "--json"], { env: offline }),
      mpg(["verify-audit", tamperedFile, "--key", keyFile], { env: offline }),
      mpg(["verify-audit", tamperedFile, "--key", keyFile, "--json"], { env: offline }),
      mpg(["verify-audit", file, "--key", otherKey], { env: offline }),
      mpg(["verify-audit", join(dir, "nope.ndjson"), "--key", keyFile], { env: offline }),
      mpg(["verify-audit", file, "--key", "not-a-key"], { env: offline }),
      mpg(["verify-audit", file], { env: offline }),
      mpg(["verify-audit", dir, "--key", keyFile], { env: offline }),
    ]);
    const count = lines.length - 1;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^✓ OK: the export is signed and its chain is intact\\n  grant ${grantId}: ${count} records, seq 1 to ${count}\\n`));
    expect(okJson.code).toBe(0);
    expect(okJson.json()).toMatchObject({ file, status: "ok", grantId, start: 0, end: count, records: count, keyIds: [JSON.parse(keys).keys[0].kid] });

    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toBe("✖ FAILED at line 3: record 2 was changed: its hash does not match its content\n");
    expect(tamperedJson.code).toBe(1);
    expect(tamperedJson.json()).toEqual({
      file: tamperedFile,
      status: "failed",
      reason: "record 2 was changed: its hash does not match its content",
      line: 3,
      seq: 2,
    });

    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toMatch(/^✖ FAILED at line 1: the export is signed by key [\w-]{43}, which is not among the keys given\n$/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");
    expect(notAKey.code).toBe(2);
    expect(notAKey.stderr).toContain("--key");
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("required option '--key <public-key-or-file>' not specified");
    expect(directory.code).toBe(1);
    expect(directory.stderr).toContain("Cannot read");
  });
});

const DECISION_META = "io.mcp-policy-gateway/decision";

describe("approvals", () => {
  it("lints approval rules; lists, shows, approves and rejects requests; a second decision exits 3 naming the first", async () => {
    const document = {
      version: "1",
      default: "deny",
      tools: {
        echo: { approve: true, approval_timeout: "10m" },
        add: { approve_if: [{ conditions: [{ path: "args.a", op: "gt", value: 5 }], on_deny: "Big sums need a person." }], approval_timeout: 600 },
      },
    };
    const [file, tooLong] = await Promise.all([
      policyFile("approvals.json", document),
      policyFile("approvals-too-long.json", { ...document, tools: { echo: { approve: true, approval_timeout: "8d" } } }),
    ]);
    const [linted, refused] = await Promise.all([mpg(["policy", "lint", file, "--server", "shop", "--json"]), mpg(["policy", "lint", tooLong, "--json"])]);
    expect(linted.code, linted.stdout).toBe(0);
    expect(linted.json().files[0].errors).toEqual([]);
    expect(refused.code).toBe(1);
    expect(refused.json().files[0].errors.map((e: any) => e.path)).toEqual(["/tools/echo/approval_timeout"]);
    expect((await mpg(["policy", "push", "shop", "approving", file])).code).toBe(0);

    const created = await admin("POST", "/grants", { label: "approver-agent", serverId: "shop", policyName: "approving" });
    const grantId = created.grant.id as string;
    const secretValue = "refund 900 to card 4111-1111";
    const waiting = await callThrough(created.url, created.token, [
      { name: "echo", arguments: { message: secretValue } },
      { name: "add", arguments: { a: 9, b: 1 } },
    ]);
    const [echoId, addId] = waiting.map((result: any) => result._meta?.[DECISION_META]?.approvalId as string) as [string, string];
    expect(echoId).toMatch(/^apr_g[0-9a-f]{32}_/);
    expect(addId).toMatch(/^apr_g[0-9a-f]{32}_/);

    const [pending, table, shown, shownJson, badStatus, unknown] = await Promise.all([
      mpg(["approvals", "list", "--status", "pending", "--grant", grantId, "--json"]),
      mpg(["approvals", "list", "--server", "shop", "--grant", grantId]),
      mpg(["approvals", "show", echoId]),
      mpg(["approvals", "show", echoId, "--json"]),
      mpg(["approvals", "list", "--status", "waiting"]),
      mpg(["approvals", "show", `apr_${grantId}_${"0".repeat(28)}`]),
    ]);
    expect(pending.code).toBe(0);
    expect(
      pending
        .json()
        .approvals.map((a: any) => a.id)
        .sort(),
    ).toEqual([echoId, addId].sort());
    expect(pending.json().approvals.every((a: any) => a.status === "pending" && !("arguments" in a))).toBe(true);
    expect(table.stdout).toMatch(/^ID +STATUS +TOOL +GRANT +SERVER +REQUESTED +EXPIRES$/m);
    expect(table.stdout).toMatch(new RegExp(`^${echoId} +pending +echo +approver-agent +shop `, "m"));
    expect(table.stdout).not.toContain(secretValue);
    expect(shown.stdout).toMatch(/^status: +pending$/m);
    expect(shown.stdout).toContain(`"message": "${secretValue}"`);
    expect(shownJson.json()).toMatchObject({ id: echoId, status: "pending", tool: "echo", arguments: { message: secretValue } });
    expect(badStatus.code).toBe(2);
    expect(unknown.code).toBe(3);

    const approved = await mpg(["approvals", "approve", echoId, "--reason", "checked with the customer"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(`✓ Approved ${echoId}: echo for grant approver-agent\n`);
    const [second, secondJson, rejected] = await Promise.all([
      mpg(["approvals", "reject", echoId, "--reason", "too late"]),
      mpg(["approvals", "approve", echoId, "--json"]),
      mpg(["approvals", "reject", addId, "--reason", "Sums above 5 go through finance", "--json"]),
    ]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(
      new RegExp(
        `the gateway refused \\(409 approval_decided\\): Approval ${echoId} was already approved by admin at \\S+; the first decision stands \\(reason: "checked with the customer"\\)`,
      ),
    );
    expect(secondJson.code).toBe(3);
    expect(JSON.parse(secondJson.stderr).error).toMatchObject({ status: 409, code: "approval_decided", details: { status: "approved", decidedBy: "admin" } });
    expect(rejected.code).toBe(0);
    expect(rejected.json()).toMatchObject({ id: addId, status: "rejected", reason: "Sums above 5 go through finance" });

    // Decided: the values are gone; the approved call passes once.
    const after = await mpg(["approvals", "show", echoId, "--json"]);
    expect(after.json()).toMatchObject({ status: "approved", decidedBy: "admin", reason: "checked with the customer" });
    expect(after.json()).not.toHaveProperty("arguments");
    const [forwarded] = await callThrough(created.url, created.token, [{ name: "echo", arguments: { message: secretValue } }]);
    expect((forwarded as any).isError).toBeFalsy();

    const [rejectedList, records, human] = await Promise.all([
      mpg(["approvals", "list", "--status", "rejected", "--grant", grantId, "--json"]),
      mpg(["audit", grantId, "--decision", "requested,approved,rejected,consumed", "--json"]),
      mpg(["audit", grantId, "--decision", "approved"]),
    ]);
    expect(rejectedList.json().approvals.map((a: any) => a.id)).toEqual([addId]);
    expect(records.json().records.map((r: any) => [r.type, r.decision, r.tool])).toEqual([
      ["approval", "requested", "echo"],
      ["approval", "requested", "add"],
      ["approval", "approved", "echo"],
      ["approval", "rejected", "add"],
      ["approval", "consumed", "echo"],
    ]);
    expect(human.stdout).toMatch(new RegExp(`approval +approved +echo +${echoId} by admin: checked with the customer$`, "m"));
    expect(JSON.stringify(records.json())).not.toContain(secretValue);
    for (const run of [pending, table, shown, approved, second, records]) neverShows(run, created.token);

    const help = await mpg(["audit", "--help"]);
    expect(help.stdout).toContain("approval  requested, approved, rejected, expired, consumed");
  });
});

describe("secrets and exit codes", () => {
  it("never prints the admin token, in --verbose traces or in errors", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const [traced, wrong, unreachable] = await Promise.all([
      mpg(["servers", "list", "--verbose"]),
      mpg(["grants", "list", "--verbose"], { env: { MPG_ADMIN_TOKEN: "not-the-admin-token-31337" } }),
      mpgProcess(["servers", "list"], { env: { MPG_URL: closed } }),
    ]);
    expect(traced.code).toBe(0);
    expect(traced.stderr).toMatch(/→ GET \/admin\/servers\n← 200 GET \/admin\/servers in \d+ ms/);
    neverShows(traced, ADMIN_TOKEN);

    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("the gateway refused (401 unauthorized)");
    neverShows(wrong, "not-the-admin-token-31337");

    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`error: Cannot reach the gateway at ${closed}: ECONNREFUSED\n`);
  });

  it("answers usage mistakes with 2 and help with 0, colours only when asked", async () => {
    const [bare, unknown, missing, help, version, plain, coloured, noColour] = await Promise.all([
      mpg([]),
      mpgProcess(["frobnicate"]),
      mpg(["servers", "show"]),
      mpg(["policy", "push", "--help"]),
      mpgProcess(["--version"]),
      mpgProcess(["tools", "shop"]),
      mpg(["tools", "shop"], { env: { FORCE_COLOR: "1" } }),
      mpg(["tools", "shop"], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } }),
    ]);
    expect(bare.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(missing.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: mcp-policy-gateway policy push [options] <server> <name> <file>");
    expect(help.stdout).toContain("Examples:");
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);

    expect(plain.stdout).not.toContain("\u001b[");
    expect(coloured.stdout).toContain("\u001b[1mTOOL");
    expect(coloured.stdout).toContain("\u001b[1m\u001b[31mcritical\u001b[39m\u001b[22m");
    // Colour does not break alignment: without the escapes the table is the plain one.
    expect(coloured.stdout.replace(/\u001b\[[0-9;]*m/g, "")).toBe(plain.stdout);
    expect(noColour.stdout).not.toContain("\u001b[");
  });
});

describe("the example GitHub Actions workflow", () => {
  it("lints and diffs on a pull request and pushes on merge, run step by step against the gateway", async () => {
    const workflow = parseYaml(await readFile(join(root, "examples/github-actions/policies.yml"), "utf8"));
    expect(Object.keys(workflow.on)).toEqual(["pull_request", "push", "workflow_dispatch"]);
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(workflow.jobs.check.if).toBe("github.event_name == 'pull_request'");
    expect(workflow.jobs.apply.if).toBe("github.event_name != 'pull_request'");

    // A repository of policies, and `mpg` on PATH as `npm install --global` would put it.
    const repo = await mkdtemp(join(tmpdir(), "mpg-policies-repo-"));
    const bin = join(repo, ".bin");
    await mkdir(bin);
    await writeFile(join(bin, "mpg"), `#!/bin/sh\nexec "${process.execPath}" "${await cliBundle()}" "$@"\n`, { mode: 0o755 });
    await mkdir(join(repo, "policies/shop"), { recursive: true });
    const good = { version: "1", default: "deny", tools: { list_customers: {}, echo: {} } };
    await writeFile(join(repo, "policies/shop/readonly.json"), JSON.stringify(good, null, 2));
    const summary = join(repo, "summary.md");
    await writeFile(summary, "");

    const runStep = async (job: string, stepName: string, extraEnv: Record<string, string> = {}) => {
      const step = workflow.jobs[job].steps.find((s: any) => s.name === stepName);
      expect(step.run).not.toContain("${{"); // expressions in scripts are an injection risk
      return promisify(execFile)("bash", ["-c", step.run], {
        cwd: repo,
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          HOME: repo,
          ...ci,
          GITHUB_ACTIONS: "true",
          GITHUB_STEP_SUMMARY: summary,
          ...extraEnv,
        } as unknown as NodeJS.ProcessEnv,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: any) => ({ code: error.code as number, stdout: error.stdout as string, stderr: error.stderr as string }),
      );
    };

    // The check job's steps only read, so they run side by side.
    const [lint, diff] = await Promise.all([runStep("check", "Lint"), runStep("check", "Diff against the live policies")]);
    expect(lint.code).toBe(0);
    expect(lint.stdout).toContain("✓ 1 file valid");
    expect(diff.code).toBe(0);
    const written = await readFile(summary, "utf8");
    expect(written).toContain("### `shop/readonly`\n```diff\n--- /dev/null\n");
    expect(written).toContain('+    "list_customers": {}');

    const push = await runStep("apply", "Push");
    expect(push.code).toBe(0);
    expect(push.stdout).toContain("✓ Saved shop/readonly version 1; 0 grants took it");
    expect((await admin("GET", "/servers/shop/policies/readonly")).document).toEqual({ ...good, mode: "enforce" });
    const again = await runStep("apply", "Push");
    expect(again.stdout).toContain("Unchanged: shop/readonly stays at version 1");

    // A pull request that breaks a policy fails the check, with an annotation on the line.
    await writeFile(join(repo, "policies/shop/readonly.json"), JSON.stringify({ ...good, default: "maybe" }, null, 2));
    // Without secrets (a fork's pull request) the lint runs offline.
    const [failing, offline] = await Promise.all([runStep("check", "Lint"), runStep("check", "Lint", { MPG_ADMIN_TOKEN: "", MPG_URL: "" })]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('::error file=policies/shop/readonly.json,line=3,col=3,title=/default::expected "allow" | "deny"');
    expect(offline.code).toBe(1);
  });
});

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

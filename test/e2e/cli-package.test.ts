// The CLI as a package: `npm pack` (which builds dist/cli.mjs in prepack), installed from the
// tarball into an empty directory with no network (`--offline`: the package has no dependencies),
// then run through npx and node_modules/.bin. Proves `bin` and `files` are right and that the
// bundle carries the gateway's policy schema and RE2 check.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { root } from "../support/workerd.mjs";

const run = promisify(execFile);

// The environment of a fresh shell: nothing from the npm script running the tests.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && !key.startsWith("MPG_"))) as unknown as NodeJS.ProcessEnv;

it("packs, installs offline from the tarball, and runs as npx mcp-policy-gateway and mpg", async () => {
  const dir = await mkdtemp(join(tmpdir(), "mpg-pack-"));
  const { stdout: packed } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: root, env });
  const [pack] = JSON.parse(packed.slice(packed.indexOf("[")));
  expect(pack.files.map((f: { path: string }) => f.path).sort()).toEqual(
    [
      "README.md",
      "dist/cli-licenses.txt",
      "dist/cli.mjs",
      "docs/cli.md",
      "docs/policy.md",
      "docs/policy.schema.json",
      "examples/github-actions/policies.yml",
      "package.json",
    ].sort(),
  );

  const app = join(dir, "app");
  await run("mkdir", [app]);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(dir, pack.filename)], { cwd: app, env });

  const help = await run("npx", ["--offline", "mcp-policy-gateway", "--help"], { cwd: app, env });
  expect(help.stdout).toContain("Usage: mcp-policy-gateway|mpg [options] [command]");
  expect(help.stdout).toContain("policy");
  const version = await run("npx", ["--offline", "mpg", "--version"], { cwd: app, env });
  expect(version.stdout.trim()).toBe(pack.version);

  // Offline lint from the installed bundle: zod, the schema and RE2 came with it.
  await writeFile(
    join(app, "policy.json"),
    JSON.stringify({
      version: "1",
      default: "deny",
      tools: { q: { deny_if: [{ conditions: [{ path: "args.q", op: "regex", value: "(?<=a)b" }], on_deny: "no" }] } },
    }),
  );
  const lint = await run(join(app, "node_modules/.bin/mpg"), ["policy", "lint", "policy.json", "--json"], { cwd: app, env }).catch((error) => error);
  expect(lint.code).toBe(1);
  expect(JSON.parse(lint.stdout).files[0].errors[0]).toMatchObject({
    path: "/tools/q/deny_if/0/conditions/0/value",
    message: expect.stringContaining('lookbehind "(?<=" is not supported'),
  });
});

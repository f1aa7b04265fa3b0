// The CLI as a package: `npm pack` (which builds dist/cli.mjs in prepack), installed from the
// tarball into an empty directory with no network (`--offline`: the package has no dependencies),
// then run through npx and node_modules/.bin. Proves `bin` and `files` are right and that the
// bundle carries the gateway's policy schema and RE2 check, and the audit export verifier.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { auditKeyPair } from "../../scripts/audit-keygen.mjs";
import { exportStatement, headerLine, EXPORT_FORMAT, type ExportHeader } from "../../src/audit/export";
import { parseSigningKey } from "../../src/audit/keys";
import { GENESIS_HASH, sealRecordJson } from "../../src/grant/audit";
import { draftRecord } from "../../src/grant/records";
import { root } from "../support/workerd.mjs";

const run = promisify(execFile);

/** A three-record export signed the way the gateway signs one, by the gateway's own code; and its public key. */
async function signedExport(): Promise<{ text: string; publicKey: string }> {
  const { privateJwk, publicKey } = await auditKeyPair();
  const signer = await parseSigningKey(privateJwk);
  if (!signer.ok) throw new Error(signer.error);
  const lines: string[] = [];
  let prev = { seq: 0, hash: GENESIS_HASH };
  for (let seq = 1; seq <= 3; seq++) {
    const draft = {
      ...draftRecord({ grantId: "g-pack", label: "pack", serverId: "s" }, new Date(1_767_225_600_000 + seq).toISOString(), "admin", null, {
        decision: "set_label",
      }),
      seq,
    };
    const sealed = sealRecordJson(draft, prev.hash);
    lines.push(sealed.json);
    prev = { seq, hash: sealed.hash };
  }
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    grantId: "g-pack",
    after: 0,
    until: null,
    start: { seq: 0, hash: GENESIS_HASH },
    end: prev,
    time: new Date().toISOString(),
    keyId: signer.value.keyId,
    signature: null,
  };
  header.signature = await signer.value.sign(exportStatement(header));
  return { text: `${[headerLine(header), ...lines].join("\n")}\n`, publicKey: publicKey as string };
}

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

  // Offline audit verification from the installed bundle: zod and the Ed25519 check came with it.
  const { text, publicKey } = await signedExport();
  await writeFile(join(app, "audit.ndjson"), text);
  const verified = await run(join(app, "node_modules/.bin/mpg"), ["verify-audit", "audit.ndjson", "--key", publicKey], { cwd: app, env });
  expect(verified.stdout).toMatch(/^✓ OK: the export is signed and its chain is intact\n {2}grant g-pack: 3 records, seq 1 to 3\n/);
  await writeFile(join(app, "cut.ndjson"), `${text.split("\n").slice(0, 3).join("\n")}\n`);
  const cut = await run(join(app, "node_modules/.bin/mpg"), ["verify-audit", "cut.ndjson", "--key", publicKey], { cwd: app, env }).catch((error) => error);
  expect(cut.code).toBe(1);
  expect(cut.stdout).toContain("FAILED at line 3: the file ends at seq 2 but its header says 3: records were cut off");
  // The same chain with the signature taken off: intact, but it proves nothing about who wrote it.
  const [header, ...records] = text.trimEnd().split("\n");
  const unsignedHeader = headerLine({ ...JSON.parse(header!), keyId: null, signature: null });
  await writeFile(join(app, "unsigned.ndjson"), `${[unsignedHeader, ...records].join("\n")}\n`);
  const unsigned = await run(join(app, "node_modules/.bin/mpg"), ["verify-audit", "unsigned.ndjson", "--key", publicKey], { cwd: app, env }).catch(
    (error) => error,
  );
  expect(unsigned.code).toBe(1);
  expect(unsigned.stdout).toMatch(/^✖ UNSIGNED: the chain is intact, but the export is not signed/);
});

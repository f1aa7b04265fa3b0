#!/usr/bin/env node
// Checks an audit export (or an archive object) offline, with the public key alone:
//
//   node scripts/verify-audit.mjs export.ndjson --key <public key or file> [--json]
//
// The key is the JSON of /.well-known/mcp-policy-gateway/audit-keys, one public JWK, or the bare
// base64url key. Exit 0: signed and intact; 1: verification failed, or the file is not signed;
// 2: usage. docs/audit.md, "Verifying an export", explains each result.
//
// The check is src/audit/verify.ts, bundled here with esbuild on each run (Node 20 runs no
// TypeScript); the CLI will carry the same code as `mcp-policy-gateway verify-audit`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = "usage: node scripts/verify-audit.mjs <export.ndjson> --key <public key or file> [--json]";

let args;
try {
  args = parseArgs({ allowPositionals: true, options: { key: { type: "string" }, json: { type: "boolean", default: false } } });
} catch (error) {
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
if (args.positionals.length !== 1 || args.values.key === undefined) {
  console.error(USAGE);
  process.exit(2);
}

const dir = await mkdtemp(join(tmpdir(), "mpg-verify-audit-"));
let verifier;
try {
  const outfile = join(dir, "verify.mjs");
  await build({ entryPoints: [join(root, "src/audit/verify-file.ts")], outfile, bundle: true, platform: "node", target: "node20", format: "esm", logLevel: "error" });
  verifier = await import(pathToFileURL(outfile).href);
} finally {
  await rm(dir, { recursive: true, force: true });
}

const result = await verifier.verifyAuditFile(args.positionals[0], args.values.key);
if (result.kind === "usage") console.error(`${result.message}\n${USAGE}`);
else console.log(args.values.json ? JSON.stringify(result.report, null, 2) : verifier.describeReport(result.report));
process.exit(result.exitCode);

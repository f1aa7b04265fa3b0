#!/usr/bin/env node
// Checks an audit export (or an archive object) offline, with the public key alone:
//
//   node scripts/verify-audit.mjs export.ndjson --key <public key or file> [--json]
//
// The key is the JSON of /.well-known/mcp-policy-gateway/audit-keys, one public JWK, or the bare
// base64url key. Exit 0: signed and intact; 1: verification failed, or the file is not signed;
// 2: usage. docs/audit.md, "Verifying an export", explains each result.
//
// The check is src/audit/verify.ts, bundled here with esbuild (Node 20 runs no TypeScript) into
// node_modules/.cache/, and bundled again only when one of its sources changed; the CLI carries
// the same code as `mcp-policy-gateway verify-audit` (src/cli/commands/verify-audit.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
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

/** The bundled verifier, rebuilt when a source it was built from is newer than it. */
async function bundledVerifier() {
  const outfile = join(root, "node_modules/.cache/mcp-policy-gateway/verify-audit.mjs");
  const inputsFile = `${outfile}.inputs.json`;
  const fresh =
    existsSync(outfile) &&
    existsSync(inputsFile) &&
    JSON.parse(readFileSync(inputsFile, "utf8")).every(
      (input) => existsSync(join(root, input)) && statSync(join(root, input)).mtimeMs <= statSync(outfile).mtimeMs,
    );
  if (!fresh) {
    const result = await build({
      entryPoints: [join(root, "src/audit/verify-file.ts")],
      outfile,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      logLevel: "error",
      metafile: true,
      write: false,
      absWorkingDir: root,
    });
    // Written aside and renamed, so a run started meanwhile never imports half a file.
    mkdirSync(dirname(outfile), { recursive: true });
    writeFileSync(`${outfile}.${process.pid}`, result.outputFiles[0].contents);
    renameSync(`${outfile}.${process.pid}`, outfile);
    writeFileSync(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
  }
  return import(pathToFileURL(outfile).href);
}

const verifier = await bundledVerifier();
const result = await verifier.verifyAuditFile(args.positionals[0], args.values.key);
if (result.kind === "usage") console.error(`${result.message}\n${USAGE}`);
else console.log(args.values.json ? JSON.stringify(result.report, null, 2) : verifier.describeReport(result.report));
process.exit(result.exitCode);

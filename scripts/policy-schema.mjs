// Writes docs/policy.schema.json, the policy document's JSON Schema, generated from the zod schema
// (src/policy/json-schema.ts). `npm run schema:policy` regenerates it; a unit test checks that the
// committed file is what this writes. The TypeScript source is bundled with esbuild (wrangler's own)
// into a temporary module so that plain Node can run it.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = await mkdtemp(join(tmpdir(), "policy-schema-"));
try {
  const bundle = join(out, "json-schema.mjs");
  await build({ entryPoints: [join(root, "src/policy/json-schema.ts")], bundle: true, format: "esm", platform: "node", outfile: bundle, logLevel: "warning" });
  const { policyJsonSchema } = await import(pathToFileURL(bundle).href);
  const target = join(root, "docs/policy.schema.json");
  await writeFile(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${target}`);
} finally {
  await rm(out, { recursive: true, force: true });
}

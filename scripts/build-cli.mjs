// Bundles the CLI (src/cli/bin.ts) into one ES module that runs on plain Node 20: dist/cli.mjs,
// the package's `bin`. zod, re2js, commander, jsdiff and the gateway's own policy schema and RE2
// check are inside it, so an installed CLI needs no dependencies and `policy lint` no network.
// The bundled packages' licences go beside it, in dist/cli-licenses.txt.
//
//   node scripts/build-cli.mjs            (npm run build:cli; npm pack runs it as prepack)
//   import { buildCli } from "./build-cli.mjs"; await buildCli(outfile)   (the CLI tests)
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildCli(outfile = join(root, "dist/cli.mjs")) {
  const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const result = await build({
    entryPoints: [join(root, "src/cli/bin.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    metafile: true,
    logLevel: "warning",
    legalComments: "none",
    define: { MPG_CLI_VERSION: JSON.stringify(version) },
    banner: {
      // commander is CommonJS and calls require() for Node built-ins; an ES module has no require.
      js: "#!/usr/bin/env node\nimport { createRequire as __mpgCreateRequire } from 'node:module';\nconst require = __mpgCreateRequire(import.meta.url);",
    },
  });
  await writeFile(join(dirname(outfile), "cli-licenses.txt"), await licences(Object.keys(result.metafile.inputs)));
  return outfile;
}

/** The licence text of every npm package with code in the bundle. */
async function licences(inputs) {
  const packages = [...new Set(inputs.flatMap((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []))].sort();
  const sections = [];
  for (const name of packages) {
    const dir = join(root, "node_modules", name);
    const { version, license } = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    let text = null;
    for (const file of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"]) {
      text = await readFile(join(dir, file), "utf8").catch(() => null);
      if (text !== null) break;
    }
    sections.push(`${name}@${version} (${license})\n\n${text ?? `Licensed under ${license}; see the package.`}`.trimEnd());
  }
  return `The mcp-policy-gateway CLI (dist/cli.mjs) bundles these packages:\n\n${sections.join(`\n\n${"-".repeat(72)}\n\n`)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outfile = await buildCli();
  console.log(`built ${outfile}`);
}

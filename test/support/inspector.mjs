// The @modelcontextprotocol/inspector CLI (2.x) as a third MCP client for the transparency matrix.
// Each call is one short-lived process: connect, one method, print, disconnect. It runs from the
// published build without the package's postinstall (that script only installs per-client
// dependencies in a source checkout and exits early under node_modules; the CLI's own
// dependencies ship in the inspector's node_modules).
//
// The CLI keeps a catalog and client config under $HOME/.mcp-inspector; every run gets a
// throw-away home so tests never read or write the user's.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const launcher = join(dirname(require.resolve("@modelcontextprotocol/inspector/package.json")), "clients/launcher/build/index.js");
const home = mkdtempSync(join(tmpdir(), "mpg-inspector-"));

/**
 * Runs `mcp-inspector --cli <args> --format json` and resolves with the parsed JSON it prints.
 * Pass a header as `["--header", "Authorization: Bearer …"]`. The CLI infers the transport only
 * from a URL ending in /mcp or /sse, so a gateway URL (`/mcp/<grant-id>`) needs
 * `["--transport", "http"]`. Rejects (with the CLI's exit code
 * and stderr) when the CLI fails or prints something that is not JSON.
 * @param {string[]} args
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<any>}
 */
export function runInspector(args, options = {}) {
  const argv = [launcher, "--cli", ...args, "--format", "json", "--quiet"];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      argv,
      {
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          HOME: home,
          MCP_CATALOG_PATH: join(home, "catalog.json"),
          MCP_CLIENT_CONFIG_PATH: join(home, "client.json"),
          NO_COLOR: "1",
        },
      },
      (error, stdout, stderr) => {
        if (error) {
          const e = new Error(`inspector ${redacted(args).join(" ")} exited ${error.code ?? error.signal}: ${stderr.trim() || stdout.trim()}`);
          e.exitCode = error.code;
          e.stderr = stderr;
          e.stdout = stdout;
          return reject(e);
        }
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(new Error(`inspector ${redacted(args).join(" ")} printed non-JSON: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}

/** The arguments with header values masked, so a failure message never carries a grant token. */
function redacted(args) {
  return args.map((arg, i) => (args[i - 1] === "--header" ? arg.replace(/:.*/, ": [redacted]") : arg));
}

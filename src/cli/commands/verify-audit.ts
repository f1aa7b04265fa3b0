/**
 * `mpg verify-audit <export-file> --key <public key or file>`: checks a signed audit export (or an
 * archive object) offline, with the public key alone (docs/audit.md, "Verifying an export").
 *
 * Top-level rather than `audit verify --export`, because it is another kind of command: it needs no
 * gateway and no login (like `policy lint` without `--server`), and an auditor who holds only the
 * file and the published key runs it. `audit verify <grant>` asks a gateway about a live log.
 *
 * The check is `verifyAuditFile` (src/audit/verify-file.ts), the same code as
 * scripts/verify-audit.mjs, imported only when this command runs: zod and WebCrypto's Ed25519 are
 * not start-up costs for the other commands. `--key` takes a *public* key, so it is no secret on
 * the command line (test/unit/cli/program.test.ts allows it by name).
 */
import type { Command } from "commander";
import { action, emit, type Cli } from "../context";
import { CliFailure, EXIT, reported, usageError } from "../failure";
import { printable } from "../style";

export function registerVerifyAudit(program: Command, cli: Cli): void {
  program
    .command("verify-audit")
    .description("Verify a signed audit export offline with the gateway's public key; exit 1 if it does not verify")
    .argument("<export-file>", "the export (GET /admin/grants/<id>/audit/export) or an archive object, NDJSON")
    .requiredOption(
      "--key <public-key-or-file>",
      "the public key: the JSON of /.well-known/mcp-policy-gateway/audit-keys, one JWK, or the base64url key; or a file holding it",
    )
    .addHelpText(
      "after",
      `
Needs no gateway and no login. Exit 0: signed and intact; 1: verification failed, or the export
is not signed (it then proves nothing about who wrote it); 2: no such file, or not a public key.
The gateway publishes its keys at /.well-known/mcp-policy-gateway/audit-keys.

Examples:
  $ mpg verify-audit export.ndjson --key audit-keys.json
  $ mpg verify-audit export.ndjson --key 9nTq…Xw --json
  $ curl -s https://gw.example.com/.well-known/mcp-policy-gateway/audit-keys > audit-keys.json`,
    )
    .action(
      action<{ key: string }>(async ([file], options) => {
        const { verifyAuditFile, describeReport } = await import("../../audit/verify-file");
        const result = await verifyAuditFile(file!, options.key).catch((error: unknown) => {
          // A directory, a file without read permission (exit 1, like `policy lint`); anything else is a bug.
          const code = (error as { code?: unknown } | null)?.code;
          if (typeof code !== "string") throw error;
          throw new CliFailure(EXIT.errors, `Cannot read ${file} or the key file: ${code}`, "unreadable");
        });
        if (result.kind === "usage") throw usageError(result.message);
        const { report } = result;
        const colours = cli.terminal.stdout;
        emit(cli, options, { file, ...report }, () => {
          // The reason may quote a grant id or key id from the file: made printable like any text from outside.
          const [first = "", ...rest] = describeReport(report).split("\n").map(printable);
          const mark = report.status === "ok" ? colours.green("✓") : colours.red("✖");
          return `${[`${mark} ${first}`, ...rest.map((line) => `  ${line}`)].join("\n")}\n`;
        });
        if (result.exitCode !== 0) throw reported(EXIT.errors);
      }),
    );
}

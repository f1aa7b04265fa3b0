/**
 * Policy files as the CLI reads and reports on them, and `mpg policy lint`: a file is decoded as
 * the gateway decodes a body and checked by the gateway's own parser and schema
 * (src/cli/policy-lint.ts); its findings are printed like eslint's, and under GitHub Actions also
 * as annotations on the file's lines. `policy diff` and `policy push` (./policy-push.ts) read and
 * lint their file the same way.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { decodeUtf8 } from "../../http";
import { segment, type AdminApi } from "../admin-api";
import { action, emit, type Cli } from "../context";
import { CliFailure, EXIT, reported } from "../failure";
import type { LintFinding, LintResult, ServerTools } from "../policy-lint";
import { columns, count, printable, type Palette } from "../style";

/**
 * The policy engine (zod, the schema, RE2) is loaded by the commands that use it, not at start-up:
 * evaluating it is most of the CLI's start-up time, which every other command would pay.
 */
export const policyEngine = async () => ({ ...(await import("../policy-lint")), ...(await import("../policy-diff")) });
export type PolicyEngine = Awaited<ReturnType<typeof policyEngine>>;

export interface PolicyFile {
  /** As the operator named it; `-` is stdin. */
  path: string;
  bytes: Uint8Array;
  /** Decoded as the gateway decodes a body (strict UTF-8, a BOM dropped); null when it is not UTF-8. */
  text: string | null;
}

export async function readPolicyFile(cli: Cli, path: string): Promise<PolicyFile> {
  let bytes: Uint8Array;
  try {
    bytes = path === "-" ? new TextEncoder().encode(await cli.terminal.readStdin()) : new Uint8Array(await readFile(path));
  } catch (error) {
    throw new CliFailure(EXIT.errors, `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "unknown error"}`, "file_unreadable");
  }
  return { path, bytes, text: decodeUtf8(bytes) };
}

/** `file:line:col  severity  pointer  message`, like eslint and tsc, aligned within one file. */
function renderFindings(file: string, findings: readonly LintFinding[], colours: Palette): string {
  return columns(
    findings.map((f) => [
      `${file}${f.line === undefined ? "" : `:${f.line}:${f.column}`}`,
      f.severity === "error" ? colours.red("error") : colours.yellow("warning"),
      f.path === "" ? "(document)" : f.path,
      printable(f.message),
    ]),
  );
}

/** GitHub Actions workflow commands: each finding becomes an annotation on the file's line. */
function githubAnnotations(file: string, findings: readonly LintFinding[]): string {
  const data = (text: string) => text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
  const property = (text: string) => data(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
  return findings
    .map((f) => {
      const where = [
        `file=${property(file)}`,
        ...(f.line === undefined ? [] : [`line=${f.line}`, `col=${f.column}`]),
        `title=${property(f.path || "(document)")}`,
      ];
      return `::${f.severity} ${where.join(",")}::${data(f.message)}\n`;
    })
    .join("");
}

/**
 * A file's findings (errors first, each in file order): on stdout for `lint` (they are its result),
 * on stderr for `diff` and `push` (there they are messages about the input). Under GitHub Actions
 * they are also annotations (workflow commands, which the runner reads from stdout).
 */
export function reportFindings(cli: Cli, file: string, lint: LintResult, to: "stdout" | "stderr"): void {
  const findings = [...lint.errors, ...lint.warnings];
  if (findings.length === 0) return;
  const human = renderFindings(file, findings, to === "stdout" ? cli.terminal.stdout : cli.terminal.stderr);
  if (to === "stdout") cli.terminal.out(human);
  else cli.terminal.err(human);
  if (cli.env.GITHUB_ACTIONS === "true") cli.terminal.out(githubAnnotations(file, findings));
}

interface CatalogueAnswer {
  serverId: string;
  fetched: string | null;
  stale: boolean;
  tools: { name: string }[];
}

async function serverTools(cli: Cli, api: AdminApi, serverId: string): Promise<ServerTools | null> {
  const catalogue = await api.get<CatalogueAnswer>(`/servers/${segment(serverId)}/tools`);
  if (catalogue.fetched === null) {
    cli.terminal.err(
      cli.terminal.stderr.yellow(`warning: server ${serverId} has no discovered tools yet; tool names were not checked (mpg servers discover ${serverId})\n`),
    );
    return null;
  }
  if (catalogue.stale) cli.terminal.err(cli.terminal.stderr.yellow(`warning: the catalogue of ${serverId} is stale (mpg servers discover ${serverId})\n`));
  return { serverId: catalogue.serverId, tools: catalogue.tools.map((t) => t.name) };
}

export function lintPolicies(policy: Command, cli: Cli): void {
  policy
    .command("lint")
    .description("Check policy files offline, with the gateway's own parser and schema; exit 1 on errors")
    .argument("<file...>", "policy files (- for stdin)")
    .option("--server <id>", "also check tool names against the server's catalogue (online)")
    .addHelpText(
      "after",
      `
Errors are the ones the gateway would answer (same JSON pointers and messages); warnings point at
what the gateway accepts but is rarely meant (docs/cli.md). Under GitHub Actions each finding is
also printed as an annotation.

Examples:
  $ mpg policy lint policy.json
  $ mpg policy lint policies/crm/*.json --server crm`,
    )
    .action(
      action<{ server?: string }>(async ([files], options) => {
        const paths = files as unknown as string[];
        const { lintPolicy } = await policyEngine();
        const tools = options.server === undefined ? null : await serverTools(cli, await cli.gateway(options), options.server);
        const results = [];
        for (const path of paths) {
          const file = await readPolicyFile(cli, path);
          const lint = lintPolicy(file.text, file.bytes.length, tools);
          if (!options.json) reportFindings(cli, file.path, lint, "stdout");
          results.push({ file: file.path, ok: lint.document !== null, errors: lint.errors, warnings: lint.warnings });
        }
        const errors = results.reduce((n, r) => n + r.errors.length, 0);
        const warnings = results.reduce((n, r) => n + r.warnings.length, 0);
        const colours = cli.terminal.stdout;
        emit(cli, options, { ok: errors === 0, server: options.server ?? null, files: results }, () =>
          errors > 0
            ? colours.red(`✖ ${count(errors, "error")}, ${count(warnings, "warning")} in ${count(paths.length, "file")}\n`)
            : `${colours.green("✓")} ${count(paths.length, "file")} valid${warnings > 0 ? colours.yellow(`, ${count(warnings, "warning")}`) : ""}\n`,
        );
        if (errors > 0) throw reported(EXIT.errors);
      }),
    );
}

/**
 * `mpg policy lint|diff|push|pull|list|rm|recommend`: policies as files, for review in pull
 * requests and for CI (examples/github-actions/policies.yml).
 *
 * `push` is lint, then diff, then save, and saves only when the file changes what the gateway
 * enforces: pushing every policy file on every merge is safe and makes no new versions for files
 * that did not change, like `kubectl apply`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { decodeUtf8 } from "../../http";
import type { PolicyDocument } from "../../policy/schema";
import { segment, type AdminApi } from "../admin-api";
import { action, confirm, emit, type Cli, type GlobalOptions } from "../context";
import { CliFailure, EXIT, GatewayRefusal, reported, usageError } from "../failure";
import type { PolicyDiff } from "../policy-diff";
import type { LintFinding, LintResult, ServerTools } from "../policy-lint";
import { columns, palette, printable, table, type Palette } from "../style";

/**
 * The policy engine (zod, the schema, RE2) is loaded by the commands that use it, not at start-up:
 * evaluating it is most of the CLI's start-up time, which every other command would pay.
 */
const policyEngine = async () => ({ ...(await import("../policy-lint")), ...(await import("../policy-diff")) });
type PolicyEngine = Awaited<ReturnType<typeof policyEngine>>;

interface PolicyFile {
  /** As the operator named it; `-` is stdin. */
  path: string;
  bytes: Uint8Array;
  /** Decoded as the gateway decodes a body (strict UTF-8, a BOM dropped); null when it is not UTF-8. */
  text: string | null;
}

async function readPolicyFile(cli: Cli, path: string): Promise<PolicyFile> {
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
      const where = [`file=${property(file)}`, ...(f.line === undefined ? [] : [`line=${f.line}`, `col=${f.column}`]), `title=${property(f.path || "(document)")}`];
      return `::${f.severity} ${where.join(",")}::${data(f.message)}\n`;
    })
    .join("");
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * A file's findings (errors first, each in file order): on stdout for `lint` (they are its result),
 * on stderr for `diff` and `push` (there they are messages about the input). Under GitHub Actions
 * they are also annotations (workflow commands, which the runner reads from stdout).
 */
function reportFindings(cli: Cli, file: string, lint: LintResult, to: "stdout" | "stderr"): void {
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
    cli.terminal.err(cli.terminal.stderr.yellow(`warning: server ${serverId} has no discovered tools yet; tool names were not checked (mpg servers discover ${serverId})\n`));
    return null;
  }
  if (catalogue.stale) cli.terminal.err(cli.terminal.stderr.yellow(`warning: the catalogue of ${serverId} is stale (mpg servers discover ${serverId})\n`));
  return { serverId: catalogue.serverId, tools: catalogue.tools.map((t) => t.name) };
}

interface LivePolicy {
  version: number;
  sha256?: string;
  document: PolicyDocument;
}

/** The version the gateway enforces for new grants; null when the policy does not exist yet. */
async function livePolicy(api: AdminApi, serverId: string, name: string): Promise<LivePolicy | null> {
  try {
    return await api.get<LivePolicy>(`/servers/${segment(serverId)}/policies/${segment(name)}`);
  } catch (error) {
    if (error instanceof GatewayRefusal && error.code === "policy_not_found") return null;
    throw error;
  }
}

/** Lint a file for diff and push: errors stop here (exit 1), before anything is sent. */
async function validFile(cli: Cli, engine: PolicyEngine, path: string, options: GlobalOptions): Promise<{ file: PolicyFile; lint: LintResult; document: PolicyDocument }> {
  const file = await readPolicyFile(cli, path);
  const lint = engine.lintPolicy(file.text, file.bytes.length);
  if (!options.json) reportFindings(cli, file.path, lint, "stderr");
  if (lint.document === null) {
    // With --json the findings travel in the error's details, so stdout stays empty on failure.
    throw new CliFailure(EXIT.errors, `${file.path} does not lint: ${count(lint.errors.length, "error")}; nothing was sent`, "lint_failed", {
      file: file.path,
      errors: lint.errors,
      warnings: lint.warnings,
    });
  }
  return { file, lint, document: lint.document };
}

interface DiffView {
  serverId: string;
  name: string;
  file: string;
  live: { version: number; sha256: string | null } | null;
  changed: boolean;
  changes: PolicyDiff["changes"];
  patch: string;
}

function diffView(engine: PolicyEngine, serverId: string, name: string, file: string, live: LivePolicy | null, diff: PolicyDiff): DiffView {
  const labels = { from: live === null ? "/dev/null" : `${serverId}/${name} version ${live.version} (live)`, to: file };
  return {
    serverId,
    name,
    file,
    live: live === null ? null : { version: live.version, sha256: live.sha256 ?? null },
    changed: diff.changed,
    changes: diff.changes,
    patch: diff.changed ? engine.renderPatch(diff, labels, palette(false)) : "",
  };
}

function humanDiff(engine: PolicyEngine, view: DiffView, diff: PolicyDiff, colours: Palette): string {
  if (!view.changed) return `No changes: ${view.file} is ${view.serverId}/${view.name} version ${view.live?.version}\n`;
  const labels = { from: view.live === null ? "/dev/null" : `${view.serverId}/${view.name} version ${view.live.version} (live)`, to: view.file };
  const summary = view.live === null ? `New policy ${view.serverId}/${view.name}` : `${count(view.changes.length, "change")} to ${view.serverId}/${view.name}`;
  return engine.renderPatch(diff, labels, colours) + colours.dim(summary) + "\n";
}

async function writeOutput(cli: Cli, output: string, text: string): Promise<void> {
  if (output === "-") cli.terminal.out(text);
  else await writeFile(output, text);
}

export function registerPolicy(program: Command, cli: Cli): void {
  const policy = program.command("policy").description("Policies as files: lint, diff, push, pull, list, rm, recommend");

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

  policy
    .command("diff")
    .description("Show what a file changes against the live version of a policy")
    .argument("<server>", "the server id")
    .argument("<name>", "the policy name")
    .argument("<file>", "the policy file (- for stdin)")
    .addHelpText("after", "\nExample:\n  $ mpg policy diff crm support policies/crm/support.json")
    .action(
      action(async ([server, name, path], options) => {
        const engine = await policyEngine();
        const { file, document } = await validFile(cli, engine, path!, options);
        const api = await cli.gateway(options);
        const live = await livePolicy(api, server!, name!);
        const diff = engine.diffPolicies(live?.document ?? null, document);
        const view = diffView(engine, server!, name!, file.path, live, diff);
        emit(cli, options, view, () => humanDiff(engine, view, diff, cli.terminal.stdout));
      }),
    );

  policy
    .command("push")
    .description("Lint, diff, then save a policy file as the next version; grants using the name take it")
    .argument("<server>", "the server id")
    .argument("<name>", "the policy name")
    .argument("<file>", "the policy file (- for stdin)")
    .option("--dry-run", "lint and diff only; save nothing")
    .addHelpText(
      "after",
      `
A file that changes nothing is not saved again (no new version). The file is sent as it is.

Examples:
  $ mpg policy push crm support policies/crm/support.json --dry-run
  $ mpg policy push crm support policies/crm/support.json`,
    )
    .action(
      action<{ dryRun?: boolean }>(async ([server, name, path], options) => {
        const engine = await policyEngine();
        const { file, lint, document } = await validFile(cli, engine, path!, options);
        const api = await cli.gateway(options);
        const live = await livePolicy(api, server!, name!);
        const diff = engine.diffPolicies(live?.document ?? null, document);
        const view = diffView(engine, server!, name!, file.path, live, diff);
        const colours = cli.terminal.stdout;
        const human: string[] = [];
        if (!options.json && diff.changed) human.push(humanDiff(engine, view, diff, colours));
        let saved: { version: number; sha256: string; created: string; grants: number } | null = null;
        if (!diff.changed) {
          human.push(`Unchanged: ${server}/${name} stays at version ${live?.version}; nothing saved\n`);
        } else if (options.dryRun) {
          human.push(colours.yellow("Dry run: nothing saved\n"));
        } else {
          saved = await api.put(`/servers/${segment(server!)}/policies/${segment(name!)}`, { text: file.text! });
          human.push(`${colours.green("✓")} Saved ${server}/${name} version ${saved!.version}; ${count(saved!.grants, "grant")} took it\n`);
        }
        emit(cli, options, { ...view, dryRun: options.dryRun === true, warnings: lint.warnings, saved }, () => human.join(""));
      }),
    );

  policy
    .command("pull")
    .description("Write the live version (or --version N) of a policy to a file")
    .argument("<server>", "the server id")
    .argument("<name>", "the policy name")
    .option("--version <n>", "a specific version")
    .option("-o, --output <file>", "where to write it (- for stdout); default <name>.json")
    .addHelpText("after", "\nExamples:\n  $ mpg policy pull crm support -o policies/crm/support.json\n  $ mpg policy pull crm support --version 3 -o -")
    .action(
      action<{ version?: string; output?: string }>(async ([server, name], options) => {
        if (options.version !== undefined && !/^[1-9]\d{0,9}$/.test(options.version)) throw usageError("--version takes a positive whole number");
        const api = await cli.gateway(options);
        const base = `/servers/${segment(server!)}/policies/${segment(name!)}`;
        const record = await api.get<{ version: number; sha256?: string; document: PolicyDocument }>(
          options.version === undefined ? base : `${base}/versions/${segment(options.version)}`,
        );
        const { policyText } = await policyEngine();
        const output = options.output ?? `${basename(name!)}.json`;
        const result = { serverId: server, name, version: record.version, sha256: record.sha256 ?? null, file: output };
        if (output === "-") {
          // The document is the result; --json would only wrap it.
          cli.terminal.out(options.json ? JSON.stringify({ ...result, document: record.document }, null, 2) + "\n" : policyText(record.document));
          return;
        }
        await writeOutput(cli, output, policyText(record.document));
        emit(cli, options, result, () => `${cli.terminal.stdout.green("✓")} Wrote ${server}/${name} version ${record.version} to ${output}\n`);
      }),
    );

  policy
    .command("list")
    .description("List a server's policies")
    .argument("<server>", "the server id")
    .addHelpText("after", "\nExample:\n  $ mpg policy list crm")
    .action(
      action(async ([server], options) => {
        const api = await cli.gateway(options);
        const { policies } = await api.get<{ policies: { name: string; latest: number; created: string; updated: string }[] }>(`/servers/${segment(server!)}/policies`);
        emit(cli, options, { serverId: server, policies }, () =>
          policies.length === 0
            ? `No policies on ${server}. Push one: mpg policy push ${server} <name> <file>\n`
            : table(["name", "latest", "created", "updated"], policies.map((p) => [p.name, String(p.latest), p.created, p.updated]), cli.terminal.stdout),
        );
      }),
    );

  policy
    .command("rm")
    .description("Delete a policy: grants using it deny every call until they get another")
    .argument("<server>", "the server id")
    .argument("<name>", "the policy name")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText("after", "\nExample:\n  $ mpg policy rm crm support --yes")
    .action(
      action<{ yes?: boolean }>(async ([server, name], options) => {
        await confirm(cli, options, `Delete policy ${server}/${name}? Grants using it will deny every call.`);
        const api = await cli.gateway(options);
        const deleted = await api.delete<{ serverId: string; name: string; deleted: true; grants: number }>(`/servers/${segment(server!)}/policies/${segment(name!)}`);
        emit(cli, options, deleted, () => `${cli.terminal.stdout.green("✓")} Deleted policy ${server}/${name}; ${count(deleted.grants, "grant")} now deny every call\n`);
      }),
    );

  policy
    .command("recommend")
    .description("Write the gateway's recommended policy for a server (or one tool) to a file")
    .argument("<server>", "the server id")
    .option("--tool <name>", "only this tool")
    .option("-o, --output <file>", "where to write it (- for stdout)", "-")
    .addHelpText("after", "\nExamples:\n  $ mpg policy recommend crm -o policies/crm/recommended.json\n  $ mpg policy recommend jobs --tool run")
    .action(
      action<{ tool?: string; output: string }>(async ([server], options) => {
        const api = await cli.gateway(options);
        const path = options.tool === undefined ? `/servers/${segment(server!)}/recommended-policy` : `/servers/${segment(server!)}/tools/${segment(options.tool)}/recommended-policy`;
        const answer = await api.get<{ policy: unknown; explanations: Record<string, string> }>(path);
        const { policyText } = await policyEngine();
        if (options.json) {
          if (options.output !== "-") await writeOutput(cli, options.output, policyText(answer.policy));
          cli.terminal.out(JSON.stringify(answer, null, 2) + "\n");
          return;
        }
        await writeOutput(cli, options.output, policyText(answer.policy));
        // Explanations are messages for the person; stdout may be the policy file itself.
        for (const [tool, sentence] of Object.entries(answer.explanations)) cli.terminal.err(cli.terminal.stderr.dim(`${printable(tool)}: ${printable(sentence)}\n`));
        if (options.output !== "-") cli.terminal.err(`${cli.terminal.stderr.green("✓")} Wrote the recommended policy to ${options.output}\n`);
      }),
    );
}

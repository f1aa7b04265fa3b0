/**
 * `mpg policy diff` and `mpg policy push`: a file against the live version of its policy. Both lint
 * the file first (./policy-files.ts) and stop on errors before anything is sent. `push` then saves
 * only when the file changes what the gateway enforces, so pushing every file on every merge makes
 * no new versions, like `kubectl apply`.
 */
import type { Command } from "commander";
import type { PolicyDocument } from "../../policy/schema";
import { segment, type AdminApi } from "../admin-api";
import { action, emit, type Cli, type GlobalOptions } from "../context";
import { CliFailure, EXIT, GatewayRefusal } from "../failure";
import type { PolicyDiff } from "../policy-diff";
import type { LintResult } from "../policy-lint";
import { count, palette, type Palette } from "../style";
import { policyEngine, readPolicyFile, reportFindings, type PolicyEngine, type PolicyFile } from "./policy-files";

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
async function validFile(
  cli: Cli,
  engine: PolicyEngine,
  path: string,
  options: GlobalOptions,
): Promise<{ file: PolicyFile; lint: LintResult; document: PolicyDocument }> {
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

/** The patch's two headers: the live version (or /dev/null for a new policy) and the file. */
const patchLabels = (serverId: string, name: string, file: string, liveVersion: number | null) => ({
  from: liveVersion === null ? "/dev/null" : `${serverId}/${name} version ${liveVersion} (live)`,
  to: file,
});

function diffView(engine: PolicyEngine, serverId: string, name: string, file: string, live: LivePolicy | null, diff: PolicyDiff): DiffView {
  const labels = patchLabels(serverId, name, file, live === null ? null : live.version);
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
  const labels = patchLabels(view.serverId, view.name, view.file, view.live === null ? null : view.live.version);
  const summary = view.live === null ? `New policy ${view.serverId}/${view.name}` : `${count(view.changes.length, "change")} to ${view.serverId}/${view.name}`;
  return `${engine.renderPatch(diff, labels, colours) + colours.dim(summary)}\n`;
}

/** What `policy diff` and `policy push` both start from: the linted file, the live version and their diff. */
async function comparedFile(cli: Cli, serverId: string, name: string, path: string, options: GlobalOptions) {
  const engine = await policyEngine();
  const { file, lint, document } = await validFile(cli, engine, path, options);
  const api = await cli.gateway(options);
  const live = await livePolicy(api, serverId, name);
  const diff = engine.diffPolicies(live?.document ?? null, document);
  const view = diffView(engine, serverId, name, file.path, live, diff);
  return { engine, file, lint, api, live, diff, view };
}

export function diffPolicy(policy: Command, cli: Cli): void {
  policy
    .command("diff")
    .description("Show what a file changes against the live version of a policy")
    .argument("<server>", "the server id")
    .argument("<name>", "the policy name")
    .argument("<file>", "the policy file (- for stdin)")
    .addHelpText("after", "\nExample:\n  $ mpg policy diff crm support policies/crm/support.json")
    .action(
      action(async ([server, name, path], options) => {
        const { engine, diff, view } = await comparedFile(cli, server!, name!, path!, options);
        emit(cli, options, view, () => humanDiff(engine, view, diff, cli.terminal.stdout));
      }),
    );
}

export function pushPolicy(policy: Command, cli: Cli): void {
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
        const { engine, file, lint, api, live, diff, view } = await comparedFile(cli, server!, name!, path!, options);
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
}

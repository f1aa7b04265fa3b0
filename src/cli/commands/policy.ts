/**
 * `mpg policy lint|diff|push|pull|list|rm|recommend`: policies as files, for review in pull
 * requests and for CI (examples/github-actions/policies.yml).
 *
 * `push` is lint, then diff, then save, and saves only when the file changes what the gateway
 * enforces: pushing every policy file on every merge is safe and makes no new versions for files
 * that did not change, like `kubectl apply`.
 *
 * Files: ./policy-files.ts reads and lints files (`lint`), ./policy-push.ts compares them with the
 * live version (`diff`, `push`); this file has the group and the commands on the gateway's stored
 * policies (`pull`, `list`, `rm`, `recommend`).
 */
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import type { PolicyDocument } from "../../policy/schema";
import { segment } from "../admin-api";
import { action, confirm, emit, type Cli } from "../context";
import { usageError } from "../failure";
import { count, printable, table } from "../style";
import { lintPolicies, policyEngine } from "./policy-files";
import { diffPolicy, pushPolicy } from "./policy-push";

async function writeOutput(cli: Cli, output: string, text: string): Promise<void> {
  if (output === "-") cli.terminal.out(text);
  else await writeFile(output, text);
}

export function registerPolicy(program: Command, cli: Cli): void {
  const policy = program.command("policy").description("Policies as files: lint, diff, push, pull, list, rm, recommend");
  lintPolicies(policy, cli);
  diffPolicy(policy, cli);
  pushPolicy(policy, cli);
  pullPolicy(policy, cli);
  listPolicies(policy, cli);
  removePolicy(policy, cli);
  recommendPolicy(policy, cli);
}

function pullPolicy(policy: Command, cli: Cli): void {
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
          cli.terminal.out(options.json ? `${JSON.stringify({ ...result, document: record.document }, null, 2)}\n` : policyText(record.document));
          return;
        }
        await writeOutput(cli, output, policyText(record.document));
        emit(cli, options, result, () => `${cli.terminal.stdout.green("✓")} Wrote ${server}/${name} version ${record.version} to ${output}\n`);
      }),
    );
}

function listPolicies(policy: Command, cli: Cli): void {
  policy
    .command("list")
    .description("List a server's policies")
    .argument("<server>", "the server id")
    .addHelpText("after", "\nExample:\n  $ mpg policy list crm")
    .action(
      action(async ([server], options) => {
        const api = await cli.gateway(options);
        const { policies } = await api.get<{ policies: { name: string; latest: number; created: string; updated: string }[] }>(
          `/servers/${segment(server!)}/policies`,
        );
        emit(cli, options, { serverId: server, policies }, () =>
          policies.length === 0
            ? `No policies on ${server}. Push one: mpg policy push ${server} <name> <file>\n`
            : table(
                ["name", "latest", "created", "updated"],
                policies.map((p) => [p.name, String(p.latest), p.created, p.updated]),
                cli.terminal.stdout,
              ),
        );
      }),
    );
}

function removePolicy(policy: Command, cli: Cli): void {
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
        const deleted = await api.delete<{ serverId: string; name: string; deleted: true; grants: number }>(
          `/servers/${segment(server!)}/policies/${segment(name!)}`,
        );
        emit(
          cli,
          options,
          deleted,
          () => `${cli.terminal.stdout.green("✓")} Deleted policy ${server}/${name}; ${count(deleted.grants, "grant")} now deny every call\n`,
        );
      }),
    );
}

function recommendPolicy(policy: Command, cli: Cli): void {
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
        const path =
          options.tool === undefined
            ? `/servers/${segment(server!)}/recommended-policy`
            : `/servers/${segment(server!)}/tools/${segment(options.tool)}/recommended-policy`;
        const answer = await api.get<{ policy: unknown; explanations: Record<string, string> }>(path);
        const { policyText } = await policyEngine();
        if (options.json) {
          if (options.output !== "-") await writeOutput(cli, options.output, policyText(answer.policy));
          cli.terminal.out(`${JSON.stringify(answer, null, 2)}\n`);
          return;
        }
        await writeOutput(cli, options.output, policyText(answer.policy));
        // Explanations are messages for the person; stdout may be the policy file itself.
        for (const [tool, sentence] of Object.entries(answer.explanations))
          cli.terminal.err(cli.terminal.stderr.dim(`${printable(tool)}: ${printable(sentence)}\n`));
        if (options.output !== "-") cli.terminal.err(`${cli.terminal.stderr.green("✓")} Wrote the recommended policy to ${options.output}\n`);
      }),
    );
}

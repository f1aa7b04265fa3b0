/**
 * The command tree. Each command lives in src/cli/commands/<name>.ts and registers itself here;
 * this list is where a new command is added (docs/cli.md, "Adding a command").
 */
import { Command, Option } from "commander";
import { registerApprovals } from "./commands/approvals";
import { registerAudit } from "./commands/audit";
import { registerGrants } from "./commands/grants";
import { registerLogin } from "./commands/login";
import { registerPolicy } from "./commands/policy";
import { registerServers } from "./commands/servers";
import { registerTools } from "./commands/tools";
import { registerVerifyAudit } from "./commands/verify-audit";
import type { Cli } from "./context";

/**
 * Commander quotes what it did not understand. An unknown `--token=…` would put a secret in the
 * message; the value after `=` is dropped (the option's name is enough to fix the mistake).
 */
export const withoutOptionValues = (message: string): string => message.replace(/'(-{1,2}[^'=\s]+)=[^']*'/g, "'$1=…'");

const COMMANDS: readonly ((program: Command, cli: Cli) => void)[] = [
  registerLogin,
  registerServers,
  registerTools,
  registerPolicy,
  registerGrants,
  registerApprovals,
  registerAudit,
  registerVerifyAudit,
];

export function buildProgram(cli: Cli): Command {
  const program = new Command("mcp-policy-gateway")
    .alias("mpg")
    .description("Operate an mcp-policy-gateway from a terminal or CI: servers, policies as files, grants, approvals, audit")
    .addOption(new Option("--json", "print results as JSON (for scripts)"))
    .addOption(new Option("--gateway <url>", "the gateway to talk to (default: MPG_URL, else the one you logged in to)"))
    .addOption(new Option("--no-color", "no colours (also: NO_COLOR=1, or when output is not a terminal)"))
    .addOption(new Option("--verbose", "print each admin API request and its status on stderr (never a header or a body)"))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    // Set before the commands are added, so every subcommand inherits them.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => cli.terminal.out(text),
      writeErr: (text) => cli.terminal.err(text),
      outputError: (text, write) => write(cli.terminal.stderr.red(withoutOptionValues(text))),
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `
Environment:
  MPG_URL, MPG_ADMIN_TOKEN   the gateway and its admin token, instead of \`mpg login\` (for CI)
  MPG_CONFIG_DIR             where login is saved (default: $XDG_CONFIG_HOME or ~/.config, /mcp-policy-gateway)
  NO_COLOR                   no colours

\`mpg --version\` prints the version. Exit codes: 0 ok, 1 errors, 2 usage, 3 the gateway refused.
Documentation: docs/cli.md`,
    );
  for (const register of COMMANDS) register(program, cli);
  return program;
}

/** Every command, depth first, for help checks and tests. */
export function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

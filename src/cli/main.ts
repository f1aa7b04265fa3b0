/**
 * The `mcp-policy-gateway` (alias `mpg`) command line. Bundled by scripts/build-cli.mjs into one
 * file that runs on plain Node 20, with the gateway's own policy schema and RE2 check inside, so
 * `policy lint` needs no network and agrees with the gateway exactly.
 *
 * This file is the shell: it builds the terminal and the command tree, runs the command, and turns
 * every failure into one message and an exit code (src/cli/failure.ts), in one place.
 */
import { CommanderError } from "commander";
import { cliContext, type Environment } from "./context";
import { CliFailure, EXIT, GatewayRefusal } from "./failure";
import { buildProgram } from "./program";
import { nodeTerminal, processStreams, type Streams, type Terminal } from "./terminal";

declare const MPG_CLI_VERSION: string | undefined;
const version = typeof MPG_CLI_VERSION === "string" ? MPG_CLI_VERSION : "0.0.0-dev";

function reportFailure(terminal: Terminal, error: unknown, json: boolean): number {
  if (error instanceof CliFailure) {
    if (error.code !== "reported") {
      const refused = error instanceof GatewayRefusal ? `the gateway refused (${error.status} ${error.code}): ` : "";
      terminal.err(json ? `${JSON.stringify(error.json)}\n` : `${terminal.stderr.red("error:")} ${refused}${error.message}\n`);
    }
    return error.exitCode;
  }
  // A bug, not a refusal: its message may quote anything, so it is redacted like every line.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  terminal.err(json ? `${JSON.stringify({ error: { code: "internal", message } })}\n` : `${terminal.stderr.red("error:")} ${message}\n`);
  return EXIT.errors;
}

/**
 * Runs one command line and returns its exit code; bin.ts passes the process's arguments,
 * environment and streams. Nothing here exits the process, so tests run it in theirs too.
 */
export async function main(argv: readonly string[], env: Environment, streams: Streams = processStreams()): Promise<number> {
  // Read before parsing, so even a usage error is printed the way these ask for.
  const json = argv.includes("--json");
  const terminal = nodeTerminal(env, argv.includes("--no-color"), streams);
  const cli = cliContext(terminal, env, version);
  // Not a commander option: a program-level `--version` would be parsed anywhere on the line and
  // take `policy pull … --version 3` for itself.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    terminal.out(`${version}\n`);
    return EXIT.ok;
  }
  const program = buildProgram(cli);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") {
        // `mpg` alone shows the help and is a usage mistake; `mpg --help` is not.
        return error.code === "commander.help" ? EXIT.usage : EXIT.ok;
      }
      return EXIT.usage;
    }
    return reportFailure(terminal, error, json);
  }
}

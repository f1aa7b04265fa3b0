/**
 * What every command gets: the terminal, the environment, the clock, and the way to the gateway.
 * The gateway is resolved only when a command asks for it, so offline commands (`policy lint`
 * without `--server`, `--help`) run with no login at all.
 */
import type { Command } from "commander";
import { adminApi, type AdminApi } from "./admin-api";
import { configPath, readConfig, resolveConnection } from "./config";
import { usageError } from "./failure";
import type { Terminal } from "./terminal";

/** The process environment, as the CLI reads it (Env in worker-configuration.d.ts is the Worker's). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options every command accepts (program-level; commander hands them down). */
export interface GlobalOptions {
  json?: boolean;
  /** `--gateway <url>`: talk to this gateway instead of MPG_URL or the saved one. */
  gateway?: string;
  color?: boolean;
  verbose?: boolean;
}

export interface Cli {
  terminal: Terminal;
  env: Environment;
  version: string;
  now(): Date;
  configPath: string;
  /** The admin API of the gateway the options, the environment or the saved login name. */
  gateway(options: GlobalOptions): Promise<AdminApi>;
}

export function cliContext(terminal: Terminal, env: Environment, version: string): Cli {
  const path = configPath(env);
  return {
    terminal,
    env,
    version,
    now: () => new Date(),
    configPath: path,
    async gateway(options) {
      const { config, tooOpen } = await readConfig(path);
      if (tooOpen) terminal.err(terminal.stderr.yellow(`warning: ${path} is readable by other users; run: chmod 600 ${path}\n`));
      const connection = resolveConnection(env, options.gateway, config);
      if (!connection.ok) throw usageError(connection.error);
      terminal.protect(connection.value.token);
      return adminApi(connection.value, {
        userAgent: `mcp-policy-gateway-cli/${version}`,
        trace: options.verbose ? (line) => terminal.err(terminal.stderr.dim(`${line}\n`)) : undefined,
      });
    },
  };
}

/**
 * A commander action with the positional arguments first and the command's options merged with
 * the global ones: `action(cli, (args, options) => …)`.
 */
export function action<O extends object>(
  run: (args: string[], options: O & GlobalOptions, command: Command) => Promise<void>,
): (...params: unknown[]) => Promise<void> {
  return async (...params) => {
    const command = params.at(-1) as Command;
    // Optional arguments arrive as undefined; a variadic one (`<file...>`) as an array.
    const args = params.slice(0, -2) as string[];
    await run(args, command.optsWithGlobals() as O & GlobalOptions, command);
  };
}

/** `--json`: the value as JSON; otherwise the person's rendering. Results go to stdout. */
export function emit(cli: Cli, options: GlobalOptions, value: unknown, human: () => string): void {
  cli.terminal.out(options.json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** A destructive step: `--yes`, or a person's "y" on a terminal; never silently assumed. */
export async function confirm(cli: Cli, options: { yes?: boolean }, question: string): Promise<void> {
  if (options.yes) return;
  if (!cli.terminal.interactive) throw usageError(`${question} Pass --yes to confirm (there is no terminal to ask)`);
  const answer = await cli.terminal.ask(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw usageError("Not confirmed; nothing was changed");
}

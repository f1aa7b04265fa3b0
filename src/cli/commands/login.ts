/**
 * `mpg login` and `mpg logout`: the gateway URL and its admin token, saved for later commands
 * (src/cli/config.ts). The token is read from a hidden prompt or from stdin (`--token-stdin`),
 * never from an option: argv shows up in `ps` and in shell history. It is checked against the
 * gateway before it is saved, like `gh auth login`.
 */
import type { Command } from "commander";
import { adminApi } from "../admin-api";
import { action, emit, type Cli } from "../context";
import { gatewayUrl, isLoopback, readConfig, writeConfig } from "../config";
import { usageError } from "../failure";
import { count } from "../style";

export function registerLogin(program: Command, cli: Cli): void {
  login(program, cli);
  logout(program, cli);
}

function login(program: Command, cli: Cli): void {
  program
    .command("login")
    .description("Save a gateway URL and its admin token (in your config directory, mode 0600)")
    .option("--token-stdin", "read the admin token from stdin instead of a prompt")
    .addHelpText(
      "after",
      `
The token is never taken as an option: argv shows up in \`ps\`. In CI, set MPG_URL and
MPG_ADMIN_TOKEN instead of logging in.

Examples:
  $ mpg login --gateway https://gw.example.com
  $ printf '%s' "$ADMIN_TOKEN" | mpg login --gateway http://127.0.0.1:8787 --token-stdin`,
    )
    .action(
      action<{ tokenStdin?: boolean }>(async (_args, options) => {
        const { terminal } = cli;
        const url = await loginUrl(cli, options.gateway);
        const token = await loginToken(cli, options.tokenStdin === true);
        // A token the gateway refuses is not saved (exit 3 with the gateway's own error).
        const api = adminApi({ url, token, tokenSource: "config" }, { userAgent: `mcp-policy-gateway-cli/${cli.version}` });
        const { servers } = await api.get<{ servers: unknown[] }>("/servers");

        const { config } = await readConfig(cli.configPath);
        config.gateways[url] = { token, saved: cli.now().toISOString() };
        config.current = url;
        await writeConfig(cli.configPath, config);
        emit(
          cli,
          options,
          { url, configPath: cli.configPath, servers: servers.length },
          () => `${terminal.stdout.green("✓")} Logged in to ${url} (${count(servers.length, "server")}). Token saved in ${cli.configPath}\n`,
        );
      }),
    );
}

/** `--gateway`, else MPG_URL, else a prompt on a terminal; plain http is allowed with a warning. */
async function loginUrl(cli: Cli, flag: string | undefined): Promise<string> {
  const { terminal } = cli;
  const rawUrl = flag ?? (cli.env.MPG_URL || undefined) ?? (terminal.interactive ? await terminal.ask("Gateway URL: ") : undefined);
  if (rawUrl === undefined) throw usageError("Name the gateway: mpg login --gateway https://<your-worker>");
  const url = gatewayUrl(rawUrl.trim());
  if (!url.ok) throw usageError(`--gateway: ${url.error}`);
  if (url.value.startsWith("http:") && !isLoopback(url.value)) {
    terminal.err(terminal.stderr.yellow(`warning: ${url.value} is plain http; the admin token crosses the network unencrypted\n`));
  }
  return url.value;
}

/** From stdin or a hidden prompt, never argv; protected from every line printed once it is known. */
async function loginToken(cli: Cli, fromStdin: boolean): Promise<string> {
  const { terminal } = cli;
  let token: string;
  if (fromStdin) token = (await terminal.readStdin()).trim();
  else if (terminal.interactive) token = (await terminal.askSecret("Admin token (input hidden): ")).trim();
  else throw usageError("No terminal to prompt for the admin token: pipe it in with --token-stdin");
  if (token === "") throw usageError("The admin token is empty");
  terminal.protect(token);
  return token;
}

function logout(program: Command, cli: Cli): void {
  program
    .command("logout")
    .description("Forget the saved admin token of the current gateway (or of --gateway)")
    .addHelpText("after", "\nExample:\n  $ mpg logout --gateway https://gw.example.com")
    .action(
      action(async (_args, options) => {
        const { config } = await readConfig(cli.configPath);
        const raw = options.gateway ?? config.current;
        const url = raw === null ? null : gatewayUrl(raw);
        if (url === null || !url.ok || config.gateways[url.value] === undefined) throw usageError("Not logged in to that gateway");
        delete config.gateways[url.value];
        if (config.current === url.value) config.current = Object.keys(config.gateways)[0] ?? null;
        await writeConfig(cli.configPath, config);
        emit(cli, options, { url: url.value, loggedOut: true, current: config.current }, () => `Logged out of ${url.value}\n`);
      }),
    );
}

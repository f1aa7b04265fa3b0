/**
 * `mpg servers list|add|show|update|rm|discover`: upstream MCP servers (README, "Servers").
 *
 * Header values are credentials for the upstream. They are read from a hidden prompt (or the next
 * line of piped stdin) for `--header NAME`, or from the environment for `--header-from-env
 * NAME=ENV`, never from argv, which `ps` shows to every user of the machine. The gateway never
 * returns them; the CLI never prints them.
 */
import type { Command } from "commander";
import { segment } from "../admin-api";
import { action, confirm, emit, type Cli } from "../context";
import { usageError } from "../failure";
import { count, fields, printable, table, type Palette } from "../style";
import type { ServerView } from "../../admin/servers";
import type { DiscoverySummary } from "../../catalogue/refresh";

const collect = (value: string, previous: string[]) => [...previous, value];

function describeDiscovery(discovery: DiscoverySummary, colours: Palette): string {
  if (discovery.outcome === "ok") return `discovered ${count(discovery.tools, "tool")} (protocol ${discovery.protocolVersion})`;
  return colours.yellow(
    `discovery failed: ${discovery.error.code}: ${printable(discovery.error.message)}${discovery.snapshotKept ? " (the previous catalogue is kept)" : ""}`,
  );
}

/**
 * The header set from `--header NAME` (prompted) and `--header-from-env NAME=ENV`. Messages name
 * the header and the variable, never a value, and a `--header` that carries a value is refused
 * without repeating it.
 */
async function headerValues(cli: Cli, prompted: readonly string[], fromEnv: readonly string[]): Promise<Record<string, string> | undefined> {
  if (prompted.length === 0 && fromEnv.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const spec of fromEnv) {
    const match = /^([^=]+)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
    if (!match) throw usageError("--header-from-env takes NAME=ENV: the header's name and the environment variable holding its value");
    const [, name, variable] = match as unknown as [string, string, string];
    const value = cli.env[variable];
    if (value === undefined || value === "") throw usageError(`--header-from-env ${name}=${variable}: the environment variable ${variable} is not set`);
    headers[name] = value;
  }
  for (const name of prompted) {
    if (/[=:\s]/.test(name)) {
      throw usageError(
        "--header takes a header name only; its value is read from a prompt, or use --header-from-env NAME=ENV. Values are never taken from the command line",
      );
    }
    // On a terminal a hidden prompt; from a pipe, the next line (printf '%s\n' "$KEY" | mpg servers add …).
    const value = await cli.terminal.askSecret(`Value of header ${name} (input hidden): `);
    if (value === "") throw usageError(`No value given for header ${name}`);
    headers[name] = value;
  }
  return headers;
}

export function registerServers(program: Command, cli: Cli): void {
  const servers = program.command("servers").description("Upstream MCP servers: list, add, show, update, rm, discover");
  listServers(servers, cli);
  addServer(servers, cli);
  showServer(servers, cli);
  updateServer(servers, cli);
  removeServer(servers, cli);
  discoverServer(servers, cli);
}

function listServers(servers: Command, cli: Cli): void {
  servers
    .command("list")
    .description("List servers")
    .addHelpText("after", "\nExample:\n  $ mpg servers list")
    .action(
      action(async (_args, options) => {
        const api = await cli.gateway(options);
        const { servers: list } = await api.get<{ servers: ServerView[] }>("/servers");
        emit(cli, options, { servers: list }, () =>
          list.length === 0
            ? "No servers. Add one: mpg servers add <id> --name <name> --url <url>\n"
            : table(
                ["id", "name", "url", "headers", "version", "updated"],
                list.map((s) => [s.id, printable(s.name), s.url, s.headers.join(",") || "-", String(s.version), s.updated]),
                cli.terminal.stdout,
              ),
        );
      }),
    );
}

function addServer(servers: Command, cli: Cli): void {
  servers
    .command("add")
    .description("Register an upstream MCP server; the gateway discovers its tools at once")
    .argument("[id]", "the server id (lowercase letters, digits, '-'); generated if omitted")
    .requiredOption("--name <name>", "a display name")
    .requiredOption("--url <url>", "the upstream's Streamable HTTP URL")
    .option("--header <name>", "a header the gateway adds to every upstream request; its value is prompted for (repeatable)", collect, [])
    .option("--header-from-env <NAME=ENV>", "a header whose value is in environment variable ENV (repeatable)", collect, [])
    .addHelpText(
      "after",
      `
Examples:
  $ mpg servers add crm --name CRM --url https://crm.example.com/mcp --header X-Api-Key
  $ CRM_KEY=… mpg servers add crm --name CRM --url https://crm.example.com/mcp --header-from-env X-Api-Key=CRM_KEY`,
    )
    .action(
      action<{ name: string; url: string; header: string[]; headerFromEnv: string[] }>(async ([id], options) => {
        const headers = await headerValues(cli, options.header, options.headerFromEnv);
        const api = await cli.gateway(options);
        const created = await api.post<ServerView & { discovery: DiscoverySummary }>("/servers", {
          ...(id === undefined ? {} : { id }),
          name: options.name,
          url: options.url,
          ...(headers === undefined ? {} : { headers }),
        });
        emit(
          cli,
          options,
          created,
          () =>
            `${cli.terminal.stdout.green("✓")} Created server ${created.id} (${created.url}); ${describeDiscovery(created.discovery, cli.terminal.stdout)}\n`,
        );
      }),
    );
}

function showServer(servers: Command, cli: Cli): void {
  servers
    .command("show")
    .description("Show a server and its policies")
    .argument("<id>", "the server id")
    .addHelpText("after", "\nExample:\n  $ mpg servers show crm")
    .action(
      action(async ([id], options) => {
        const api = await cli.gateway(options);
        const server = await api.get<ServerView>(`/servers/${segment(id!)}`);
        const { policies } = await api.get<{ policies: { name: string; latest: number; updated: string }[] }>(`/servers/${segment(id!)}/policies`);
        emit(cli, options, { ...server, policies }, () => {
          const colours = cli.terminal.stdout;
          return (
            fields(
              [
                ["id", server.id],
                ["name", printable(server.name)],
                ["url", server.url],
                ["headers", server.headers.join(", ") || "-"],
                ["version", String(server.version)],
                ["created", server.created],
                ["updated", server.updated],
              ],
              colours,
            ) +
            (policies.length === 0
              ? "\nNo policies.\n"
              : "\n" +
                table(
                  ["policy", "latest", "updated"],
                  policies.map((p) => [p.name, String(p.latest), p.updated]),
                  colours,
                ))
          );
        });
      }),
    );
}

function updateServer(servers: Command, cli: Cli): void {
  servers
    .command("update")
    .description("Change a server's name, URL or headers (headers replace the whole set)")
    .argument("<id>", "the server id")
    .option("--name <name>", "a new display name")
    .option("--url <url>", "a new upstream URL")
    .option("--header <name>", "a header for the new set; its value is prompted for (repeatable)", collect, [])
    .option("--header-from-env <NAME=ENV>", "a header for the new set, its value from environment variable ENV (repeatable)", collect, [])
    .option("--clear-headers", "remove every header")
    .addHelpText(
      "after",
      `
Examples:
  $ mpg servers update crm --name "CRM (prod)"
  $ CRM_KEY=… mpg servers update crm --header-from-env X-Api-Key=CRM_KEY`,
    )
    .action(
      action<{ name?: string; url?: string; header: string[]; headerFromEnv: string[]; clearHeaders?: boolean }>(async ([id], options) => {
        const headers = await headerValues(cli, options.header, options.headerFromEnv);
        if (headers !== undefined && options.clearHeaders) throw usageError("--clear-headers cannot be combined with --header or --header-from-env");
        const patch = {
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.url === undefined ? {} : { url: options.url }),
          ...(headers === undefined ? {} : { headers }),
          ...(options.clearHeaders ? { headers: {} } : {}),
        };
        if (Object.keys(patch).length === 0) throw usageError("Nothing to change: give --name, --url, --header, --header-from-env or --clear-headers");
        const api = await cli.gateway(options);
        const updated = await api.patch<ServerView & { discovery?: DiscoverySummary }>(`/servers/${segment(id!)}`, patch);
        emit(cli, options, updated, () => {
          const discovery = updated.discovery === undefined ? "" : `; ${describeDiscovery(updated.discovery, cli.terminal.stdout)}`;
          return `${cli.terminal.stdout.green("✓")} Updated server ${updated.id} to version ${updated.version}${discovery}\n`;
        });
      }),
    );
}

function removeServer(servers: Command, cli: Cli): void {
  servers
    .command("rm")
    .description("Delete a server (its grants must be deleted first; policy versions stay)")
    .argument("<id>", "the server id")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText("after", "\nExample:\n  $ mpg servers rm crm --yes")
    .action(
      action<{ yes?: boolean }>(async ([id], options) => {
        await confirm(cli, options, `Delete server ${id}, its policy heads and its catalogue?`);
        const api = await cli.gateway(options);
        const deleted = await api.delete<{ id: string; deleted: true }>(`/servers/${segment(id!)}`);
        emit(cli, options, deleted, () => `${cli.terminal.stdout.green("✓")} Deleted server ${deleted.id}\n`);
      }),
    );
}

function discoverServer(servers: Command, cli: Cli): void {
  servers
    .command("discover")
    .description("Fetch the server's tools now")
    .argument("<id>", "the server id")
    .addHelpText("after", "\nExample:\n  $ mpg servers discover crm")
    .action(
      action(async ([id], options) => {
        const api = await cli.gateway(options);
        const answer = await api.post<{ serverId: string; discovery: DiscoverySummary }>(`/servers/${segment(id!)}/discover`);
        emit(cli, options, answer, () => `${cli.terminal.stdout.green("✓")} ${answer.serverId}: ${describeDiscovery(answer.discovery, cli.terminal.stdout)}\n`);
      }),
    );
}

/**
 * `mpg grants list|create|show|update|rotate|revoke|rm`: one agent's access to one server.
 *
 * `create` and `rotate` print the grant's token: the gateway returns it in that one answer and
 * keeps only its hash, so this is the only time anyone sees it. It is printed once, to stdout
 * (with `--client`, inside a ready-to-use client config), and never in a message or an error.
 */
import type { Command } from "commander";
import type { GrantView } from "../../admin/grants";
import type { GrantRecord } from "../../store/grants";
import { segment } from "../admin-api";
import { CLIENTS, clientConfig, type ClientConfig, type ClientName } from "../client-config";
import { action, confirm, emit, type Cli } from "../context";
import { usageError } from "../failure";
import { fields, table, type Palette } from "../style";

const status = (grant: GrantRecord, colours: Palette) => (grant.revoked === null ? colours.green("active") : colours.red("revoked"));

function placementOf(grant: GrantRecord): string {
  const { region = null, createdFrom = null } = grant.placement ?? {};
  if (region !== null) return `region ${region} (location hint)`;
  return createdFrom === null ? "where it was created (location unknown)" : `near ${createdFrom}, where it was created`;
}

function clientOption(value: string | undefined): ClientName | undefined {
  if (value === undefined) return undefined;
  if (!(CLIENTS as readonly string[]).includes(value)) throw usageError(`--client must be one of ${CLIENTS.join(", ")}`);
  return value as ClientName;
}

/** What a person needs right after create or rotate: the token, once, and where to put it. */
function tokenBlock(cli: Cli, token: string, url: string, config: ClientConfig | undefined): void {
  const colours = cli.terminal.stdout;
  const lines = [
    "",
    colours.yellow("Token (shown once; the gateway keeps only its hash, so store it now):"),
    token,
    "",
    `URL: ${url}`,
    ...(config === undefined ? [] : ["", colours.bold(`${config.client}: ${config.where}`), config.text.trimEnd()]),
    "",
  ];
  cli.terminal.revealOnce(lines.join("\n"));
}

const CLIENT_HELP = `a client config to print with the token: ${CLIENTS.join(", ")}`;

export function registerGrants(program: Command, cli: Cli): void {
  const grants = program.command("grants").description("Grants: list, create, show, update, rotate, revoke, rm");
  listGrants(grants, cli);
  createGrant(grants, cli);
  showGrant(grants, cli);
  updateGrant(grants, cli);
  rotateGrant(grants, cli);
  revokeGrant(grants, cli);
  removeGrant(grants, cli);
}

function listGrants(grants: Command, cli: Cli): void {
  grants
    .command("list")
    .description("List grants")
    .option("--server <id>", "only the grants of this server")
    .addHelpText("after", "\nExamples:\n  $ mpg grants list\n  $ mpg grants list --server crm --json")
    .action(
      action<{ server?: string }>(async (_args, options) => {
        const api = await cli.gateway(options);
        const query = options.server === undefined ? "" : `?serverId=${segment(options.server)}`;
        const { grants: list } = await api.get<{ grants: GrantRecord[] }>(`/grants${query}`);
        const colours = cli.terminal.stdout;
        emit(cli, options, { grants: list }, () =>
          list.length === 0
            ? "No grants.\n"
            : table(
                ["id", "label", "server", "policy", "status", "created"],
                list.map((g) => [g.id, g.label, g.serverId, g.policyName ?? colours.dim("(none: denies all)"), status(g, colours), g.created]),
                colours,
              ),
        );
      }),
    );
}

function createGrant(grants: Command, cli: Cli): void {
  grants
    .command("create")
    .description("Create a grant and print its token, once")
    .argument("<label>", "who the grant is for (letters, digits, _ . : -)")
    .requiredOption("--server <id>", "the server the grant reaches")
    .option("--policy <name>", "the server's policy it runs under; without one it denies every call")
    .option("--client <client>", CLIENT_HELP)
    .option("--name <name>", "the server name in the client config (default: the label)")
    .option("--region <hint>", "place the grant's Durable Object near its agents: a location hint such as weur or enam (the gateway names the valid ones)")
    .addHelpText(
      "after",
      `
Examples:
  $ mpg grants create support-bot --server crm --policy support --client claude-code
  $ mpg grants create ci-agent --server crm --policy read-only --json`,
    )
    .action(
      action<{ server: string; policy?: string; client?: string; name?: string; region?: string }>(async ([label], options) => {
        const client = clientOption(options.client);
        const api = await cli.gateway(options);
        const created = await api.post<{ grant: GrantView; token: string; url: string; serverUrl: string }>("/grants", {
          label,
          serverId: options.server,
          ...(options.policy === undefined ? {} : { policyName: options.policy }),
          ...(options.region === undefined ? {} : { region: options.region }),
        });
        const config = client === undefined ? undefined : clientConfig(client, { name: options.name ?? label!, url: created.url, token: created.token });
        if (options.json) {
          cli.terminal.revealOnce(`${JSON.stringify({ ...created, ...(config === undefined ? {} : { clientConfig: config }) }, null, 2)}\n`);
          return;
        }
        const { grant } = created;
        const policy = grant.policyName === null ? "no policy (denies every call)" : `policy ${grant.policyName} v${grant.policyVersion}`;
        cli.terminal.out(`${cli.terminal.stdout.green("✓")} Created grant ${grant.id} (${grant.label}) on ${grant.serverId}, ${policy}\n`);
        tokenBlock(cli, created.token, created.url, config);
      }),
    );
}

function showGrant(grants: Command, cli: Cli): void {
  grants
    .command("show")
    .description("Show a grant as its Durable Object enforces it")
    .argument("<id>", "the grant id")
    .addHelpText("after", "\nExample:\n  $ mpg grants show g0123456789abcdef0123456789abcdef")
    .action(
      action(async ([id], options) => {
        const api = await cli.gateway(options);
        const grant = await api.get<GrantView>(`/grants/${segment(id!)}`);
        const colours = cli.terminal.stdout;
        emit(cli, options, grant, () =>
          fields(
            [
              ["id", grant.id],
              ["label", grant.label],
              ["server", grant.serverId],
              ["policy", grant.policyName === null ? "(none: denies every call)" : `${grant.policyName} version ${grant.policyVersion}`],
              ["status", grant.revoked === null ? status(grant, colours) : `${status(grant, colours)} at ${grant.revoked}`],
              ["created", grant.created],
              ["rotated", grant.rotated ?? "never"],
              ["placement", placementOf(grant)],
              ["url", `${api.url}/mcp/${grant.id}`],
            ],
            colours,
          ),
        );
      }),
    );
}

function updateGrant(grants: Command, cli: Cli): void {
  grants
    .command("update")
    .description("Change a grant's label or policy")
    .argument("<id>", "the grant id")
    .option("--label <label>", "a new label")
    .option("--policy <name>", "another policy of the grant's server")
    .option("--no-policy", "detach the policy: the grant then denies every call")
    .addHelpText("after", "\nExamples:\n  $ mpg grants update g0123… --policy read-only\n  $ mpg grants update g0123… --no-policy")
    .action(
      action<{ label?: string; policy?: string | false }>(async ([id], options) => {
        const patch = {
          ...(options.label === undefined ? {} : { label: options.label }),
          ...(options.policy === undefined ? {} : { policyName: options.policy === false ? null : options.policy }),
        };
        if (Object.keys(patch).length === 0) throw usageError("Nothing to change: give --label, --policy or --no-policy");
        const api = await cli.gateway(options);
        const grant = await api.patch<GrantView>(`/grants/${segment(id!)}`, patch);
        emit(cli, options, grant, () => {
          const policy = grant.policyName === null ? "no policy (denies every call)" : `policy ${grant.policyName} v${grant.policyVersion}`;
          return `${cli.terminal.stdout.green("✓")} Updated grant ${grant.id} (${grant.label}): ${policy}\n`;
        });
      }),
    );
}

function rotateGrant(grants: Command, cli: Cli): void {
  grants
    .command("rotate")
    .description("Give a grant a new token; the old one fails from the next request")
    .argument("<id>", "the grant id")
    .option("--client <client>", CLIENT_HELP)
    .option("--name <name>", "the server name in the client config (default: the label)")
    .addHelpText("after", "\nExample:\n  $ mpg grants rotate g0123… --client cursor")
    .action(
      action<{ client?: string; name?: string }>(async ([id], options) => {
        const client = clientOption(options.client);
        const api = await cli.gateway(options);
        const rotated = await api.post<{ grant: GrantView; token: string }>(`/grants/${segment(id!)}/rotate`);
        // The admin API answers create with the URL; for rotate it is built the same way.
        const url = `${api.url}/mcp/${rotated.grant.id}`;
        const config = client === undefined ? undefined : clientConfig(client, { name: options.name ?? rotated.grant.label, url, token: rotated.token });
        if (options.json) {
          cli.terminal.revealOnce(`${JSON.stringify({ ...rotated, url, ...(config === undefined ? {} : { clientConfig: config }) }, null, 2)}\n`);
          return;
        }
        cli.terminal.out(
          `${cli.terminal.stdout.green("✓")} Rotated the token of grant ${rotated.grant.id} (${rotated.grant.label}); the previous token no longer works\n`,
        );
        tokenBlock(cli, rotated.token, url, config);
      }),
    );
}

function revokeGrant(grants: Command, cli: Cli): void {
  grants
    .command("revoke")
    .description("Revoke a grant for good: every later request with its token is refused")
    .argument("<id>", "the grant id")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText("after", "\nExample:\n  $ mpg grants revoke g0123… --yes")
    .action(
      action<{ yes?: boolean }>(async ([id], options) => {
        await confirm(cli, options, `Revoke grant ${id}? Revocation is final.`);
        const api = await cli.gateway(options);
        const { grant } = await api.post<{ grant: GrantView }>(`/grants/${segment(id!)}/revoke`);
        emit(cli, options, { grant }, () => `${cli.terminal.stdout.green("✓")} Revoked grant ${grant.id} (${grant.label}) at ${grant.revoked}\n`);
      }),
    );
}

function removeGrant(grants: Command, cli: Cli): void {
  grants
    .command("rm")
    .description("Revoke and delete a grant; its audit log stays readable by id")
    .argument("<id>", "the grant id")
    .option("-y, --yes", "do not ask for confirmation")
    .addHelpText("after", "\nExample:\n  $ mpg grants rm g0123… --yes")
    .action(
      action<{ yes?: boolean }>(async ([id], options) => {
        await confirm(cli, options, `Revoke and delete grant ${id}?`);
        const api = await cli.gateway(options);
        const deleted = await api.delete<{ id: string; deleted: true }>(`/grants/${segment(id!)}`);
        emit(
          cli,
          options,
          deleted,
          () => `${cli.terminal.stdout.green("✓")} Deleted grant ${deleted.id}; its audit log stays readable (mpg audit ${deleted.id})\n`,
        );
      }),
    );
}

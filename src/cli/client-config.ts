/**
 * What `grants create --client …` and `grants rotate --client …` print: a grant's URL and token in
 * the shape a client takes (README, "Point a client at a grant"). Pure.
 *
 * VS Code is the one shape that keeps the token out of the file: `.vscode/mcp.json` usually lives
 * in a repository, so it names an input that VS Code prompts for and stores in its secret storage.
 */
export const CLIENTS = ["claude-code", "cursor", "vscode", "claude-desktop", "inspector"] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface ClientConfig {
  client: ClientName;
  /** Where it goes, in words. */
  where: string;
  /** A shell command to run, or the JSON to merge into a config file. */
  kind: "command" | "json";
  text: string;
  /** The JSON, parsed, for `--json` consumers; absent for commands. */
  value?: unknown;
}

export interface GrantEndpoint {
  /** The name the client shows for the server. */
  name: string;
  url: string;
  token: string;
}

/** POSIX shell quoting, only where needed: ids, URLs and tokens usually need none. */
export const shellQuote = (word: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

const json = (value: unknown): { text: string; value: unknown } => ({ text: `${JSON.stringify(value, null, 2)}\n`, value });

export function clientConfig(client: ClientName, { name, url, token }: GrantEndpoint): ClientConfig {
  const authorization = `Authorization: Bearer ${token}`;
  switch (client) {
    case "claude-code":
      return {
        client,
        where: "run in a terminal",
        kind: "command",
        text: `claude mcp add --transport http ${shellQuote(name)} ${shellQuote(url)} --header ${shellQuote(authorization)}\n`,
      };
    case "cursor":
      return {
        client,
        where: "merge into ~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
        kind: "json",
        ...json({ mcpServers: { [name]: { url, headers: { Authorization: `Bearer ${token}` } } } }),
      };
    case "vscode": {
      const input = `${name}-token`;
      return {
        client,
        where: "merge into .vscode/mcp.json; VS Code asks for the token once and keeps it in its secret storage",
        kind: "json",
        ...json({
          inputs: [{ type: "promptString", id: input, description: `Token of grant ${name} (mcp-policy-gateway)`, password: true }],
          servers: { [name]: { type: "http", url, headers: { Authorization: `Bearer \${input:${input}}` } } },
        }),
      };
    }
    case "claude-desktop":
      return {
        client,
        where: "merge into claude_desktop_config.json (Claude Desktop starts mcp-remote, which connects to the gateway)",
        kind: "json",
        ...json({
          mcpServers: {
            [name]: {
              command: "npx",
              args: ["mcp-remote", url, "--header", "Authorization: Bearer ${MPG_TOKEN}"],
              env: { MPG_TOKEN: token },
            },
          },
        }),
      };
    case "inspector":
      return {
        client,
        where: "run in a terminal (a grant URL does not end in /mcp, so the transport is named)",
        kind: "command",
        text: `npx @modelcontextprotocol/inspector --cli ${shellQuote(url)} --transport http --header ${shellQuote(authorization)} --method tools/list\n`,
      };
  }
}

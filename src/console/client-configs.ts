/**
 * Ready-to-paste client configurations for a grant, in the shapes the README's "Point a client at a
 * grant" section documents. Pure: the grant's URL, its token and its label in, text out.
 */

export interface ClientConfig {
  id: string;
  label: string;
  text: string;
}

/** A label as a config key and CLI argument: MCP clients take names of these characters. */
export function serverKey(label: string): string {
  const key = label.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
  return key === "" ? "mcp-gateway" : key.slice(0, 64);
}

export function clientConfigs(label: string, url: string, token: string): ClientConfig[] {
  const name = serverKey(label);
  const authorization = `Bearer ${token}`;
  return [
    {
      id: "claude-code",
      label: "Claude Code",
      text: `claude mcp add --transport http ${name} ${url} \\\n  --header "Authorization: ${authorization}"`,
    },
    {
      id: "cursor",
      label: "Cursor (~/.cursor/mcp.json) and other mcpServers configs",
      text: JSON.stringify({ mcpServers: { [name]: { url, headers: { Authorization: authorization } } } }, null, 2),
    },
    {
      id: "vscode",
      label: "VS Code (.vscode/mcp.json)",
      text: JSON.stringify({ servers: { [name]: { type: "http", url, headers: { Authorization: authorization } } } }, null, 2),
    },
    {
      id: "claude-desktop",
      label: "Claude Desktop (claude_desktop_config.json, through mcp-remote)",
      text: JSON.stringify(
        {
          mcpServers: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: mcp-remote expands ${MPG_TOKEN} from env, so the token stays out of args.
            [name]: { command: "npx", args: ["mcp-remote", url, "--header", "Authorization: Bearer ${MPG_TOKEN}"], env: { MPG_TOKEN: token } },
          },
        },
        null,
        2,
      ),
    },
    {
      id: "inspector",
      label: "MCP Inspector CLI",
      text: `npx @modelcontextprotocol/inspector --cli ${url} \\\n  --transport http --header "Authorization: ${authorization}" --method tools/list`,
    },
  ];
}

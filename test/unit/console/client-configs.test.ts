import { describe, expect, it } from "vitest";
import { clientConfigs, serverKey } from "../../../src/console/client-configs";

const URL_ = "https://gw.example.com/mcp/g0123456789abcdef0123456789abcdef";
const TOKEN = "mpg_g0123456789abcdef0123456789abcdef_abc-DEF_123";

describe("clientConfigs", () => {
  const configs = Object.fromEntries(clientConfigs("support bot:eu", URL_, TOKEN).map((config) => [config.id, config.text]));

  it("Claude Code: claude mcp add with the bearer header", () => {
    expect(configs["claude-code"]).toBe(`claude mcp add --transport http support-bot-eu ${URL_} \\\n  --header "Authorization: Bearer ${TOKEN}"`);
  });

  it("Cursor: mcpServers with url and headers", () => {
    expect(JSON.parse(configs.cursor!)).toEqual({ mcpServers: { "support-bot-eu": { url: URL_, headers: { Authorization: `Bearer ${TOKEN}` } } } });
  });

  it("VS Code: servers with type http", () => {
    expect(JSON.parse(configs.vscode!)).toEqual({ servers: { "support-bot-eu": { type: "http", url: URL_, headers: { Authorization: `Bearer ${TOKEN}` } } } });
  });

  it("Claude Desktop: mcp-remote with the token in env, not in args", () => {
    const config = JSON.parse(configs["claude-desktop"]!);
    expect(config.mcpServers["support-bot-eu"]).toEqual({
      command: "npx",
      args: ["mcp-remote", URL_, "--header", "Authorization: Bearer ${MPG_TOKEN}"],
      env: { MPG_TOKEN: TOKEN },
    });
  });

  it("Inspector CLI names the transport", () => {
    expect(configs.inspector).toContain(`--cli ${URL_} \\\n  --transport http --header "Authorization: Bearer ${TOKEN}" --method tools/list`);
  });

  it("labels become safe names", () => {
    expect(serverKey("a$(rm -rf)`b`")).toBe("a-rm--rf-b");
    expect(serverKey("::")).toBe("mcp-gateway");
  });
});

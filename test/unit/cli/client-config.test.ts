// The client configs `grants create --client …` prints are the README's shapes ("Point a client at
// a grant"), read from the README itself so the two cannot drift apart.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLIENTS, clientConfig, shellQuote } from "../../../src/cli/client-config";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## Point a client at a grant"), readme.indexOf("## What the gateway guarantees"));
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));

// What the README's examples use.
const endpoint = { name: "my-server", url: "https://gw.example.com/mcp/g0123456789abcdef0123456789abcdef", token: "mpg_g0123456789abcdef0123456789abcdef_…" };

/** POSIX shell words: enough for the README's commands (quotes, line continuations). */
function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.replace(/\\\n\s*/g, " ").matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

describe("clientConfig", () => {
  it("prints the README's command for Claude Code and the Inspector", () => {
    const [claude, inspector] = blocks.filter((b) => b.lang === "sh").map((b) => words(b.text));
    expect(words(clientConfig("claude-code", endpoint).text)).toEqual(claude);
    expect(words(clientConfig("inspector", endpoint).text)).toEqual(inspector);
  });

  it("prints the README's JSON for Cursor, VS Code and Claude Desktop", () => {
    const json = blocks.filter((b) => b.lang === "json").map((b) => JSON.parse(b.text));
    const vscode = json.find((j) => "servers" in j);
    const desktop = json.find((j) => j.mcpServers?.["my-server"]?.command === "npx");
    const cursor = json.find((j) => j.mcpServers?.["my-server"]?.url !== undefined);
    expect(clientConfig("cursor", endpoint).value).toEqual(cursor);
    expect(clientConfig("claude-desktop", endpoint).value).toEqual(desktop);
    expect(clientConfig("vscode", endpoint).value).toEqual(vscode);
    expect(clientConfig("vscode", endpoint).text).not.toContain(endpoint.token);
  });

  it("covers every client the CLI offers, and quotes for the shell", () => {
    for (const client of CLIENTS) expect(clientConfig(client, endpoint).client).toBe(client);
    expect(shellQuote("plain-word_1.2")).toBe("plain-word_1.2");
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});

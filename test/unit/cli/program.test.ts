// The command tree as a whole: every command explains itself with an example, and no option can
// carry a secret on the command line (argv shows in `ps` and shell history).
import { describe, expect, it } from "vitest";
import type { Command } from "commander";
import { cliContext } from "../../../src/cli/context";
import { allCommands, buildProgram, withoutOptionValues } from "../../../src/cli/program";
import { nodeTerminal } from "../../../src/cli/terminal";

function program(): { root: Command; help: (command: Command) => string } {
  let captured = "";
  const terminal = {
    ...nodeTerminal({}, true),
    out: (text: string) => {
      captured += text;
    },
    err: (text: string) => {
      captured += text;
    },
  };
  const root = buildProgram(cliContext(terminal, {}, "0.0.0-test"));
  return {
    root,
    help(command) {
      captured = "";
      try {
        command.outputHelp();
      } catch {
        // exitOverride is not involved in outputHelp; nothing to catch in practice.
      }
      return captured;
    },
  };
}

describe("the command tree", () => {
  const { root, help } = program();
  const commands = allCommands(root).filter((c) => c !== root);
  const path = (c: Command): string => (c.parent && c.parent !== root ? `${path(c.parent)} ${c.name()}` : c.name());

  it("has the commands the docs promise", () => {
    expect(commands.map(path).sort()).toEqual(
      [
        "approvals",
        "approvals approve",
        "approvals list",
        "approvals reject",
        "approvals show",
        "audit",
        "audit export",
        "audit verify",
        "grants",
        "grants create",
        "grants list",
        "grants revoke",
        "grants rm",
        "grants rotate",
        "grants show",
        "grants update",
        "login",
        "logout",
        "policy",
        "policy diff",
        "policy lint",
        "policy list",
        "policy pull",
        "policy push",
        "policy recommend",
        "policy rm",
        "servers",
        "servers add",
        "servers discover",
        "servers list",
        "servers rm",
        "servers show",
        "servers update",
        "tools",
        "tools classify",
        "tools unclassify",
        "verify-audit",
      ].sort(),
    );
  });

  it("gives every runnable command a description and an example in its --help", () => {
    for (const command of commands) {
      expect(command.description(), path(command)).not.toBe("");
      const runnable = (command as unknown as { _actionHandler: unknown })._actionHandler !== null;
      if (runnable) expect(help(command), path(command)).toMatch(/Examples?:\n {2}\$ mpg /);
    }
  });

  it("has no option that takes a token, a secret or a header value", () => {
    // The one key that may be given on the command line is a public one: verify-audit's.
    const publicKey = (command: Command, flags: string) => path(command) === "verify-audit" && flags === "--key <public-key-or-file>";
    for (const command of allCommands(root)) {
      for (const option of command.options) {
        const takesValue = option.required || option.optional;
        if (publicKey(command, option.flags)) continue;
        if (/token|secret|password|key/i.test(option.flags))
          expect({ command: path(command), flags: option.flags, takesValue }).toMatchObject({ takesValue: false });
      }
    }
    const header = root.commands
      .find((c) => c.name() === "servers")!
      .commands.find((c) => c.name() === "add")!
      .options.find((o) => o.long === "--header")!;
    expect(header.description).toContain("prompted");
  });

  it("drops option values from commander's error messages", () => {
    expect(withoutOptionValues("error: unknown option '--token=abc123'")).toBe("error: unknown option '--token=…'");
    expect(withoutOptionValues("error: unknown option '--json'")).toBe("error: unknown option '--json'");
  });
});

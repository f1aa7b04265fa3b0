// The terminal over streams it is given: what bin.ts gets from the process, and what tests (and
// test/e2e/cli.test.ts's in-process runs) give it instead.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../../../src/cli/main";
import { nodeTerminal, type Streams } from "../../../src/cli/terminal";

function streams(input?: string): Streams & { stdout: { text: string }; stderr: { text: string } } {
  const captured = () => ({
    text: "",
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  });
  return { stdin: Readable.from(input === undefined ? [] : [Buffer.from(input)]), stdout: captured(), stderr: captured() };
}

describe("the terminal over given streams", () => {
  it("redacts the protected admin token and grant tokens on both streams, except the token revealed once", () => {
    const io = streams();
    const terminal = nodeTerminal({}, false, io);
    terminal.protect("admin-token-0123456789");
    const grantToken = `mpg_g${"a".repeat(32)}_secretpart`;
    terminal.out(`sent admin-token-0123456789 and ${grantToken}\n`);
    terminal.err(`error: admin-token-0123456789\n`);
    terminal.revealOnce(`${grantToken}\n`);
    expect(io.stdout.text).toBe(`sent [redacted] and [redacted]\n${grantToken}\n`);
    expect(io.stderr.text).toBe("error: [redacted]\n");
  });

  it("hands piped lines to successive prompts in order, and is not interactive on a pipe", async () => {
    const terminal = nodeTerminal({}, false, streams("first\r\nsecond\n"));
    expect(terminal.interactive).toBe(false);
    expect(await terminal.askSecret("a? ")).toBe("first");
    expect(await terminal.ask("b? ")).toBe("second");
    expect(await terminal.ask("c? ")).toBe("");
  });

  it("colours a non-terminal stream only when FORCE_COLOR asks", () => {
    expect(nodeTerminal({}, false, streams()).stdout.enabled).toBe(false);
    expect(nodeTerminal({ FORCE_COLOR: "1" }, false, streams()).stdout.enabled).toBe(true);
    expect(nodeTerminal({ FORCE_COLOR: "1" }, true, streams()).stdout.enabled).toBe(false);
  });
});

describe("main over given streams", () => {
  it("writes only to them and returns the exit code instead of exiting", async () => {
    const usage = streams();
    expect(await main(["frobnicate"], {}, usage)).toBe(2);
    expect(usage.stderr.text).toContain("unknown command 'frobnicate'");
    expect(usage.stdout.text).toBe("");

    const noGateway = streams();
    expect(await main(["servers", "list", "--json"], { MPG_CONFIG_DIR: "/nonexistent-mpg-config" }, noGateway)).toBe(2);
    expect(JSON.parse(noGateway.stderr.text)).toEqual({ error: { code: "usage", message: expect.stringContaining("No gateway configured") } });

    const stdin = streams('{"version":"1","default":"deny"}');
    expect(await main(["policy", "lint", "-", "--json"], {}, stdin)).toBe(0);
    expect(JSON.parse(stdin.stdout.text)).toMatchObject({ ok: true, files: [{ file: "-", ok: true }] });
  });
});

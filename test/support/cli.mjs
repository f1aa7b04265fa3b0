// Runs the CLI as users run it: the esbuild bundle (scripts/build-cli.mjs), as a child process of
// plain `node`, with an environment built from scratch (no MPG_* leaking in from the test runner)
// and its own config directory. Built once per test process, into a temporary directory.
// `runCliInProcess` runs the same command line through `main` inside the test's process, for the
// many checks that need no process of their own.
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buildCli } from "../../scripts/build-cli.mjs";

let built;
/** The path of the CLI bundle, built on first use. */
export function cliBundle() {
  built ??= mkdtemp(join(tmpdir(), "mpg-cli-")).then((dir) => buildCli(join(dir, "cli.mjs")));
  return built;
}

/**
 * Runs `node <bundle> ...args`. `input` is written to stdin (then closed); `env` is added to a
 * minimal environment. Resolves with the exit code and both outputs; `json()` parses stdout.
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, input?: string, cwd?: string, timeoutMs?: number }} [options]
 */
export async function runCli(args, options = {}) {
  const bundle = await cliBundle();
  const child = spawn(process.execPath, [bundle, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...(options.env ?? {}) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const code = await new Promise((resolve) => child.on("close", (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return {
    code,
    stdout,
    stderr,
    json: () => JSON.parse(stdout),
  };
}

/**
 * Runs the command line through `main` (src/cli/main.ts, what the bundle's bin.ts calls) in this
 * process: the same minimal environment as `runCli`, `input` as a piped (non-terminal) stdin, and
 * stdout and stderr captured; `code` is what bin.ts would set as the exit code. A process costs
 * about 0.25 s of CPU and this almost nothing. What only a process shows (the bundle, real pipes,
 * the exit status, signals, the working directory, the version stamped in at build time) is left
 * to `runCli` and `startCli`, so `cwd` is refused here.
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, input?: string }} [options]
 */
export async function runCliInProcess(args, options = {}) {
  if ("cwd" in options) throw new Error("runCliInProcess cannot change the working directory; use runCli");
  const { main } = await import("../../src/cli/main.ts");
  const captured = () => ({
    text: "",
    write(chunk) {
      this.text += chunk;
      return true;
    },
  });
  const stdout = captured();
  const stderr = captured();
  const stdin = Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]);
  const env = { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...(options.env ?? {}) };
  const code = await main(args, env, { stdin, stdout, stderr });
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    json: () => JSON.parse(stdout.text),
  };
}

/**
 * Starts the CLI and leaves it running (for `audit --follow`): resolves once `ready(stdout)` holds.
 * @param {string[]} args
 * @param {{ env?: Record<string, string> }} options
 */
export async function startCli(args, options = {}) {
  const bundle = await cliBundle();
  const child = spawn(process.execPath, [bundle, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...(options.env ?? {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk) => (output.stdout += chunk));
  child.stderr.on("data", (chunk) => (output.stderr += chunk));
  const exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    output,
    exited,
    /** Waits until stdout satisfies `test` (polling), or fails after `timeoutMs`. */
    async waitFor(test, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!test(output.stdout)) {
        if (Date.now() > deadline) throw new Error(`timed out; stdout so far:\n${output.stdout}\nstderr:\n${output.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

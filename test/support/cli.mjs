// Runs the CLI as users run it: the esbuild bundle (scripts/build-cli.mjs), as a child process of
// plain `node`, with an environment built from scratch (no MPG_* leaking in from the test runner)
// and its own config directory. Built once per test process, into a temporary directory.
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

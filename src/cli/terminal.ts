/**
 * The CLI's only contact with the terminal: what it prints (stdout for results, stderr for
 * messages, as gh and kubectl do, so `mpg … --json | jq` sees results only) and what it reads
 * (prompts, hidden secret input, stdin).
 *
 * Secrets: every line written goes through `redact`, which replaces the admin token in use and
 * anything shaped like a grant token with "[redacted]". The one exception is `revealOnce`, used by
 * `grants create` and `grants rotate` for the token the gateway shows once, which is their output.
 */
import type { Readable } from "node:stream";
import type { Environment } from "./context";
import { colourWanted, palette, type Palette } from "./style";

/** `mpg_<grant id>_<secret>` (src/grant/token.ts); matched loosely so a mangled one is caught too. */
const GRANT_TOKEN = /mpg_g[0-9a-f]{8,}_[A-Za-z0-9_-]+/g;
const REDACTED = "[redacted]";

export interface Terminal {
  stdout: Palette;
  stderr: Palette;
  /** Results: tables, JSON, files' text. */
  out(text: string): void;
  /** Messages: progress, warnings, errors. */
  err(text: string): void;
  /** A grant token, the one time the gateway shows it. Never used for anything else. */
  revealOnce(text: string): void;
  /** Never print this secret (the admin token once it is known). */
  protect(secret: string): void;
  redact(text: string): string;
  /** Whether a person can answer a prompt: stdin and stderr are both terminals. */
  interactive: boolean;
  stdinIsTerminal: boolean;
  ask(question: string): Promise<string>;
  /** A line typed without echo. */
  askSecret(question: string): Promise<string>;
  /** All of stdin, for `--token-stdin` and `-` as a file name. */
  readStdin(): Promise<string>;
}

/**
 * The three streams the CLI reads and writes: the process's own (bin.ts), or a test's, which runs
 * `main` in its own process with captured output (test/support/cli.mjs).
 */
export interface Streams {
  stdin: Readable & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  stdout: { isTTY?: boolean; write(text: string): unknown };
  stderr: { isTTY?: boolean; write(text: string): unknown };
}

export const processStreams = (): Streams => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

export function nodeTerminal(env: Environment, noColor: boolean, streams: Streams = processStreams()): Terminal {
  const { stdin, stdout, stderr } = streams;
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text.replace(GRANT_TOKEN, REDACTED);
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  };
  const stdinIsTerminal = stdin.isTTY === true;
  const input = lineReader(streams);
  return {
    stdout: palette(colourWanted(stdout, env, noColor)),
    stderr: palette(colourWanted(stderr, env, noColor)),
    out: (text) => void stdout.write(redact(text)),
    err: (text) => void stderr.write(redact(text)),
    revealOnce: (text) => void stdout.write(text),
    protect: (secret) => {
      // A short "secret" would redact ordinary words; admin tokens are long random strings.
      if (secret.length >= 8) secrets.add(secret);
    },
    redact,
    interactive: stdinIsTerminal && stderr.isTTY === true,
    stdinIsTerminal,
    ask: (question) => input.line(question, false),
    askSecret: (question) => input.line(question, true),
    readStdin: () => readAll(stdin),
  };
}

async function readAll(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Lines from stdin. On a terminal the prompt goes to stderr and, for secrets, raw mode keeps the
 * characters from being echoed. From a pipe the next line is read, so a script can answer with
 * `printf 'value\n' | mpg …` (values on stdin never show in `ps`); piped input is read once and
 * handed out line by line, so several prompts can share one pipe.
 */
function lineReader(streams: Streams): { line(question: string, secret: boolean): Promise<string> } {
  let pipedLines: Promise<string[]> | null = null;
  return {
    async line(question, secret) {
      if (streams.stdin.isTTY === true) return typedLine(streams, question, secret);
      pipedLines ??= readAll(streams.stdin).then((text) => text.split(/\r?\n/));
      return (await pipedLines).shift() ?? "";
    },
  };
}

function typedLine({ stdin, stderr }: Streams, question: string, secret: boolean): Promise<string> {
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      if (secret) stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (data: string | Buffer) => {
      for (const char of String(data)) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003") return finish(new Error("interrupted"));
        if (char === "\u007f" || char === "\b") typed = [...typed].slice(0, -1).join("");
        else if (char >= " ") typed += char;
      }
    };
    if (secret) stdin.setRawMode?.(true);
    stdin.setEncoding("utf8");
    stdin.on("data", onData);
    stdin.resume();
  });
}

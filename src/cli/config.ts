/**
 * The gateways the CLI has logged in to, and which one a command talks to.
 *
 * Storage: one JSON file, `config.json`, in the user's config directory (`$MPG_CONFIG_DIR`, else
 * `$XDG_CONFIG_HOME/mcp-policy-gateway`, else `~/.config/mcp-policy-gateway`; on Windows
 * `%APPDATA%\mcp-policy-gateway`), mode 0600 in a 0700 directory, written to a temporary file and
 * renamed so a crash never leaves half a file. Like gh's hosts file, it keeps one admin token per
 * gateway URL and a `current` one.
 *
 * Resolution: the URL is `--url`, else `MPG_URL`, else the current saved gateway; the token is
 * `MPG_ADMIN_TOKEN`, else the token saved for exactly that URL. A token saved for one gateway is
 * never sent to another: `--gateway https://typo.example` finds no saved token and fails, instead of
 * handing the real gateway's token to whoever runs the typo.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { err, ok, type Result } from "../result";
import { CliFailure, EXIT } from "./failure";

export interface SavedGateway {
  token: string;
  /** ISO time of the login. */
  saved: string;
}

export interface ConfigFile {
  current: string | null;
  gateways: Record<string, SavedGateway>;
}

export interface Connection {
  url: string;
  token: string;
  /** Where the token came from, for messages (never the token itself). */
  tokenSource: "MPG_ADMIN_TOKEN" | "config";
}

type Env = Readonly<Record<string, string | undefined>>;

export function configPath(env: Env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env.MPG_CONFIG_DIR) return join(env.MPG_CONFIG_DIR, "config.json");
  if (platform === "win32") return join(env.APPDATA || join(home, "AppData", "Roaming"), "mcp-policy-gateway", "config.json");
  return join(env.XDG_CONFIG_HOME || join(home, ".config"), "mcp-policy-gateway", "config.json");
}

const emptyConfig = (): ConfigFile => ({ current: null, gateways: {} });

function isConfigFile(value: unknown): value is ConfigFile {
  if (typeof value !== "object" || value === null) return false;
  const { current, gateways } = value as Record<string, unknown>;
  if (current !== null && typeof current !== "string") return false;
  if (typeof gateways !== "object" || gateways === null || Array.isArray(gateways)) return false;
  return Object.values(gateways).every((saved) => typeof saved === "object" && saved !== null && typeof (saved as SavedGateway).token === "string");
}

export interface LoadedConfig {
  config: ConfigFile;
  /** The file is readable by group or others (it holds admin tokens). */
  tooOpen: boolean;
}

export async function readConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { config: emptyConfig(), tooOpen: false };
    throw new CliFailure(EXIT.errors, `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "unknown error"}`, "config_unreadable");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  // The message never quotes the file: it holds tokens.
  if (!isConfigFile(parsed))
    throw new CliFailure(EXIT.errors, `${path} is not a config file this CLI wrote; delete it and run \`mpg login\``, "config_invalid");
  const mode = process.platform === "win32" ? 0 : (await stat(path)).mode;
  return { config: parsed, tooOpen: (mode & 0o077) !== 0 };
}

export async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file; a leftover temporary file keeps its own.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/**
 * The gateway URL as saved and compared: http(s), no credentials, no query or fragment, no trailing
 * slash. Admin routes are appended (`<url>/admin/…`).
 */
export function gatewayUrl(text: string): Result<string, string> {
  if (!URL.canParse(text)) return err(`not a URL: expected https://<your-worker> or http://127.0.0.1:8787`);
  const url = new URL(text);
  if (url.protocol !== "https:" && url.protocol !== "http:") return err("the gateway URL must be http:// or https://");
  if (url.username !== "" || url.password !== "") return err("the gateway URL must not carry credentials");
  if (url.search !== "" || url.hash !== "") return err("the gateway URL must not have a query or fragment");
  return ok(`${url.origin}${url.pathname.replace(/\/+$/, "")}`);
}

/** Whether a URL's host is this machine: plain http is acceptable only there (`wrangler dev`). */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function resolveConnection(env: Env, urlFlag: string | undefined, config: ConfigFile): Result<Connection, string> {
  const raw = urlFlag ?? (env.MPG_URL || undefined) ?? config.current ?? undefined;
  if (raw === undefined) return err("No gateway configured: run `mpg login`, or set MPG_URL and MPG_ADMIN_TOKEN");
  const url = gatewayUrl(raw);
  if (!url.ok) return err(`${urlFlag !== undefined ? "--gateway" : env.MPG_URL ? "MPG_URL" : "The saved gateway"}: ${url.error}`);
  if (env.MPG_ADMIN_TOKEN) return ok({ url: url.value, token: env.MPG_ADMIN_TOKEN, tokenSource: "MPG_ADMIN_TOKEN" });
  const saved = config.gateways[url.value];
  if (saved === undefined) return err(`No admin token for ${url.value}: run \`mpg login --gateway ${url.value}\`, or set MPG_ADMIN_TOKEN`);
  return ok({ url: url.value, token: saved.token, tokenSource: "config" });
}

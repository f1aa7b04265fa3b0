import { mkdtemp, readFile, stat, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configPath, gatewayUrl, isLoopback, readConfig, resolveConnection, writeConfig, type ConfigFile } from "../../../src/cli/config";

describe("configPath", () => {
  it("follows MPG_CONFIG_DIR, then XDG, then ~/.config; APPDATA on Windows", () => {
    expect(configPath({ MPG_CONFIG_DIR: "/c" }, "linux", "/home/u")).toBe("/c/config.json");
    expect(configPath({ XDG_CONFIG_HOME: "/x" }, "linux", "/home/u")).toBe("/x/mcp-policy-gateway/config.json");
    expect(configPath({}, "darwin", "/home/u")).toBe("/home/u/.config/mcp-policy-gateway/config.json");
    expect(configPath({ APPDATA: "/appdata" }, "win32", "/home/u")).toBe(join("/appdata", "mcp-policy-gateway", "config.json"));
  });
});

describe("gatewayUrl", () => {
  it.each([
    ["https://gw.example.com/", "https://gw.example.com"],
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787"],
    ["https://proxy.example.com/gateway//", "https://proxy.example.com/gateway"],
  ])("%s → %s", (raw, url) => expect(gatewayUrl(raw)).toEqual({ ok: true, value: url }));

  it.each(["gw.example.com", "ftp://gw.example.com", "https://user:pass@gw.example.com", "https://gw.example.com/?x=1", "https://gw.example.com/#a"])(
    "refuses %s",
    (raw) => expect(gatewayUrl(raw).ok).toBe(false),
  );

  it("knows loopback hosts", () => {
    expect(isLoopback("http://127.0.0.1:8787")).toBe(true);
    expect(isLoopback("http://localhost")).toBe(true);
    expect(isLoopback("http://gw.example.com")).toBe(false);
  });
});

describe("resolveConnection", () => {
  const saved: ConfigFile = {
    current: "https://gw.example.com",
    gateways: { "https://gw.example.com": { token: "saved-token", saved: "2026-01-01T00:00:00Z" } },
  };

  it("uses the saved login, and MPG_URL / MPG_ADMIN_TOKEN over it", () => {
    expect(resolveConnection({}, undefined, saved)).toEqual({
      ok: true,
      value: { url: "https://gw.example.com", token: "saved-token", tokenSource: "config" },
    });
    expect(resolveConnection({ MPG_URL: "https://ci.example.com", MPG_ADMIN_TOKEN: "ci-token" }, undefined, saved)).toEqual({
      ok: true,
      value: { url: "https://ci.example.com", token: "ci-token", tokenSource: "MPG_ADMIN_TOKEN" },
    });
  });

  it("never sends a saved token to another URL", () => {
    const other = resolveConnection({}, "https://gw.example.co", saved);
    expect(other).toEqual({
      ok: false,
      error: "No admin token for https://gw.example.co: run `mpg login --gateway https://gw.example.co`, or set MPG_ADMIN_TOKEN",
    });
    expect(resolveConnection({ MPG_URL: "https://elsewhere.example.com" }, undefined, saved).ok).toBe(false);
    expect(resolveConnection({}, undefined, { current: null, gateways: {} })).toEqual({ ok: false, error: expect.stringContaining("mpg login") });
  });
});

describe("readConfig and writeConfig", () => {
  it("write mode 0600 in a 0700 directory, read back, and report a file others can read", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "mpg-config-")), "nested");
    const path = join(dir, "config.json");
    expect(await readConfig(path)).toEqual({ config: { current: null, gateways: {} }, tooOpen: false });
    const config: ConfigFile = { current: "https://a", gateways: { "https://a": { token: "t", saved: "now" } } };
    await writeConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readConfig(path)).toEqual({ config, tooOpen: false });
    await chmod(path, 0o644);
    expect((await readConfig(path)).tooOpen).toBe(true);
    await writeConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("refuses a file it did not write, without quoting it", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "mpg-config-")), "config.json");
    await writeFile(path, '{"token":"secret-in-a-bad-file"}');
    await expect(readConfig(path)).rejects.toThrow(/is not a config file this CLI wrote/);
    await expect(readConfig(path)).rejects.not.toThrow(/secret-in-a-bad-file/);
    expect(JSON.parse(await readFile(path, "utf8")).token).toBe("secret-in-a-bad-file");
  });
});

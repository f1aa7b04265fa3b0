// `npm run bench --quick` end to end: every process starts (upstream, passthroughs, floor, peer,
// gateway, wrangler dev), every row answers correctly and completes requests, the 1 MiB large
// results arrive whole, the tables and the PASS/FAIL lines come out, everything is stopped. No
// timing is asserted: this machine's numbers are the benchmark's business, not the test's.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "../support/workerd.mjs";

interface BenchRow {
  key: string;
  label: string;
  concurrency: number;
  summary: { completed: number; failed: number; reqPerSec: number; p50: number; p99: number; workerCpuPerReq: number };
}
interface LargeResultRow {
  key: string;
  label: string;
  mode: "json" | "sse";
  mebibytes: number;
  calls: number;
  broken: string | null;
  ms: number;
  addedPeakMiB: number;
}
interface BenchJson {
  ok: boolean;
  rows: BenchRow[];
  large: LargeResultRow[];
  targets: { name: string; value: string; pass: boolean | null }[];
}

const EXPECTED_ROWS: [key: string, label: string, concurrencies: number[]][] = [
  ["direct", "direct to upstream", [1, 32]],
  ["bare", "bare passthrough", [1, 32]],
  ["bare-list", "bare passthrough, tools/list", [1, 32]],
  ["floor", "floor: passthrough + 1 DO SQLite insert", [1, 32]],
  ["floor-list", "floor, tools/list", [1, 32]],
  ["peer", "peer: @civic/passthrough-mcp-server, allow-list hook", [1, 32]],
  ["allowed", "gateway: allowed, no limits", [1, 32]],
  ["limited", "gateway: allowed, limit never trips", [1, 32]],
  ["denied", "gateway: denied tool", [1, 32]],
  ["listed", "gateway: tools/list filtered", [1, 32]],
  ["wrangler-dev", "wrangler dev: allowed, no limits", [1]],
];

/** Still running: present in /proc and not a zombie (an exited child of a killed parent that init has not reaped yet). */
function isRunning(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function runQuickBench(jsonPath: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "bench/run.mjs"), "--quick", "--json", jsonPath],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, maxBuffer: 16 * 1024 * 1024, timeout: 280_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run bench -- --quick", () => {
  let dir: string;
  let run: { code: number; stdout: string; stderr: string };
  let json: BenchJson;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpg-bench-smoke-"));
    const jsonPath = join(dir, "bench.json");
    run = await runQuickBench(jsonPath);
    json = JSON.parse(await readFile(jsonPath, "utf8").catch(() => "null")) as BenchJson;
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 0", () => {
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  });

  it("prints a table line for every row at every concurrency", () => {
    const lines = run.stdout.split("\n");
    for (const [, label, concurrencies] of EXPECTED_ROWS) {
      for (const c of concurrencies) {
        expect(
          lines.filter((line) => line.startsWith(`| ${label} | ${c} |`)),
          `${label} at c=${c}`,
        ).toHaveLength(1);
      }
    }
  });

  it("completed requests on every row with no non-2xx answers, errors or timeouts", () => {
    expect(json?.ok).toBe(true);
    const found = json.rows.map((r) => `${r.key}@${r.concurrency}`).sort();
    const expected = EXPECTED_ROWS.flatMap(([key, , cs]) => cs.map((c) => `${key}@${c}`)).sort();
    expect(found).toEqual(expected);
    for (const row of json.rows) {
      expect(row.summary.completed, row.label).toBeGreaterThan(0);
      expect(row.summary.failed, row.label).toBe(0);
      expect(Number.isFinite(row.summary.p50), row.label).toBe(true);
    }
  });

  it("measures a 1 MiB large result, JSON and SSE, direct, through the passthrough and the gateway, whole", () => {
    const found = json.large.map((r) => `${r.key}@${r.mebibytes}`).sort();
    const expected = ["direct", "bare", "gateway"].flatMap((path) => ["json", "sse"].map((mode) => `${path}-${mode}@1`)).sort();
    expect(found).toEqual(expected);
    for (const row of json.large) {
      expect(row.broken, `${row.key}`).toBeNull();
      expect(row.calls, row.key).toBe(1);
      expect(Number.isFinite(row.ms) && row.ms > 0, row.key).toBe(true);
      // Memory is watched on the proxies only.
      expect(Number.isFinite(row.addedPeakMiB), row.key).toBe(!row.key.startsWith("direct"));
    }
    const lines = run.stdout.split("\n");
    for (const mode of ["JSON", "SSE"]) {
      for (const label of ["direct to upstream", "bare passthrough", "gateway: allowed, limit never trips"]) {
        expect(
          lines.filter((line) => line.startsWith(`| 1 MiB | ${mode} | ${label} | `)),
          `${mode} ${label}`,
        ).toHaveLength(1);
      }
    }
  });

  it("prints a PASS, FAIL or SKIP line for each target: the floor and peer targets checked, the 32 MiB ones skipped", () => {
    expect(json.targets).toHaveLength(11);
    for (const target of json.targets) {
      const verdict = target.pass === null ? "SKIP" : target.pass ? "PASS" : "FAIL";
      expect(run.stdout).toContain(`${verdict}  ${target.name}: ${target.value}  (`);
      expect(target.pass === null, target.name).toBe(target.name.includes("32 MiB"));
    }
  });

  it("stops every process it started", () => {
    // bench/run.mjs names each process it starts on stderr: "(pid N)", "(workerd pid N)", "(pids N, M)".
    const pids = [...run.stderr.matchAll(/\((?:workerd )?pids? ([\d, ]+)\)/g)].flatMap((m) => m[1]!.split(", ").map(Number));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(run.stderr).not.toMatch(/^cleanup:/m);
  });
});

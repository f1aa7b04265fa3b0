// The benchmark's verdicts: a large result counts only when it arrived whole, and each target says
// PASS, FAIL or (rows not measured) SKIP from the numbers it is given. Plain data, no processes.
import { describe, expect, test } from "vitest";
import { largeAnswerProblem } from "../../../bench/large-results.mjs";
import { largeText } from "../../../bench/large-result-tool.mjs";
import { checkTargets } from "../../../bench/stats.mjs";

type Answer = { status: number; contentType: string; body: Buffer };

const resultJson = (text: string) => JSON.stringify({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text }] } });
const json = (body: string, status = 200): Answer => ({ status, contentType: "application/json", body: Buffer.from(body) });
const sse = (body: string): Answer => ({ status: 200, contentType: "text/event-stream", body: Buffer.from(`event: message\ndata: ${body}\n\n`) });

describe("largeAnswerProblem", () => {
  const whole = largeText(1);

  test.each<[string, Answer, RegExp | null]>([
    ["a whole JSON answer", json(resultJson(whole)), null],
    ["a whole SSE answer", sse(resultJson(whole)), null],
    ["200 with an empty body", json(""), /empty body/],
    ["200 with an empty SSE body", { status: 200, contentType: "text/event-stream", body: Buffer.alloc(0) }, /empty body/],
    ["a body cut short", json(resultJson(whole).slice(0, 500_000)), /unparseable/],
    ["a shorter text", json(resultJson(whole.slice(1))), /1,048,575 characters, expected 1,048,576/],
    ["the same length, other text", json(resultJson(`x${whole.slice(1)}`)), /differs/],
    ["a JSON-RPC error", json(JSON.stringify({ jsonrpc: "2.0", id: 7, error: { code: -32603, message: "too large" } })), /-32603/],
    ["a non-200 status", json(resultJson(whole), 502), /HTTP 502/],
    ["an SSE stream with no event", { status: 200, contentType: "text/event-stream", body: Buffer.from(": keep-alive\n\n") }, /no text result/],
  ])("%s", (_name, answer, problem) => {
    const found = largeAnswerProblem(answer, 1);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

describe("checkTargets", () => {
  const summary = (reqPerSec: number, p50: number, workerCpuPerReq: number) => ({ reqPerSec, p50, workerCpuPerReq });
  const large = (key: string, ms: number, addedPeakMiB: number, broken: string | null = null) => ({ key, mebibytes: 32, ms, addedPeakMiB, broken });
  const verdicts = (targets: { name: string; pass: boolean | null }[]) => Object.fromEntries(targets.map((t) => [t.name, t.pass]));

  test("each target against its own numbers", () => {
    const targets = checkTargets({
      limited1: summary(300, 2.2, 1000),
      limited32: summary(900, 30, 1150),
      floor1: summary(330, 2.0, 900),
      floor32: summary(1000, 28, 1000),
      peer1: summary(310, 2.3, 3000),
      peer32: summary(950, 29, 2500),
      large: [large("gateway-json", 1300, 7.9), large("direct-json", 1000, Number.NaN), large("gateway-sse", 1400, 2), large("direct-sse", 1000, Number.NaN)],
    });
    expect(verdicts(targets)).toEqual({
      "workerd CPU per call at c=32 <= 1.15x the floor": true, // 1.15x
      "throughput at c=32 >= 0.9x the floor": true, // 0.90x
      "p50 at c=1 <= the floor + 0.3 ms": true, // +0.2 ms
      "throughput at c=1 ahead of the peer": false, // 0.97x
      "p50 at c=1 ahead of the peer": true, // -0.1 ms
      "throughput at c=32 ahead of the peer": false, // 0.95x
      "p50 at c=32 ahead of the peer": false, // +1 ms
      "time of a 32 MiB JSON result <= 1.3x direct": true, // 1.30x
      "time of a 32 MiB SSE result <= 1.3x direct": false, // 1.40x
      "added peak memory for a 32 MiB JSON result < 8 MiB": true,
      "added peak memory for a 32 MiB SSE result < 8 MiB": true,
    });
    expect(targets.find((t) => t.name === "throughput at c=32 ahead of the peer")?.value).toBe("0.95x the peer's (5% behind)");
    expect(targets.find((t) => t.name === "p50 at c=32 ahead of the peer")?.value).toBe("+1.00 ms vs the peer's 29.00 ms (1.00 ms behind)");
  });

  test("a value that rounds onto its bound is printed with the digit that decides", () => {
    const targets = checkTargets({ limited32: summary(900, 30, 1151), floor32: summary(1000, 28, 1000), large: [] });
    const cpu = targets.find((t) => t.name === "workerd CPU per call at c=32 <= 1.15x the floor");
    expect(cpu).toMatchObject({ value: "1.151x", pass: false });
  });

  test("a broken large result fails its time and memory targets whatever its numbers", () => {
    const targets = checkTargets({ large: [large("gateway-sse", 10, 0.5, "HTTP 200 with an empty body"), large("direct-sse", 1000, Number.NaN)] });
    const sseTargets = targets.filter((t) => t.name.includes("SSE"));
    expect(sseTargets.map((t) => t.pass)).toEqual([false, false]);
    for (const t of sseTargets) expect(t.value).toContain("broken: HTTP 200 with an empty body");
  });

  test("targets whose rows were not measured are skipped, not passed", () => {
    const targets = checkTargets({ large: [] });
    expect(targets).toHaveLength(11);
    expect(targets.every((t) => t.pass === null && t.value === "not measured")).toBe(true);
  });
});

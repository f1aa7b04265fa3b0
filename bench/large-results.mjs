// The large-result rows: one tools/call whose result is N MiB of text, as application/json and as
// one SSE event, timed end to end (request sent to last byte received) direct to the upstream and
// through each proxy, with the added peak memory of the proxy's process. Every answer is checked
// whole after the clock stops (status, parse, the text's exact size and content), so a proxy that
// answers fast with an empty or cut body is reported broken, never fast.
import { request } from "node:http";
import { largeText, LARGE_RESULT_TOOL } from "./large-result-tool.mjs";
import { mcpHeaders, parseMcpAnswer, requestBody } from "./paths.mjs";
import { addedPeakResident } from "./processes.mjs";
import { median } from "./stats.mjs";

export const LARGE_RESULT_MODES = ["json", "sse"];
const CALL_TIMEOUT_MS = 120_000;

/** One POST over a fresh connection; the whole answer as bytes and the time until its last byte. */
function timedPost(url, headers, body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(url, { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) }, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          status: res.statusCode,
          contentType: res.headers["content-type"] ?? "",
          body: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(CALL_TIMEOUT_MS, () => req.destroy(new Error(`no complete answer within ${CALL_TIMEOUT_MS / 1000} s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** What is wrong with the answer to a `mebibytes` MiB large_result call, or null if it is whole. */
export function largeAnswerProblem(answer, mebibytes) {
  const size = `${answer.body.length.toLocaleString("en-US")} bytes`;
  if (answer.status !== 200) return `HTTP ${answer.status} (${size})`;
  if (answer.body.length === 0) return "HTTP 200 with an empty body";
  let message;
  try {
    message = parseMcpAnswer(answer.contentType, answer.body.toString("utf8"));
  } catch {
    return `unparseable ${answer.contentType || "answer"} of ${size}`;
  }
  if (message?.error) return `JSON-RPC error ${message.error.code}: ${String(message.error.message).slice(0, 100)}`;
  const text = message?.result?.content?.[0]?.text;
  const expected = largeText(mebibytes);
  if (typeof text !== "string") return `no text result in ${size}`;
  if (text.length !== expected.length) return `text of ${text.length.toLocaleString("en-US")} characters, expected ${expected.length.toLocaleString("en-US")}`;
  if (text !== expected) return "text differs from the upstream's";
  return null;
}

/** One call: its time, the proxy's added peak memory (if a pid is given) and what was wrong with it. */
async function oneCall(target, mebibytes) {
  const body = requestBody({ method: "tools/call", params: { name: LARGE_RESULT_TOOL, arguments: { mebibytes } } });
  const call = () => timedPost(target.url, mcpHeaders(target.token), body);
  try {
    const {
      value: answer,
      addedKiB,
      exact,
    } = target.memoryPid ? await addedPeakResident(target.memoryPid, call) : { value: await call(), addedKiB: null, exact: null };
    return { ms: answer.ms, addedKiB, exactMemory: exact, contentType: answer.contentType, problem: largeAnswerProblem(answer, mebibytes) };
  } catch (error) {
    return { ms: Number.NaN, addedKiB: null, exactMemory: null, contentType: "", problem: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Every size × mode × target, `repetitions` times, targets interleaved within a repetition.
 * A cell is the median time over the repetitions and the largest added peak memory; a cell with any
 * wrong answer is broken and has no time.
 * @param {{ targets: Array<{ key: string, label: string, mode: "json" | "sse", url: string, token: string | null, memoryPid: number | null }>,
 *           sizes: number[], repetitions: number, log: (line: string) => void }} plan
 */
export async function measureLargeResults({ targets, sizes, repetitions, log }) {
  const calls = new Map();
  for (const mebibytes of sizes) {
    for (const mode of LARGE_RESULT_MODES) {
      log(`large results: ${mebibytes} MiB, ${mode}`);
      for (let rep = 0; rep < repetitions; rep++) {
        for (const target of targets.filter((t) => t.mode === mode)) {
          const id = `${target.key}@${mebibytes}`;
          calls.set(id, [...(calls.get(id) ?? []), await oneCall(target, mebibytes)]);
        }
      }
    }
  }
  return sizes.flatMap((mebibytes) =>
    targets.map((target) => {
      const done = calls.get(`${target.key}@${mebibytes}`) ?? [];
      const problem = done.find((c) => c.problem !== null)?.problem ?? null;
      const memory = done.map((c) => c.addedKiB).filter((k) => k !== null);
      return {
        key: target.key,
        label: target.label,
        mode: target.mode,
        baseline: target.baseline,
        mebibytes,
        calls: done.length,
        broken: problem,
        contentType: done[0]?.contentType ?? "",
        ms: problem === null ? median(done.map((c) => c.ms)) : Number.NaN,
        addedPeakMiB: memory.length > 0 ? Math.max(...memory) / 1024 : Number.NaN,
        exactMemory: done.every((c) => c.exactMemory !== false),
      };
    }),
  );
}

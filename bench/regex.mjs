// `node bench/regex.mjs`: the worst cost of `regex` conditions that a policy may hold, on inputs of
// MAX_MATCHED_LENGTH characters built to be as slow as possible for each pattern. Prints a Markdown
// table; docs/policy.md ("Regular expressions", "Cost limits") quotes it.
//
//   node bench/regex.mjs            5 runs per row (median and max of CPU time)
//   options: --runs N
//
// It runs src/policy/pattern.ts and schema.ts themselves (bundled with esbuild, which wrangler
// brings), in Node: workerd runs the same V8. Each row compiles a fresh pattern, as a grant's
// Durable Object does after it loads a policy, so the lazy DFA starts empty. The "re2js defaults"
// column is the same pattern in plain re2js (8 MiB DFA), for comparison. Times are CPU time of this
// process (user + system), less disturbed by other work on the machine than wall time, not immune.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { RE2JS } from "re2js";
import { root } from "../test/support/workerd.mjs";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(args.runs);

const dir = mkdtempSync(join(tmpdir(), "bench-regex-"));
const out = join(dir, "policy.mjs");
await build({
  stdin: {
    contents: 'export * from "./src/policy/pattern.ts"; export { parsePolicy } from "./src/policy/schema.ts";',
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: out,
  logLevel: "error",
});
const policy = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });
const { compilePattern, dfaUse, parsePolicy, DFA_MEMORY, MAX_MATCHED_LENGTH: N, MAX_PATTERN_SIZE, MAX_POLICY_PATTERNS, MAX_TOOL_PATTERN_SIZE } = policy;

// Deterministic pseudo-random inputs.
let seed = 12345;
const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
const randomOf = (alphabet, n) => Array.from({ length: n }, () => alphabet[next() % alphabet.length]).join("");
const sqlText = randomOf([..."SELECT * FROM t WHERE a = 1 AND b LIKE 'x%' ORDER BY c;\n"], N);

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function measure(run) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = cpuMs();
    run();
    times.push(cpuMs() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)], max: times[runs - 1] };
}

/** The largest k for which `patternOf(k)` compiles to at most MAX_PATTERN_SIZE instructions. */
function largest(patternOf) {
  let k = 1;
  while (RE2JS.compile(patternOf(k + 1)).programSize() <= MAX_PATTERN_SIZE) k++;
  return k;
}

/** [what, pattern, input]: each input is the slowest we found for its pattern, MAX_MATCHED_LENGTH long. */
const rows = [
  ["ordinary: SQL keywords", "(?i)\\b(drop|delete|truncate|alter|grant|revoke)\\s+(table|database|user)\\b", sqlText],
  ["ordinary: DROP\\s+TABLE", "DROP\\s+TABLE", sqlText],
  ["ordinary: printable only", "^[\\x20-\\x7e\\n]*$", sqlText],
];
// A new DFA state for nearly every character: the lazy DFA fills its budget, starts over, gives up.
const thrash = (k) => `c[abc]{${k}}[ab]$`;
for (const k of [30, 120, largest(thrash)]) rows.push(["DFA thrash", thrash(k), `${randomOf("abc", N - 1)}c`]);
// Thrash and, at the same time, k live NFA threads once the DFA has given up.
const both = (k) => `(?:(?:.*x){${k}}|c[abc]{${k}}[ab]$)`;
for (const k of [20, largest(both)]) rows.push(["DFA thrash + NFA threads", both(k), `${"x".repeat(k - 1)}${randomOf("abc", N - k)}c`]);
const counted = (k) => `(?:.*x){${k}}`;
const c = largest(counted);
rows.push(["counted repetition", counted(c), `${"x".repeat(c - 1)}${"a".repeat(N - c + 1)}`]);
const words = (k) => `(\\b.*x){${k}}`;
rows.push(["word boundaries", words(largest(words)), `${"x".repeat(40)}${randomOf("a ", N - 41)}c`]);
// Refused now, for scale: the example that prompted the size limit.
const refused = [["refused: (.*a){1000}", "(.*a){1000}", `${"a".repeat(999)}${"b".repeat(N - 999)}`]];

const lines = [];
const print = (line) => {
  lines.push(line);
  console.log(line);
};
print(
  `- node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} CPUs, load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")}`,
);
print(
  `- input: ${N} characters; limits: ${MAX_PATTERN_SIZE} instructions per pattern, ${MAX_TOOL_PATTERN_SIZE} per tool, ${MAX_POLICY_PATTERNS} patterns per policy; DFA ${DFA_MEMORY / 1024} KiB; ${runs} runs per row`,
);
print("");
print("| pattern | size | CPU ms, median | CPU ms, max | DFA KiB kept | re2js defaults: CPU ms, median |");
print("|---|--:|--:|--:|--:|--:|");
for (const [what, source, input] of [...rows, ...refused]) {
  if (input.length !== N && input.length !== N - 1) throw new Error(`${what}: input of ${input.length}`);
  const compiled = compilePattern(source);
  const plain = () => RE2JS.compile(source);
  const size = compiled.ok ? compiled.value.size : plain().programSize();
  const ours = compiled.ok ? measure(() => compilePattern(source).value.test(input)) : null;
  const kept = compiled.ok ? dfaUse(source, input).used / 1024 : null;
  const defaults = measure(() => plain().test(input));
  const cell = (n) => (n === null ? "refused" : n.toFixed(0));
  print(`| ${what}: \`${source}\` | ${size} | ${cell(ours?.median ?? null)} | ${cell(ours?.max ?? null)} | ${cell(kept)} | ${cell(defaults.median)} |`);
}

// Parsing: every pattern compiles whenever a policy is parsed (saved, or loaded by a grant).
// `.{n}` is n + 2 instructions; a three-digit suffix keeps the patterns distinct.
const widest = `.{${MAX_PATTERN_SIZE - 5}}`;
const perTool = Math.floor(MAX_TOOL_PATTERN_SIZE / MAX_PATTERN_SIZE);
const tools = {};
for (let i = 0; i < MAX_POLICY_PATTERNS / perTool; i++) {
  tools[`tool${i}`] = {
    deny_if: [
      {
        conditions: Array.from({ length: perTool }, (_, j) => ({ path: "args.q", op: "regex", value: `${widest}${String(i * perTool + j).padStart(3, "0")}` })),
        on_deny: "no",
      },
    ],
  };
}
const document = { version: "1", default: "deny", tools };
const parse = measure(() => {
  const parsed = parsePolicy(document);
  if (!parsed.ok) throw new Error("the largest policy should parse");
});
print("");
print(
  `- parsing the largest policy (${MAX_POLICY_PATTERNS} patterns of ${MAX_PATTERN_SIZE} instructions): CPU ms median ${parse.median.toFixed(0)}, max ${parse.max.toFixed(0)}`,
);
print(
  `- load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")}`,
);

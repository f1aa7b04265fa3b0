// workerd writes a log line (and a line of stack addresses) for network events that end-to-end
// tests cause on purpose: an upstream that is down, an agent that hangs up on an SSE stream
// ("Broken pipe"). Even a fetch rejection the code catches is logged as "uncaught" by workerd.
// Miniflare's `handleRuntimeStdio` below drops exactly those lines, so that a real error stands
// out in test output; everything else passes through.
const BENIGN = [/Network connection lost/, /connect\(\): Connection refused/, /DNS lookup failed/, /Broken pipe/, /Connection reset by peer/];

/** A predicate over lines, in order: false for a benign network line and the stack line that follows it. */
export function runtimeNoiseFilter() {
  let dropped = false;
  return (line) => {
    if (/^\s*stack: \S*workerd@/.test(line)) return !dropped;
    dropped = BENIGN.some((pattern) => pattern.test(line));
    return !dropped;
  };
}

/** Miniflare's `handleRuntimeStdio`: workerd's stdout and stderr, with the benign lines dropped. */
export function quietRuntimeStdio(stdout, stderr) {
  for (const [stream, out] of [
    [stdout, process.stdout],
    [stderr, process.stderr],
  ]) {
    const keep = runtimeNoiseFilter();
    let rest = "";
    stream.on("data", (chunk) => {
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      const kept = lines.filter(keep);
      if (kept.length > 0) out.write(`${kept.join("\n")}\n`);
    });
  }
}

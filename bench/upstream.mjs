// The benchmark's upstream, in its own Node process so that its CPU can be read apart from the
// load generator's: the SDK McpServer with the demo tools (echo) and `large_result`, stateless, on
// two ports: one answering application/json (every load row) and one answering each request with
// one SSE event (the large-result rows in SSE mode).
// Prints one JSON line { url, sseUrl, pid } when listening; exits when its parent closes stdin, so
// it never outlives the benchmark even if the benchmark is killed.
import { registerDemoTools, startSdkServer } from "../test/support/upstreams.mjs";
import { registerLargeResultTool } from "./large-result-tool.mjs";

const register = (server) => {
  registerDemoTools(server);
  registerLargeResultTool(server);
};
const json = await startSdkServer({ json: true, register });
const sse = await startSdkServer({ json: false, register });
// The recorder keeps every message for tests; a benchmark would grow it without bound.
setInterval(() => {
  for (const upstream of [json, sse]) {
    upstream.received.length = 0;
    upstream.requests.length = 0;
  }
}, 1000).unref();
process.stdout.write(`${JSON.stringify({ url: json.url, sseUrl: sse.url, pid: process.pid })}\n`);

async function stop() {
  await Promise.all([json.close(), sse.close()]);
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);

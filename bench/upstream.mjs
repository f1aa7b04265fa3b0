// The benchmark's upstream, in its own Node process so that its CPU can be read apart from the
// load generator's: the SDK McpServer with the demo tools (echo), stateless, JSON responses.
// Prints one JSON line { url, pid } when listening; exits when its parent closes stdin, so it
// never outlives the benchmark even if the benchmark is killed.
import { startSdkServer } from "../test/support/upstreams.mjs";

const upstream = await startSdkServer({ json: true });
// The recorder keeps every message for tests; a benchmark would grow it without bound.
setInterval(() => {
  upstream.received.length = 0;
  upstream.requests.length = 0;
}, 1000).unref();
process.stdout.write(`${JSON.stringify({ url: upstream.url, pid: process.pid })}\n`);

async function stop() {
  await upstream.close();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);

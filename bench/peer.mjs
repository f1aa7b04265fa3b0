// The peer row's proxy: @civic/passthrough-mcp-server, an MCP proxy with policy hooks that users
// might pick instead of the gateway, built through its programmatic API with one local hook that
// allows the listed tools and answers any other tools/call itself. Its own Node process, so its CPU
// is read from /proc like the workerd processes'. Started by bench/stack.mjs with
// `node --require test/support/loopback-preload.cjs` (the proxy listens on every interface unless
// pinned) and stdout discarded (its logger prints a debug line per request to stdout, as it does
// for users; discarding keeps that cost without filling a pipe).
//
//   node bench/peer.mjs <upstream MCP URL> <port> <allowed tool>...
//
// Sends { url, pid } over the IPC channel when listening; exits when its parent closes stdin.
import { AbstractHook, createPassthroughProxy } from "@civic/passthrough-mcp-server";

class AllowListHook extends AbstractHook {
  #allowed;

  constructor(allowed) {
    super();
    this.#allowed = new Set(allowed);
  }

  get name() {
    return "bench-allow-list";
  }

  async processCallToolRequest(request, requestExtra) {
    if (this.#allowed.has(request.params.name)) return super.processCallToolRequest(request, requestExtra);
    return { resultType: "respond", response: { isError: true, content: [{ type: "text", text: `Tool ${request.params.name} is not allowed` }] } };
  }
}

const [upstreamUrl, port, ...allowed] = process.argv.slice(2);
const upstream = new URL(upstreamUrl);
const proxy = await createPassthroughProxy({
  source: { transportType: "httpStream", port: Number(port) },
  target: { transportType: "httpStream", url: upstream.origin, mcpPath: upstream.pathname },
  hooks: [new AllowListHook(allowed)],
});
process.send({ url: `http://127.0.0.1:${port}/mcp`, pid: process.pid });

async function stop() {
  await proxy.stop().catch(() => {});
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);

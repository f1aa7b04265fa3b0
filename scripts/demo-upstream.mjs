// The demo upstream MCP server for `npm run dev`: an SDK McpServer (stateful sessions, SSE) on
// 127.0.0.1 with harmless tools named like the ones policies guard (echo, create_refund, ...).
import { startSdkServer } from "../test/support/upstreams.mjs";

const port = Number(process.env.DEMO_UPSTREAM_PORT ?? 8788);
const upstream = await startSdkServer({ port, stateful: true, json: false });
console.log(`demo upstream MCP server on ${upstream.url}`);
// Nothing to flush: the demo keeps no state worth a graceful close.
const stop = () => process.exit(0);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

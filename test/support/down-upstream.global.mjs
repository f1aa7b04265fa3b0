// Global setup of the workers test project. Tests there register servers whose upstream is never
// meant to answer; pointed at a closed port, each discovery would make workerd log a connection
// failure (it logs even a fetch rejection the code catches). Instead they point at this small
// HTTP server on 127.0.0.1, which answers every request 503 at once: the upstream is "down"
// without a failed connection, and the test output stays clean.
import { createServer } from "node:http";

export default async function setup({ provide }) {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(503, { "content-type": "text/plain" }).end("down for tests"));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  provide("downUpstream", `http://127.0.0.1:${server.address().port}/mcp`);
  return () => new Promise((resolve) => server.close(() => resolve()));
}

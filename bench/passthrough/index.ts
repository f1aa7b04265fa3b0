/**
 * The bare passthrough the gateway is measured against: receive the request, send the same method,
 * headers and body to the upstream, stream the upstream's answer back. No parsing, no policy, no
 * Durable Object, so the difference between this row and a gateway row is what the policy costs.
 */
import { Hono } from "hono";

interface PassthroughBindings {
  UPSTREAM_URL: string;
}

// The host is the passthrough's own; fetch() sets the upstream's from the URL.
const NOT_FORWARDED = ["host"];

const app = new Hono<{ Bindings: PassthroughBindings }>();

app.all("*", async function forwardToUpstream(c) {
  const incoming = c.req.raw;
  const headers = new Headers(incoming.headers);
  for (const name of NOT_FORWARDED) headers.delete(name);
  const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
  const upstream = await fetch(c.env.UPSTREAM_URL, {
    method: incoming.method,
    headers,
    body: hasBody ? incoming.body : null,
    signal: incoming.signal,
  });
  return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
});

export default app;

/**
 * The floor the gateway is measured against: the bare passthrough (../passthrough/index.ts) plus
 * the least any design can pay for "a durable decision record before forwarding": one RPC per
 * request to a SQLite-backed Durable Object that does one INSERT of a ~300-byte row and returns.
 * The RPC's answer leaves the object only once that write is durable (the output gate), so the
 * request is forwarded after the record exists, as in the gateway. No parsing, no policy, no
 * counters, no hash chain.
 */
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

interface FloorBindings {
  UPSTREAM_URL: string;
  DECISIONS: DurableObjectNamespace<DecisionLog>;
}

// One object for every request, as the gateway's benchmark rows use one grant (one object) each.
const OBJECT_NAME = "bench";
const RECORD_BYTES = 300;
const NOT_FORWARDED = ["host"];

export class DecisionLog extends DurableObject {
  #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.#sql = ctx.storage.sql;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS decision (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)");
  }

  async record(record: string): Promise<void> {
    this.#sql.exec("INSERT INTO decision (record) VALUES (?)", record);
  }
}

/** A ~300-byte record that differs per request, as a real decision record would. */
function decisionRecord(method: string): string {
  const head = JSON.stringify({ at: Date.now(), request: crypto.randomUUID(), method, outcome: "forward", pad: "" });
  return head.replace('"pad":""', `"pad":"${"x".repeat(Math.max(0, RECORD_BYTES - head.length))}"`);
}

const app = new Hono<{ Bindings: FloorBindings }>();

app.all("*", async function recordThenForward(c) {
  const incoming = c.req.raw;
  const log = c.env.DECISIONS.get(c.env.DECISIONS.idFromName(OBJECT_NAME));
  await log.record(decisionRecord(incoming.method));
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

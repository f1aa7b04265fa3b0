// Fail closed: when the grant's Durable Object cannot answer, nothing is forwarded. The broken
// binding stands in for a storage outage; the gateway code under test is the real one, in workerd.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../../src/app";
import { newGrantId } from "../../../src/grant/token";

// A real grant id under the test environment's GRANT_ID_SECRET, so the request reaches the object.
const grantId = newGrantId(env.GRANT_ID_SECRET!);
const token = `mpg_${grantId}_${"A".repeat(43)}`;

function brokenGrants(failure: () => Promise<never>): DurableObjectNamespace {
  const stub = { gate: failure, settle: failure, bindSession: failure };
  return { idFromName: (name: string) => env.GRANTS.idFromName(name), get: () => stub } as unknown as DurableObjectNamespace;
}

async function post(body: unknown, grants: DurableObjectNamespace, vars: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`https://gw.test/mcp/${grantId}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(body),
    }),
    { ...env, ...vars, GRANTS: grants },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("when the grant's Durable Object fails", () => {
  const throwing = brokenGrants(() => Promise.reject(new Error("storage unavailable")));

  it("denies a tools/call with a clear message instead of forwarding it", async () => {
    const response = await post({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "echo", arguments: { message: "x" } } }, throwing);
    expect(response.status).toBe(200);
    const body: any = await response.json();
    expect(body.id).toBe(7);
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0].text).toMatch(/^\[POLICY DENIED\] The policy service is unavailable/);
    expect(body.result._meta["io.mcp-policy-gateway/decision"].code).toBe("unavailable");
  });

  it("answers other requests with a JSON-RPC error and 503", async () => {
    const response = await post({ jsonrpc: "2.0", id: 8, method: "tools/list" }, throwing);
    expect(response.status).toBe(503);
    const body: any = await response.json();
    expect(body.error.code).toBe(-32005);
    expect(body.id).toBe(8);
  });
});

describe("when the grant's Durable Object does not answer in time", () => {
  const hanging = brokenGrants(() => new Promise<never>(() => {}));

  it("denies after GATE_TIMEOUT_MS instead of forwarding or waiting forever", async () => {
    const started = Date.now();
    const response = await post({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "echo", arguments: {} } }, hanging, { GATE_TIMEOUT_MS: "50" });
    const body: any = await response.json();
    expect(body.result.content[0].text).toMatch(/^\[POLICY DENIED\] The policy service is unavailable/);
    expect(body.result._meta["io.mcp-policy-gateway/decision"].code).toBe("unavailable");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("failing closed is logged, without secrets", () => {
  it("one JSON line naming the grant, the request and the code; never the token or an argument", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    try {
      await post(
        { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "echo", arguments: { secret: "zebra-7731" } } },
        brokenGrants(() => Promise.reject(new Error("x"))),
      );
    } finally {
      spy.mockRestore();
    }
    const events = lines.map((line) => JSON.parse(line));
    expect(events).toEqual([
      { event: "fail_closed", kind: "policy_unavailable", code: -32005, grant: grantId, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    ]);
    expect(lines.join("\n")).not.toContain(token.slice(-43));
    expect(lines.join("\n")).not.toContain("zebra-7731");
  });
});

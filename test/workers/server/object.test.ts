import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LimitRequest } from "../../../src/policy/evaluate";
import { ServerObject } from "../../../src/server/object";

const limit = (max: number, windowSeconds = 60): LimitRequest => ({
  rule: "/tools/run/limits/0",
  counter: "runs",
  windowSeconds,
  max,
  cost: 1,
  scope: "server",
});
const stubFor = (name: string) => env.SERVERS.get(env.SERVERS.idFromName(`${name}-${crypto.randomUUID()}`));

describe("server-wide counters", () => {
  it("are exact across the object's restarts: a new instance rebuilds them from storage", async () => {
    const stub = stubFor("evict");
    for (let i = 0; i < 3; i++) expect(await stub.reserveServerLimits(`r${i}`, [[limit(3)]])).toEqual({ ok: true });
    await runInDurableObject(stub, async (_instance: ServerObject, state: DurableObjectState) => {
      const fresh = new ServerObject(state, env);
      expect(await fresh.reserveServerLimits("r3", [[limit(3)]])).toMatchObject({
        ok: false,
        index: 0,
        rule: "/tools/run/limits/0",
        retryAfter: expect.any(Number),
      });
      await fresh.releaseServerLimits("r1");
      const again = new ServerObject(state, env);
      expect(await again.reserveServerLimits("r4", [[limit(3)]])).toEqual({ ok: true });
      expect(await again.reserveServerLimits("r5", [[limit(3)]])).toMatchObject({ ok: false });
    });
  });

  it("reserve a batch all or nothing: a refused message leaves nothing counted", async () => {
    const stub = stubFor("batch");
    expect(await stub.reserveServerLimits("a", [[limit(2)]])).toEqual({ ok: true });
    // Two more messages in one request: the second does not fit, so neither is counted.
    expect(await stub.reserveServerLimits("b", [[limit(2)], [limit(2)]])).toMatchObject({ ok: false, index: 1 });
    expect(await stub.reserveServerLimits("c", [[limit(2)]])).toEqual({ ok: true });
    expect(await stub.reserveServerLimits("d", [[limit(2)]])).toMatchObject({ ok: false, index: 0 });
  });

  it("50 concurrent reservations against max 10: exactly 10 succeed", async () => {
    const stub = stubFor("concurrent");
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => stub.reserveServerLimits(`c${i}`, [[limit(10)]])));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
  });
});

describe("policy versions", () => {
  it("are allocated once each, even for concurrent saves, and never below the floor", async () => {
    const stub = stubFor("versions");
    const versions = await Promise.all(Array.from({ length: 20 }, () => stub.allocatePolicyVersion("p", 4)));
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
  });
});

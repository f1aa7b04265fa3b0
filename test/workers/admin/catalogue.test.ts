// Catalogue routes inside workerd, against an upstream that is down (it answers 503 to everything):
// the save still succeeds, the failure is recorded, and the records go with the server. Discovery
// against real upstreams is in test/e2e/catalogue.test.ts.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { catalogueKey, toolOverridesKey } from "../../../src/store/keys";
import { admin, DOWN_UPSTREAM, downUpstream, uniqueServerId } from "./admin-client";

const DOWN = DOWN_UPSTREAM;

describe("catalogue routes", () => {
  it("a server whose upstream is down is saved; the failed discovery is answered and recorded", async () => {
    const id = uniqueServerId("down");
    const created = await admin("POST", "/servers", { id, name: "Down", url: DOWN });
    expect(created.status).toBe(201);
    expect(created.json.discovery).toMatchObject({ outcome: "failed", error: { code: "upstream_error" }, snapshotKept: false });
    expect((await admin("GET", `/servers/${id}`)).status).toBe(200);

    const tools = await admin("GET", `/servers/${id}/tools`);
    expect(tools.status).toBe(200);
    expect(tools.json).toMatchObject({ serverId: id, fetched: null, stale: false, tools: [], lastAttempt: { outcome: "failed", serverVersion: 1 } });

    const discover = await admin("POST", `/servers/${id}/discover`);
    expect(discover.status).toBe(502);
    expect(discover.json.error).toBe("discovery_failed");

    for (const path of [`/servers/${id}/recommended-policy`, `/servers/${id}/tools/run/recommended-policy`]) {
      const reply = await admin("GET", path);
      expect(reply.status, path).toBe(409);
      expect(reply.json.error).toBe("catalogue_empty");
    }
    const override = await admin("PUT", `/servers/${id}/tools/run/classification`, { category: "read" });
    expect(override.status).toBe(409);
  });

  it("a rename does not discover again; a URL change does", async () => {
    const id = uniqueServerId("patch");
    await admin("POST", "/servers", { id, name: "Before", url: DOWN });
    const renamed = await admin("PATCH", `/servers/${id}`, { name: "After" });
    expect(renamed.status).toBe(200);
    expect(renamed.json.discovery).toBeUndefined();
    const moved = await admin("PATCH", `/servers/${id}`, { url: downUpstream("other") });
    expect(moved.json.discovery).toMatchObject({ outcome: "failed" });
    expect((await admin("GET", `/servers/${id}/tools`)).json.lastAttempt.serverVersion).toBe(3);
  });

  it("unknown servers are 404, and deleting a server deletes its catalogue records", async () => {
    expect((await admin("GET", "/servers/nope-none/tools")).status).toBe(404);
    const id = uniqueServerId("gone");
    await admin("POST", "/servers", { id, name: "Gone", url: DOWN });
    await env.RECORDS.put(toolOverridesKey(id), JSON.stringify({ serverId: id, overrides: {} }));
    expect(await env.RECORDS.get(catalogueKey(id))).not.toBeNull();
    expect((await admin("DELETE", `/servers/${id}`)).status).toBe(200);
    expect(await env.RECORDS.get(catalogueKey(id))).toBeNull();
    expect(await env.RECORDS.get(toolOverridesKey(id))).toBeNull();
  });

  it("the policy JSON Schema is public", async () => {
    const { SELF } = await import("cloudflare:test");
    const reply = await SELF.fetch("https://gw.test/schema/policy-v1.json");
    expect(reply.status).toBe(200);
    expect(((await reply.json()) as { title: string }).title).toMatch(/policy document/);
  });
});

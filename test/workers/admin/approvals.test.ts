// /admin/approvals and a server's approval webhook, through the Worker's own fetch handler: the
// grant's Durable Object decides, the KV index only lists, and secrets are shown once.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { GateResult } from "../../../src/grant/protocol";
import { admin, createGrant, DOWN_UPSTREAM, grantStub, savePolicy, uniqueServerId } from "./admin-client";
import { gateRequestFor } from "../gate-request";

const POLICY = { version: "1", default: "deny", tools: { deploy: { approve: true } } };
const WEBHOOK = "https://hooks.example.com/services/T000/B000/very-secret-path";

async function setup() {
  const serverId = uniqueServerId("approvals");
  const created = await admin("POST", "/servers", { id: serverId, name: "Deploys", url: DOWN_UPSTREAM });
  expect(created.status).toBe(201);
  expect((await savePolicy(serverId, "deploys", POLICY)).status).toBe(201);
  const grant = await createGrant(serverId, "deploys", "deploy-bot");
  return { serverId, grant };
}

/** Opens an approval request the way the gateway does: a gate() step of the grant's object. */
async function openRequest(grant: { id: string; token: string }, env_ = "production"): Promise<string> {
  const result: GateResult = await grantStub(grant.id).gate(
    gateRequestFor(grant.token, [{ kind: "request", method: "tools/call", id: 1, tool: "deploy", args: { env: env_ } }], { origin: "https://gw.test" }),
  );
  const d = result.ok ? result.decisions[0] : null;
  if (d?.outcome !== "deny" || d.approval === undefined) throw new Error(JSON.stringify(result));
  return d.approval.id;
}

describe("a server's approval webhook", () => {
  it("the secret is shown once; the URL only by its origin; PATCH sets a new secret or removes it", async () => {
    const id = uniqueServerId("hook");
    const created = await admin("POST", "/servers", { id, name: "Hooks", url: DOWN_UPSTREAM, approvalWebhook: WEBHOOK });
    expect(created.status).toBe(201);
    expect(created.json.approvalWebhook).toBe("https://hooks.example.com/…");
    const secret: string = created.json.approvalWebhookSecret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const read = await admin("GET", `/servers/${id}`);
    const list = await admin("GET", "/servers");
    for (const reply of [read, list]) {
      expect(reply.text).not.toContain(secret);
      expect(reply.text).not.toContain("very-secret-path");
    }
    expect(read.json.approvalWebhookSecret).toBeUndefined();
    expect(await env.RECORDS.get(`server:${id}`, "json")).toMatchObject({ approvalWebhook: { url: WEBHOOK, secret } });

    const renamed = await admin("PATCH", `/servers/${id}`, { name: "Hooks 2" });
    expect(renamed.json.approvalWebhookSecret).toBeUndefined();
    const rotated = await admin("PATCH", `/servers/${id}`, { approvalWebhook: WEBHOOK });
    expect(rotated.json.approvalWebhookSecret).toMatch(/^whsec_/);
    expect(rotated.json.approvalWebhookSecret).not.toBe(secret);
    const removed = await admin("PATCH", `/servers/${id}`, { approvalWebhook: null });
    expect(removed.json.approvalWebhook).toBeNull();
    expect(await env.RECORDS.get(`server:${id}`, "json")).toMatchObject({ approvalWebhook: null });
  });

  it("is validated like an upstream URL, and never handed to the gateway with a call's answer", async () => {
    const bad = await admin("POST", "/servers", { name: "x", url: DOWN_UPSTREAM, approvalWebhook: "https://user:pw@hooks.example.com/x" });
    expect(bad.status).toBe(400);
    expect(bad.json.details[0].path).toBe("/approvalWebhook");
    const id = uniqueServerId("hooked");
    await admin("POST", "/servers", { id, name: "Hooked", url: DOWN_UPSTREAM, approvalWebhook: WEBHOOK });
    await savePolicy(id, "p", { version: "1", default: "allow" });
    const grant = await createGrant(id, "p");
    const gated = await grantStub(grant.id).gate(gateRequestFor(grant.token, []));
    expect(gated.ok && gated.upstream).toEqual({ serverId: id, serverName: "Hooked", url: DOWN_UPSTREAM, headers: {}, version: 1 });
  });
});

describe("/admin/approvals", () => {
  it("reads a request with its values, decides it once, and names the first decision", async () => {
    const { grant } = await setup();
    const id = await openRequest(grant);
    const read = await admin("GET", `/approvals/${id}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({
      id,
      grantId: grant.id,
      grantLabel: "deploy-bot",
      tool: "deploy",
      status: "pending",
      arguments: { env: "production" },
      rule: "/tools/deploy/approve",
    });

    const badReason = await admin("POST", `/approvals/${id}/approve`, { reason: "ok\u0007" });
    expect(badReason.status).toBe(400);
    expect(badReason.json.details[0].path).toBe("/reason");
    const approved = await admin("POST", `/approvals/${id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ status: "approved", decidedBy: "admin", reason: null });
    expect(approved.json.arguments).toBeUndefined();

    const second = await admin("POST", `/approvals/${id}/reject`, { reason: "changed my mind" });
    expect(second.status).toBe(409);
    expect(second.json.error).toBe("approval_decided");
    expect(second.json.message).toMatch(new RegExp(`^Approval ${id} was already approved by admin at \\d{4}-`));
    expect((await admin("GET", `/approvals/${id}`)).json.arguments).toBeUndefined();
  });

  it("lists by status, server and grant; a decision shows before the index catches up", async () => {
    const { serverId, grant } = await setup();
    const other = await createGrant(serverId, "deploys", "other-bot");
    const mine = await openRequest(grant, "staging");
    const theirs = await openRequest(other, "staging");
    // The grants' alarms write the listing index (run now, or already running on their own).
    await runDurableObjectAlarm(grantStub(grant.id));
    await runDurableObjectAlarm(grantStub(other.id));
    let byServer = await admin("GET", `/approvals?status=pending&serverId=${serverId}`);
    for (let tries = 0; byServer.json.approvals.length < 2 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      byServer = await admin("GET", `/approvals?status=pending&serverId=${serverId}`);
    }
    expect(byServer.status).toBe(200);
    expect(byServer.json.approvals.map((a: { id: string }) => a.id).sort()).toEqual([mine, theirs].sort());
    const byGrant = await admin("GET", `/approvals?grantId=${grant.id}`);
    expect(byGrant.json.approvals.map((a: { id: string }) => a.id)).toEqual([mine]);
    expect(byGrant.json.approvals[0].arguments).toBeUndefined();

    await admin("POST", `/approvals/${mine}/reject`, { reason: "not today" });
    // The index still says pending; the grant's object says rejected, and the object is what is shown.
    const rejected = await admin("GET", `/approvals?status=rejected&serverId=${serverId}`);
    expect(rejected.json.approvals.map((a: { id: string; status: string; reason: string }) => [a.id, a.status, a.reason])).toEqual([
      [mine, "rejected", "not today"],
    ]);
    const pending = await admin("GET", `/approvals?status=pending&serverId=${serverId}`);
    expect(pending.json.approvals.map((a: { id: string }) => a.id)).toEqual([theirs]);

    const paged = await admin("GET", `/approvals?serverId=${serverId}&limit=1`);
    expect(paged.json.approvals).toHaveLength(1);
    expect(typeof paged.json.next).toBe("string");
    const rest = await admin("GET", `/approvals?serverId=${serverId}&limit=1&cursor=${encodeURIComponent(paged.json.next)}`);
    expect(rest.json.approvals).toHaveLength(1);
    expect(rest.json.approvals[0].id).not.toBe(paged.json.approvals[0].id);
  });

  it("a request made under an older policy version cannot be approved", async () => {
    const { serverId, grant } = await setup();
    const id = await openRequest(grant);
    await savePolicy(serverId, "deploys", POLICY);
    const late = await admin("POST", `/approvals/${id}/approve`);
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ error: "approval_expired", details: { status: "expired" } });
  });

  it("refuses ids that name no grant of this gateway, unknown requests and bad filters", async () => {
    const { grant } = await setup();
    const fake = `apr_g${"0".repeat(32)}_${"1".repeat(28)}`;
    const unknown = `apr_${grant.id}_${"1".repeat(28)}`;
    for (const id of ["nope", fake, unknown]) {
      const reply = await admin("GET", `/approvals/${id}`);
      expect(reply.status, id).toBe(404);
      expect(reply.json.error).toBe("approval_not_found");
      expect((await admin("POST", `/approvals/${id}/approve`)).status).toBe(404);
    }
    expect((await admin("GET", "/approvals?status=maybe")).json.error).toBe("invalid_query");
    expect((await admin("GET", `/approvals?grantId=g${"0".repeat(32)}`)).status).toBe(404);
  });
});

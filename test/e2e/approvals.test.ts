// Human approval, end to end: the real MCP SDK clients call through the gateway (workerd, via
// Miniflare) to a real upstream, a person decides through the admin API, and a real HTTP server
// receives the webhook. Holds are short here (APPROVAL_HOLD_MS) so the file stays fast.
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../support/mcp-http";
import { startV2Server } from "../support/peers-v2.mjs";
import { readRawBody, startSdkServer } from "../support/upstreams.mjs";
import { adminClient, startGateway } from "../support/workerd.mjs";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;

const HOLD_MS = 1500;
const DECISION = "io.mcp-policy-gateway/decision";
const PENDING_TEXT = /^\[POLICY DENIED\] Waiting for approval \((apr_g[0-9a-f]{32}_[0-9a-f]{28})\)\. Call again with the same arguments once it is approved\.$/;
const SECRET_REASON = "customer-ssn-078-05-1120";

const policy = {
  version: "1",
  default: "deny",
  tools: {
    echo: {},
    create_refund: {
      approve_if: [{ conditions: [{ path: "args.amount", op: "gt", value: 500 }], on_deny: "Refunds above 500 need a person's approval." }],
      approval_timeout: "10m",
    },
    add: { approve: true, approval_timeout: 1 },
  },
};

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let upstream: Awaited<ReturnType<typeof startSdkServer>>;
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
let grant: { id: string; token: string; url: string };
let serverId: string;
let webhookSecret: string;
let client: Client;

/** A webhook endpoint that records every POST. */
async function startWebhookReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const http = createServer(async (req, res) => {
    received.push({ headers: { ...req.headers }, body: (await readRawBody(req)).toString("utf8") });
    res.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hooks/approvals?token=abc`, received, close: () => new Promise<void>((r) => http.close(() => r())) };
}

async function connect(url: string, token: string): Promise<Client> {
  const c = new Client({ name: "e2e-approvals", version: "1.0.0" });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return c;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const text = (result: any): string => result.content?.[0]?.text;
const decision = (result: any) => result._meta?.[DECISION];
const refund = (amount: number, reason = "late delivery") => ({ name: "create_refund", arguments: { customer: 1, amount, reason } });
const refundsOf = (amount: number) => upstream.toolCalls().filter((c: any) => c.name === "create_refund" && c.arguments.amount === amount);

/** A call that waits: its pending answer, and the approval id it names. */
async function pendingCall(params: { name: string; arguments: Record<string, unknown> }) {
  const result: any = await client.callTool(params);
  expect(result.isError).toBe(true);
  expect(decision(result)?.code, text(result)).toBe("approval_pending");
  return { result, id: decision(result).approvalId as string };
}

beforeAll(async () => {
  gateway = await startGateway({ vars: { APPROVAL_HOLD_MS: String(HOLD_MS), APPROVAL_PROGRESS_MS: "400" } });
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
  upstream = await startSdkServer({ json: true });
  hooks = await startWebhookReceiver();
  const server = await admin("POST", "/servers", { name: "payments", url: upstream.url, approvalWebhook: hooks.url });
  serverId = server.id;
  webhookSecret = server.approvalWebhookSecret;
  expect(server.approvalWebhook).toBe(`${new URL(hooks.url).origin}/…`);
  await admin("PUT", `/servers/${serverId}/policies/payments`, policy);
  const created = await admin("POST", "/grants", { label: "refund-bot", serverId, policyName: "payments" });
  grant = { id: created.grant.id, token: created.token, url: created.url };
  client = await connect(grant.url, grant.token);
});
afterAll(async () => {
  await client?.close();
  await upstream?.close();
  await hooks?.close();
  await gateway?.dispose();
});

describe("a call that needs approval, with the v1 SDK client", () => {
  it("approved during the hold: the call is forwarded and answered normally, with progress while it waited", async () => {
    const progress: string[] = [];
    let approving: Promise<unknown> | null = null;
    const result: any = await client.callTool(refund(901), undefined, {
      onprogress: (p: any) => {
        progress.push(p.message);
        const id = /apr_\w+/.exec(p.message)?.[0];
        // Decide after a couple of progress messages, as a person would after reading the request.
        if (progress.length === 2 && id !== undefined) approving = admin("POST", `/approvals/${id}/approve`, { reason: "looks right" });
      },
    });
    await approving;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe("refunded 901 to customer 1");
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const message of progress)
      expect(message).toMatch(/^waiting for approval apr_g[0-9a-f]{32}_[0-9a-f]{28} \(expires (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)$/);
    expect(refundsOf(901)).toHaveLength(1);
  });

  it("not decided: pending with the id, expiry and a retry hint; listed, signed webhook, approved once, then passes once", async () => {
    const args = refund(902, SECRET_REASON);
    const { result, id } = await pendingCall(args);
    expect(PENDING_TEXT.exec(text(result))?.[1]).toBe(id);
    expect(decision(result)).toMatchObject({ code: "approval_pending", rule: "/tools/create_refund/approve_if/0", approvalId: id, retryAfter: 30 });
    expect(Date.parse(decision(result).expiresAt)).toBeGreaterThan(Date.now() + 9 * 60_000);
    // Retried while pending: the same request, not a second one.
    expect((await pendingCall(args)).id).toBe(id);
    const listed = await waitFor("the listing", async () => {
      const page = await admin("GET", `/approvals?status=pending&grantId=${grant.id}`);
      return page.approvals.find((a: any) => a.id === id);
    });
    expect(listed).toMatchObject({ tool: "create_refund", grantLabel: "refund-bot", serverId, status: "pending" });
    expect(await admin("GET", `/approvals/${id}`)).toMatchObject({ status: "pending", arguments: args.arguments });

    // The server's webhook got it: signed with the secret shown once, with the values and a link.
    const hook = await waitFor("the webhook", async () => hooks.received.find((h) => h.body.includes(id)));
    expect(hook.headers["content-type"]).toBe("application/json");
    expect(hook.headers["x-signature"]).toBe(createHmac("sha256", webhookSecret).update(hook.body).digest("hex"));
    expect(createHmac("sha256", "another-secret").update(hook.body).digest("hex")).not.toBe(hook.headers["x-signature"]);
    const body = JSON.parse(hook.body);
    expect(body.text).toContain("create_refund");
    expect(body.text).toContain("refund-bot");
    expect(body.text).toContain(SECRET_REASON);
    expect(body.approval).toMatchObject({ id, tool: "create_refund", grant: { id: grant.id, label: "refund-bot" }, arguments: args.arguments });
    expect(body.approval.link).toBe(`${gateway.origin}/admin/approvals/${id}`);
    expect(hooks.received.filter((h) => h.body.includes(id))).toHaveLength(1);

    const approved = await admin("POST", `/approvals/${id}/approve`);
    expect(approved).toMatchObject({ status: "approved", decidedBy: "admin", reason: null });
    const second = await admin("POST", `/approvals/${id}/reject`, { reason: "too late" }).catch((e: any) => e);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: "approval_decided", details: { status: "approved", decidedBy: "admin" } });
    expect(second.body.message).toContain("already approved by admin");

    expect(refundsOf(902)).toHaveLength(0);
    const passed: any = await client.callTool(args);
    expect(text(passed)).toBe("refunded 902 to customer 1");
    expect(refundsOf(902)).toHaveLength(1);
    const again = await pendingCall(args);
    expect(again.id).not.toBe(id);
    expect(refundsOf(902)).toHaveLength(1);
    // The values were needed only to decide: gone from the request, never in the log.
    const after = await admin("GET", `/approvals/${id}`);
    expect(after.status).toBe("consumed");
    expect(after.arguments).toBeUndefined();
    expect(JSON.stringify(await readAudit(admin, grant.id))).not.toContain(SECRET_REASON);
  });

  it("rejected during the hold: the approver's reason; a retry gets the same", async () => {
    let rejecting: Promise<unknown> | null = null;
    const result: any = await client.callTool(refund(904), undefined, {
      onprogress: (p: any) => {
        const id = /apr_\w+/.exec(p.message)?.[0];
        if (rejecting === null && id !== undefined) rejecting = admin("POST", `/approvals/${id}/reject`, { reason: "This customer's account is on hold." });
      },
    });
    await rejecting;
    expect(text(result)).toBe("[POLICY DENIED] This customer's account is on hold.");
    expect(decision(result)).toMatchObject({ code: "approval_rejected" });
    const retry: any = await client.callTool(refund(904));
    expect(text(retry)).toBe("[POLICY DENIED] This customer's account is on hold.");
    expect(refundsOf(904)).toHaveLength(0);
  });

  it("one byte of the arguments changed needs a new approval", async () => {
    const { id } = await pendingCall(refund(905, "damaged"));
    await admin("POST", `/approvals/${id}/approve`);
    const changed = await pendingCall(refund(905, "damagee"));
    expect(changed.id).not.toBe(id);
    expect(text(await client.callTool(refund(905, "damaged")))).toBe("refunded 905 to customer 1");
    expect(refundsOf(905)).toHaveLength(1);
  });

  it("the policy saved again in between voids the approval", async () => {
    const { id } = await pendingCall(refund(906));
    await admin("POST", `/approvals/${id}/approve`);
    await admin("PUT", `/servers/${serverId}/policies/payments`, policy);
    const renewed = await pendingCall(refund(906));
    expect(renewed.id).not.toBe(id);
    expect(decision(renewed.result).replaced).toBe(id);
    expect(refundsOf(906)).toHaveLength(0);
    expect(await admin("GET", `/approvals/${id}`)).toMatchObject({ status: "expired" });
    const late = await admin("POST", `/approvals/${renewed.id}/approve`);
    expect(late.status).toBe("approved");
  });

  it("expired: the held call is told, and the next call opens a new request", async () => {
    const first: any = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(decision(first)).toMatchObject({ code: "approval_expired" });
    expect(text(first)).toMatch(/^\[POLICY DENIED\] The approval request apr_\w+ expired before anyone approved it\./);
    const expiredId = decision(first).approvalId;
    const next: any = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(decision(next).approvalId).not.toBe(expiredId);
    const expired = await waitFor("the expiry", async () => {
      const view = await admin("GET", `/approvals/${expiredId}`);
      return view.status === "expired" && view;
    });
    expect(expired.arguments).toBeUndefined();
    expect(upstream.toolCalls().filter((c: any) => c.name === "add")).toHaveLength(0);
  });

  it("ten concurrent identical retries after one approval: exactly one reaches the upstream", async () => {
    const { id } = await pendingCall(refund(907));
    await admin("POST", `/approvals/${id}/approve`);
    const results: any[] = await Promise.all(Array.from({ length: 10 }, () => client.callTool(refund(907))));
    expect(results.filter((r) => !r.isError).map(text)).toEqual(["refunded 907 to customer 1"]);
    expect(new Set(results.filter((r) => r.isError).map((r) => decision(r).approvalId)).size).toBe(1);
    expect(refundsOf(907)).toHaveLength(1);
  });

  it("the log has every step with the approval id and hash, never a value, and the chain holds", async () => {
    const records = await readAudit(admin, grant.id);
    const steps = records.filter((r: any) => r.type === "approval");
    expect(new Set(steps.map((r: any) => r.decision))).toEqual(new Set(["requested", "approved", "rejected", "expired", "consumed"]));
    for (const step of steps) expect(step.approval).toMatchObject({ id: expect.stringMatching(/^apr_/), argsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const consumed = steps.find((r: any) => r.decision === "consumed");
    const forwarded = records.find((r: any) => r.type === "decision" && r.decision === "allow" && r.approval?.id === consumed.approval.id);
    expect(forwarded).toMatchObject({ tool: "create_refund", approval: { argsSha256: consumed.approval.argsSha256 } });
    expect(JSON.stringify(records)).not.toContain("late delivery");
    expect(await admin("GET", `/grants/${grant.id}/audit/verify`)).toMatchObject({ ok: true });
  });
});

describe("an approved call that a server-wide limit refuses", () => {
  it("gets its approval back: the upstream never received it, so the log says restored and the approval stands", async () => {
    const team = [{ counter: "team_calls", window: "minute", max: 1, scope: "server" }];
    const server = await admin("POST", "/servers", { name: "payments-team", url: upstream.url });
    await admin("PUT", `/servers/${server.id}/policies/team`, {
      version: "1",
      default: "deny",
      tools: { echo: { limits: team }, create_refund: { approve: true, approval_timeout: "10m", limits: team } },
    });
    const grantFor = async (label: string) => {
      const created = await admin("POST", "/grants", { label, serverId: server.id, policyName: "team" });
      return { id: created.grant.id as string, client: await connect(created.url, created.token) };
    };
    const [first, second] = [await grantFor("team-a"), await grantFor("team-b")];
    expect(text(await first.client.callTool({ name: "echo", arguments: { message: "uses the team's one call" } }))).toBe("uses the team's one call");
    const pending: any = await second.client.callTool(refund(951));
    const id = decision(pending).approvalId as string;
    await admin("POST", `/approvals/${id}/approve`);
    const refused: any = await second.client.callTool(refund(951));
    expect(decision(refused)).toMatchObject({ code: "rate_limited" });
    expect(refundsOf(951)).toHaveLength(0);
    // The outcome (and with it the approval) arrives after the answer.
    await waitFor("the approval back", async () => (await admin("GET", `/approvals/${id}`)).status === "approved");
    const restored = (await readAudit(admin, second.id)).filter((r: any) => r.decision === "restored");
    expect(restored).toHaveLength(1);
    expect(restored[0].approval).toMatchObject({ id });
    await first.client.close();
    await second.client.close();
  });
});

describe("monitor mode and the 2026-07-28 era", () => {
  it("monitor mode records that approval would be needed and blocks nothing", async () => {
    const server = await admin("POST", "/servers", { name: "payments-monitor", url: upstream.url });
    await admin("PUT", `/servers/${server.id}/policies/watch`, { ...policy, mode: "monitor" });
    const created = await admin("POST", "/grants", { label: "watcher", serverId: server.id, policyName: "watch" });
    const watcher = await connect(created.url, created.token);
    const started = Date.now();
    expect(text(await watcher.callTool(refund(908)))).toBe("refunded 908 to customer 1");
    expect(Date.now() - started).toBeLessThan(HOLD_MS);
    await watcher.close();
    const records = await readAudit(admin, created.grant.id);
    expect(records.find((r: any) => r.tool === "create_refund")).toMatchObject({
      decision: "monitor_deny",
      code: "approval_required",
      rule: "/tools/create_refund/approve_if/0",
    });
    expect(records.some((r: any) => r.type === "approval")).toBe(false);
  });

  it("a 2026-07-28 client waits with progress, is answered with resultType, and can be approved", async () => {
    const modern = await startV2Server();
    try {
      const server = await admin("POST", "/servers", { name: "v2-payments", url: modern.url });
      await admin("PUT", `/servers/${server.id}/policies/p`, { version: "1", default: "deny", tools: { echo: { approve: true } } });
      const created = await admin("POST", "/grants", { label: "modern-bot", serverId: server.id, policyName: "p" });
      const v2 = new V2Client({ name: "e2e-approvals-v2", version: "2.4.0" }, { versionNegotiation: { mode: "auto" } });
      await v2.connect(new V2Transport(new URL(created.url), { requestInit: { headers: { Authorization: `Bearer ${created.token}` } } }));
      expect(v2.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      const pending: any = await v2.callTool({ name: "echo", arguments: { message: "ship it" } });
      // The v2 client refuses a 2026-07-28 result without resultType (INVALID_RESULT): answered means valid.
      expect(pending).toMatchObject({ isError: true, _meta: { [DECISION]: { code: "approval_pending" } } });
      const id = pending._meta[DECISION].approvalId;
      let approving: Promise<unknown> | null = null;
      const seen: string[] = [];
      const result: any = await v2.callTool(
        { name: "echo", arguments: { message: "ship it" } },
        {
          onprogress: (p: any) => {
            seen.push(p.message);
            approving ??= admin("POST", `/approvals/${id}/approve`);
          },
        },
      );
      await approving;
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(result.isError).toBeFalsy();
      expect(text(result)).toBe("ship it");
      await v2.close();
    } finally {
      await modern.close();
    }
  });
});

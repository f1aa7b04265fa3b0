// Approval requests inside the grant's Durable Object (workerd): bound to the exact call, consumed
// once and atomically, decided once, expired by the alarm with their values erased, and every step
// in the hash-chained log without argument values.
import { createHash } from "node:crypto";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GrantObject } from "../../../src/grant/object";
import type { AuditRecord, GateRequest, GateResult, GrantProvision, MessageSummary, PolicySnapshot } from "../../../src/grant/protocol";
import { parsePolicy, policySha256 } from "../../../src/policy/schema";
import { gateRequestFor } from "../gate-request";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const TOKEN = "mpg_approvals_token";
const SECRET_VALUE = "iban-DE89-3704-0044-0532-0130-00";

function snapshot(document: unknown, version = 1): PolicySnapshot {
  const parsed = parsePolicy(document);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return { name: "payments", version, sha256: policySha256(parsed.value), document: parsed.value };
}

const policyDocument = (extra: Record<string, unknown> = {}) => ({
  version: "1",
  default: "deny",
  tools: {
    refund: {
      approve_if: [{ conditions: [{ path: "args.amount", op: "gt", value: 500 }], on_deny: "Refunds above 500 need a person." }],
      limits: [{ counter: "refunds", window: "minute", max: 1 }],
      approval_timeout: "10m",
      ...extra,
    },
  },
});

let grants = 0;
async function provisioned(document: unknown = policyDocument()) {
  const grantId = `g-approvals-${++grants}-${crypto.randomUUID()}`;
  const stub = env.GRANTS.get(env.GRANTS.idFromName(grantId));
  const p: GrantProvision = {
    grantId,
    label: "payments-bot",
    serverId: "srv-pay",
    policyName: "payments",
    created: new Date().toISOString(),
    tokenHash: sha256(TOKEN),
    upstream: { serverId: "srv-pay", serverName: "payments", url: "https://upstream.test/mcp", headers: {}, version: 1 },
    policy: snapshot(document),
  };
  const result = await stub.provision(p);
  if (!result.ok) throw new Error(result.error.code);
  return { stub, grantId };
}

const refund = (args: Record<string, unknown>, id: number | string = 1): MessageSummary => ({
  kind: "request",
  method: "tools/call",
  id,
  tool: "refund",
  args,
});
const gateRequest = (messages: MessageSummary[]): GateRequest => gateRequestFor(TOKEN, messages, { origin: "https://gw.test" });

function decided(result: GateResult) {
  if (!result.ok) throw new Error(`gate refused: ${result.reason}`);
  return result.decisions[0]!;
}

/** The approval id a pending answer names. */
function pendingId(result: GateResult): string {
  const d = decided(result);
  if (d.outcome !== "deny" || d.code !== "approval_pending" || d.approval === undefined) throw new Error(JSON.stringify(d));
  return d.approval.id;
}

async function allRecords(stub: DurableObjectStub<GrantObject>): Promise<AuditRecord[]> {
  return (await stub.readAudit(0, 1000)).records;
}

const big = { amount: 900, iban: SECRET_VALUE };

afterEach(() => {
  vi.useRealTimers();
});

describe("an approval request is bound to the exact call", () => {
  it("opens once: a retry while pending gets the same request, and the approver sees the values", async () => {
    const { stub } = await provisioned();
    expect(decided(await stub.gate(gateRequest([refund({ amount: 100, iban: "x" })])))).toMatchObject({ outcome: "forward" });
    const first = await stub.gate(gateRequest([refund(big)]));
    const id = pendingId(first);
    expect(id).toMatch(/^apr_/);
    expect(decided(first)).toMatchObject({ code: "approval_pending", rule: "/tools/refund/approve_if/0", retryAfter: 30 });
    expect(pendingId(await stub.gate(gateRequest([refund({ iban: SECRET_VALUE, amount: 900 })])))).toBe(id);
    const view = await stub.approval(id, true);
    expect(view).toMatchObject({
      status: "pending",
      tool: "refund",
      arguments: big,
      link: `https://gw.test/admin/approvals/${id}`,
      grantLabel: "payments-bot",
    });
    expect(view?.argsSha256).toBe(sha256(JSON.stringify({ amount: 900, iban: SECRET_VALUE })));
    expect((await stub.approval(id, false))?.arguments).toBeUndefined();
    const requested = (await allRecords(stub)).filter((r) => r.decision === "requested");
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatchObject({ type: "approval", tool: "refund", argKeys: ["amount", "iban"], approval: { id, argsSha256: view?.argsSha256 } });
  });

  it("approved: exactly one identical call passes, the next needs a new approval; values erased, never logged", async () => {
    const { stub } = await provisioned({ ...policyDocument(), tools: { refund: { approve: true } } });
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    const approved = await stub.decideApproval(id, "approve", "admin", "checked with finance");
    expect(approved).toMatchObject({ ok: true, value: { status: "approved", decidedBy: "admin", reason: "checked with finance" } });
    // A changed argument is another call: it needs its own approval.
    expect(pendingId(await stub.gate(gateRequest([refund({ ...big, amount: 901 })])))).not.toBe(id);
    const passed = await stub.gate(gateRequest([refund(big)]));
    expect(decided(passed)).toEqual({ outcome: "forward", monitored: null });
    const again = pendingId(await stub.gate(gateRequest([refund(big)])));
    expect(again).not.toBe(id);
    expect(await stub.approval(id, true)).toMatchObject({ status: "consumed" });
    expect((await stub.approval(id, true))?.arguments).toBeUndefined();
    await runInDurableObject(stub, (_o: GrantObject, state: DurableObjectState) => {
      const row = state.storage.sql.exec<{ args: string | null }>("SELECT args FROM approval WHERE id = ?", id).one();
      expect(row.args).toBeNull();
    });
    const records = await allRecords(stub);
    const forwarded = records.find((r) => r.type === "decision" && r.decision === "allow");
    expect(forwarded?.approval).toEqual({ id, argsSha256: sha256(JSON.stringify(big)) });
    expect(records.map((r) => r.decision)).toEqual(expect.arrayContaining(["requested", "approved", "consumed"]));
    expect(records.find((r) => r.decision === "approved")?.approval).toMatchObject({ id, by: "admin" });
    expect(JSON.stringify(records)).not.toContain(SECRET_VALUE);
    expect(await stub.verifyAudit()).toMatchObject({ ok: true });
  });

  it("ten concurrent identical calls after one approval: exactly one is forwarded", async () => {
    const { stub } = await provisioned({ ...policyDocument(), tools: { refund: { approve: true } } });
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    expect((await stub.decideApproval(id, "approve", "admin", null)).ok).toBe(true);
    const results = await Promise.all(Array.from({ length: 10 }, () => stub.gate(gateRequest([refund(big)]))));
    const outcomes = results.map((r) => decided(r));
    expect(outcomes.filter((d) => d.outcome === "forward")).toHaveLength(1);
    // The nine others share one new request: it is not duplicated.
    const waiting = new Set(outcomes.flatMap((d) => (d.outcome === "deny" && d.approval ? [d.approval.id] : [])));
    expect(waiting.size).toBe(1);
    expect(waiting.has(id)).toBe(false);
  });

  it("the first decision wins; a second names it", async () => {
    const { stub } = await provisioned();
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    const both = await Promise.all([stub.decideApproval(id, "reject", "admin", "not this customer"), stub.decideApproval(id, "approve", "admin", null)]);
    const won = both.filter((r) => r.ok);
    const lost = both.filter((r) => !r.ok);
    expect(won).toHaveLength(1);
    const first = won[0]!.ok ? won[0]!.value : null;
    expect(lost[0]).toMatchObject({ ok: false, error: { code: "decided", approval: { status: first?.status, decided: first?.decided, decidedBy: "admin" } } });
    expect(await stub.decideApproval(id, "reject", "admin", "again")).toMatchObject({
      ok: false,
      error: { code: "decided", approval: { status: first?.status } },
    });
    expect(await stub.decideApproval("apr_unknown", "approve", "admin", null)).toEqual({ ok: false, error: { code: "not_found" } });
  });

  it("rejected: the call gets the approver's reason, or the rule's on_deny without one", async () => {
    const { stub } = await provisioned();
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    await stub.decideApproval(id, "reject", "admin", "not this customer");
    expect(decided(await stub.gate(gateRequest([refund(big)])))).toMatchObject({ code: "approval_rejected", message: "not this customer", approval: { id } });
    const other = pendingId(await stub.gate(gateRequest([refund({ amount: 700 })])));
    await stub.decideApproval(other, "reject", "admin", null);
    expect(decided(await stub.gate(gateRequest([refund({ amount: 700 })])))).toMatchObject({
      code: "approval_rejected",
      message: "Refunds above 500 need a person.",
    });
  });

  it("an approved call over a limit is refused and keeps its approval for later", async () => {
    const { stub } = await provisioned();
    expect(decided(await stub.gate(gateRequest([refund({ amount: 1 })]))).outcome).toBe("forward");
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    await stub.decideApproval(id, "approve", "admin", null);
    expect(decided(await stub.gate(gateRequest([refund(big)])))).toMatchObject({ code: "rate_limited" });
    expect(await stub.approval(id, false)).toMatchObject({ status: "approved" });
  });

  it("a consumed approval whose call never reached the upstream is given back; one the upstream may have received is not", async () => {
    const { stub } = await provisioned();
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    await stub.decideApproval(id, "approve", "admin", null);
    /** Forwards the approved call, then reports its outcome. */
    const forwardAndSettle = async (upstreamReceived: boolean) => {
      const request = gateRequest([refund(big)]);
      const gated = await stub.gate(request);
      expect(decided(gated)).toMatchObject({ outcome: "forward" });
      if (!gated.ok) throw new Error(gated.reason);
      expect(await stub.approval(id, false)).toMatchObject({ status: "consumed" });
      const error = upstreamReceived ? "upstream_connection_lost" : "rate_limited_server";
      await stub.settle({
        requestId: request.requestId,
        seq: gated.seq,
        status: null,
        latencyMs: 1,
        upstreamReceived,
        error,
        sessionOpened: null,
        sessionClosed: null,
      });
      return request.requestId;
    };
    const refused = await forwardAndSettle(false);
    expect(await stub.approval(id, false)).toMatchObject({ status: "approved" });
    const restored = (await allRecords(stub)).filter((r) => r.decision === "restored");
    expect(restored).toHaveLength(1);
    expect(restored[0]).toMatchObject({ type: "approval", approval: { id }, requestId: refused });
    await forwardAndSettle(true);
    expect(await stub.approval(id, false)).toMatchObject({ status: "consumed" });
    expect((await allRecords(stub)).filter((r) => r.decision === "restored")).toHaveLength(1);
    expect(decided(await stub.gate(gateRequest([refund(big)])))).toMatchObject({ code: "approval_pending" });
    expect(await stub.verifyAudit()).toMatchObject({ ok: true });
  });

  it("a batch that is not forwarded (another message denied) leaves its approval unused", async () => {
    const { stub } = await provisioned({ ...policyDocument(), tools: { refund: { approve: true } } });
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    await stub.decideApproval(id, "approve", "admin", null);
    const batch = await stub.gate(gateRequest([refund(big, 1), { kind: "request", method: "tools/call", id: 2, tool: "not_listed", args: {} }]));
    if (!batch.ok) throw new Error(batch.reason);
    expect(batch.decisions.map((d) => d.outcome)).toEqual(["forward", "deny"]);
    expect(await stub.approval(id, false)).toMatchObject({ status: "approved" });
    expect((await allRecords(stub)).some((r) => r.decision === "consumed")).toBe(false);
    expect(decided(await stub.gate(gateRequest([refund(big)])))).toMatchObject({ outcome: "forward" });
  });

  it("a new policy version voids open requests: the call needs a new approval, the old one cannot be approved", async () => {
    const { stub } = await provisioned();
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    await stub.setPolicy("payments", snapshot(policyDocument(), 2));
    expect(await stub.decideApproval(id, "approve", "admin", null)).toMatchObject({ ok: false, error: { code: "expired" } });
    const renewed = await stub.gate(gateRequest([refund(big)]));
    expect(pendingId(renewed)).not.toBe(id);
    const expired = (await allRecords(stub)).filter((r) => r.decision === "expired");
    expect(expired).toHaveLength(1);
    expect(expired[0]?.message).toContain("the policy changed");
  });

  it("the alarm expires an undecided request and erases its values; the next call opens a new one", async () => {
    const { stub } = await provisioned();
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1000);
    await runDurableObjectAlarm(stub);
    expect(await stub.approval(id, true)).toMatchObject({ status: "expired" });
    expect((await stub.approval(id, true))?.arguments).toBeUndefined();
    const next = await stub.gate(gateRequest([refund(big)]));
    expect(pendingId(next)).not.toBe(id);
    expect(decided(next)).toMatchObject({ approval: { replaced: id } });
    expect((await allRecords(stub)).find((r) => r.decision === "expired")).toMatchObject({
      approval: { id },
      message: expect.stringContaining("nobody decided"),
    });
  });

  it("a held call's wait resolves the moment the request is decided", async () => {
    const { stub } = await provisioned();
    const id = pendingId(await stub.gate(gateRequest([refund(big)])));
    expect(await stub.awaitApproval(id, 10)).toBe("pending");
    const waiting = stub.awaitApproval(id, 20_000);
    const started = Date.now();
    await stub.decideApproval(id, "approve", "admin", null);
    expect(await waiting).toBe("approved");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await stub.awaitApproval("apr_nothing", 10)).toBeNull();
  });

  it("monitor mode asks nobody: the call is forwarded and recorded as needing approval", async () => {
    const { stub } = await provisioned({ ...policyDocument(), mode: "monitor" });
    const d = decided(await stub.gate(gateRequest([refund(big)])));
    expect(d).toMatchObject({ outcome: "forward", monitored: { code: "approval_required", rule: "/tools/refund/approve_if/0" } });
    const records = await allRecords(stub);
    expect(records.at(-1)).toMatchObject({ decision: "monitor_deny", code: "approval_required" });
    expect(records.some((r) => r.type === "approval")).toBe(false);
  });
});

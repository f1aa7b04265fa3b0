import { createHash } from "node:crypto";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GrantObject } from "../../../src/grant/object";
import type { AuditRecord, GrantInfo, GrantResult, GateRequest, GateResult, GrantProvision, MessageSummary, PolicySnapshot } from "../../../src/grant/protocol";
import { parsePolicy, policySha256 } from "../../../src/policy/schema";
import { sealRecordJson, type AuditDraft } from "../../../src/grant/audit";
import { gateRequestFor } from "../gate-request";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const TOKEN = "mpg_test_token_one";
const SECRET_ARG = "zebra-7731-do-not-log";

function snapshot(document: unknown, version = 1, name = "refunds"): PolicySnapshot {
  const parsed = parsePolicy(document);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return { name, version, sha256: policySha256(parsed.value), document: parsed.value };
}

const refundPolicy = (extra: Record<string, unknown> = {}) =>
  snapshot({
    version: "1",
    default: "deny",
    hide: ["drop_database"],
    tools: {
      list_customers: {},
      create_refund: {
        deny_if: [{ conditions: [{ path: "args.amount", op: "gt", value: 10000 }], on_deny: "Refund exceeds the policy limit." }],
        limits: [{ counter: "create_refund_rate", window: "minute", max: 10, scope: "grant" }],
      },
    },
    ...extra,
  });

let grants = 0;
async function provisioned(policy: PolicySnapshot | null = refundPolicy()) {
  const grantId = `g-test-${++grants}-${crypto.randomUUID()}`;
  const stub = env.GRANTS.get(env.GRANTS.idFromName(grantId));
  const p: GrantProvision = {
    grantId,
    label: "refund agent",
    serverId: "srv-1",
    policyName: policy?.name ?? null,
    created: new Date().toISOString(),
    tokenHash: sha256(TOKEN),
    upstream: { serverId: "srv-1", serverName: "billing", url: "https://upstream.test/mcp", headers: { authorization: "Bearer upstream-secret" }, version: 1 },
    policy,
  };
  const info = accepted(await stub.provision(p));
  return { stub, grantId, info };
}

const gateRequest = (messages: MessageSummary[], overrides: Partial<GateRequest> = {}): GateRequest => gateRequestFor(TOKEN, messages, overrides);

const call = (tool: string, args: Record<string, unknown> = {}, id: number | string = 1): MessageSummary => ({
  kind: "request",
  method: "tools/call",
  id,
  tool,
  args,
});

function allowed(result: GateResult) {
  if (!result.ok) throw new Error(`gate refused: ${result.reason}`);
  return result;
}

async function allRecords(stub: DurableObjectStub<GrantObject>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let after = 0;
  for (;;) {
    const page = await stub.readAudit(after, 1000);
    out.push(...page.records);
    if (page.next === null) return out;
    after = page.next;
  }
}

/** A decision record of the kind an earlier version wrote: one forwarded create_refund. */
const legacyDraft = (seq: number, time: string): AuditDraft => ({
  seq,
  time,
  type: "decision",
  requestId: `req-${seq}`,
  grantId: "legacy",
  label: "old agent",
  serverId: "srv-1",
  httpMethod: "POST",
  rpcMethod: "tools/call",
  rpcId: seq,
  tool: "create_refund",
  policy: null,
  decision: "allow",
  code: null,
  rule: null,
  message: null,
  argKeys: ["amount"],
  ref: null,
  status: null,
  latencyMs: null,
});

/** The info of an admin change the object accepted. */
function accepted(result: GrantResult): GrantInfo {
  if (!result.ok) throw new Error(`refused: ${result.error.code}`);
  return result.value;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("gate: authentication", () => {
  it("an unprovisioned grant is unauthenticated and writes nothing", async () => {
    const stub = env.GRANTS.get(env.GRANTS.idFromName("never-provisioned"));
    expect(await stub.gate(gateRequest([call("list_customers")]))).toEqual({ ok: false, reason: "unauthenticated" });
    expect(await stub.info()).toBeNull();
    expect((await stub.readAudit(0, 10)).records).toEqual([]);
    expect(await stub.verifyAudit()).toEqual({ ok: true, count: 0 });
    // Not a table, not a row: a stray request cannot grow storage.
    await runInDurableObject(stub, (_grant: GrantObject, state: DurableObjectState) => {
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master").toArray()).toEqual([]);
    });
  });

  it("a wrong token is refused and recorded without the presented hash", async () => {
    const { stub } = await provisioned();
    const guess = sha256("guessed");
    expect(await stub.gate(gateRequest([call("list_customers")], { tokenHash: guess }))).toEqual({
      ok: false,
      reason: "unauthenticated",
    });
    const records = await allRecords(stub);
    const reject = records.at(-1)!;
    expect(reject).toMatchObject({ type: "decision", decision: "reject", code: "unauthenticated", httpMethod: "POST" });
    expect(JSON.stringify(records)).not.toContain(guess);
    expect(JSON.stringify(records)).not.toContain(sha256(TOKEN));
  });

  it("token guessing cannot flood the log: 60 refusals a minute are recorded, the rest counted", async () => {
    const { stub } = await provisioned();
    const before = (await allRecords(stub)).length;
    const guesses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => stub.gate(gateRequest([call("list_customers")], { tokenHash: sha256(`guess-${i}`), requestId: `g-${i}` }))),
    );
    expect(guesses.every((g) => !g.ok && g.reason === "unauthenticated")).toBe(true);
    const records = (await allRecords(stub)).slice(before);
    expect(records).toHaveLength(60);
    expect(records.every((r) => r.code === "unauthenticated")).toBe(true);
    // The right token still works, and its request is recorded as usual.
    const ok = allowed(await stub.gate(gateRequest([call("list_customers")])));
    expect(ok.decisions[0]?.outcome).toBe("forward");
    expect((await allRecords(stub)).length).toBe(before + 61);
  });

  it("a server route must name the grant's own server", async () => {
    const { stub } = await provisioned();
    const other = await stub.gate(gateRequest([call("list_customers")], { route: { kind: "server", serverId: "srv-2" } }));
    expect(other).toEqual({ ok: false, reason: "unauthenticated" });
    const own = await stub.gate(gateRequest([call("list_customers")], { route: { kind: "server", serverId: "srv-1" } }));
    expect(own.ok).toBe(true);
  });

  it("rotation: the old token fails on the very next call and the new one works", async () => {
    const { stub } = await provisioned();
    expect((await stub.gate(gateRequest([call("list_customers")]))).ok).toBe(true);
    const info = accepted(await stub.rotate(sha256("new-token")));
    expect(info.rotated).not.toBeNull();
    expect(await stub.gate(gateRequest([call("list_customers")]))).toEqual({ ok: false, reason: "unauthenticated" });
    expect((await stub.gate(gateRequest([call("list_customers")], { tokenHash: sha256("new-token") }))).ok).toBe(true);
    const rotate = (await allRecords(stub)).find((r) => r.decision === "rotate");
    expect(rotate).toMatchObject({ type: "admin" });
    expect(JSON.stringify(rotate)).not.toContain(sha256("new-token"));
  });

  it("revocation is immediate, idempotent, and blocks rotation and re-provisioning", async () => {
    const { stub, grantId } = await provisioned();
    const revoked = accepted(await stub.revoke());
    expect(revoked.revoked).not.toBeNull();
    expect(await stub.gate(gateRequest([call("list_customers")]))).toEqual({ ok: false, reason: "unauthenticated" });
    expect(accepted(await stub.revoke()).revoked).toBe(revoked.revoked);
    expect(await stub.rotate(sha256("x"))).toEqual({ ok: false, error: { code: "revoked", revoked: revoked.revoked } });
    const current = await stub.info();
    const again = await stub.provision({
      grantId,
      label: "again",
      serverId: "srv-1",
      policyName: null,
      created: current!.created,
      tokenHash: sha256("fresh"),
      upstream: { serverId: "srv-1", serverName: "billing", url: "https://upstream.test/mcp", headers: {}, version: 1 },
      policy: null,
    });
    expect(again).toMatchObject({ ok: false, error: { code: "revoked" } });
    expect(await stub.gate(gateRequest([call("list_customers")], { tokenHash: sha256("fresh") }))).toEqual({
      ok: false,
      reason: "unauthenticated",
    });
    const records = await allRecords(stub);
    expect(records.filter((r) => r.decision === "revoke")).toHaveLength(1);
  });

  it("admin calls on an unprovisioned grant are refused with not_provisioned, and create nothing", async () => {
    const stub = env.GRANTS.get(env.GRANTS.idFromName("never-provisioned-admin"));
    expect(await stub.setLabel("x")).toEqual({ ok: false, error: { code: "not_provisioned" } });
    expect(await stub.revoke()).toEqual({ ok: false, error: { code: "not_provisioned" } });
    await runInDurableObject(stub, (_grant: GrantObject, state: DurableObjectState) => {
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray()).toEqual([]);
    });
  });
});

describe("gate: decisions", () => {
  it("allows, denies by deny_if, by default deny and by hide, each with its rule", async () => {
    const { stub } = await provisioned();
    const result = allowed(
      await stub.gate(
        gateRequest([
          call("create_refund", { amount: 50, reason: SECRET_ARG }, 1),
          call("create_refund", { amount: 20000 }, 2),
          call("delete_account", {}, 3),
          call("drop_database", {}, 4),
        ]),
      ),
    );
    expect(result.decisions).toEqual([
      { outcome: "forward", monitored: null },
      { outcome: "deny", code: "deny_if", rule: "/tools/create_refund/deny_if/0", message: "Refund exceeds the policy limit." },
      { outcome: "deny", code: "not_permitted", rule: "/default", message: 'Tool "delete_account" is not permitted by policy' },
      { outcome: "deny", code: "hidden", rule: "/hide/0", message: "Tool drop_database not found" },
    ]);
    expect(result.policy).toEqual({ name: "refunds", version: 1, sha256: refundPolicy().sha256 });
    expect(result.grant).toMatchObject({ label: "refund agent", serverId: "srv-1" });
    expect(result.upstream.url).toBe("https://upstream.test/mcp");
    // A hidden tool is answered like an unknown one, which depends on `default`: the gateway gets it.
    expect(result.visibility?.default).toBe("deny");
    const plain = allowed(await stub.gate(gateRequest([call("create_refund", { amount: 20000 }, 5)])));
    expect(plain.visibility).toBeNull();
  });

  it("exactly max calls are forwarded, then rate_limited with retryAfter", async () => {
    const { stub } = await provisioned();
    for (let i = 0; i < 10; i++) {
      expect(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]?.outcome).toBe("forward");
    }
    const denied = allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0];
    expect(denied).toMatchObject({ outcome: "deny", code: "rate_limited", rule: "/tools/create_refund/limits/0" });
    if (denied?.outcome !== "deny") throw new Error("expected a denial");
    expect(denied.retryAfter).toBeGreaterThanOrEqual(59);
    expect(denied.retryAfter).toBeLessThanOrEqual(60);
    expect(denied.message).toMatch(/^Rate limit exceeded: 10 calls per minute on counter "create_refund_rate"; retry in \d+s$/);
  });

  it("50 concurrent gate() calls against max 10 forward exactly 10", async () => {
    const { stub } = await provisioned();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => stub.gate(gateRequest([call("create_refund", { amount: 1 }, i)]))));
    const outcomes = results.map((r) => allowed(r).decisions[0]);
    expect(outcomes.filter((d) => d?.outcome === "forward")).toHaveLength(10);
    expect(outcomes.filter((d) => d?.outcome === "deny" && d.code === "rate_limited")).toHaveLength(40);
    expect(new Set(results.map((r) => allowed(r).seq)).size).toBe(50);
    expect(await stub.verifyAudit()).toEqual({ ok: true, count: 51 });
  });

  it("a batch shares the count: the second call of a batch sees the first's reservation", async () => {
    const tight = snapshot({
      version: "1",
      default: "allow",
      all_tools: { limits: [{ counter: "calls", window: "hour", max: 1 }] },
    });
    const { stub } = await provisioned(tight);
    const result = allowed(await stub.gate(gateRequest([call("a", {}, 1), call("b", {}, 2)])));
    expect(result.decisions.map((d) => (d.outcome === "deny" ? d.code : d.outcome))).toEqual(["forward", "rate_limited"]);
    const records = await allRecords(stub);
    expect(records.slice(-2).map((r) => r.seq)).toEqual([result.seq, result.seq + 1]);
  });

  it("other methods, notifications and responses pass through; invalid messages are recorded as denied", async () => {
    const { stub } = await provisioned();
    const result = allowed(
      await stub.gate(
        gateRequest([
          { kind: "request", method: "resources/list", id: "r1" },
          { kind: "notification", method: "notifications/initialized" },
          { kind: "response", id: 9 },
          { kind: "invalid", code: -32600, reason: "tools/call without an id" },
        ]),
      ),
    );
    expect(result.decisions.slice(0, 3)).toEqual(Array(3).fill({ outcome: "forward", monitored: null }));
    expect(result.decisions[3]).toEqual({ outcome: "deny", code: "invalid_message", rule: null, message: "tools/call without an id" });
    const records = (await allRecords(stub)).slice(-4);
    expect(records.map((r) => [r.rpcMethod, r.rpcId, r.decision, r.code])).toEqual([
      ["resources/list", "r1", "allow", null],
      ["notifications/initialized", null, "allow", null],
      [null, 9, "allow", null],
      [null, null, "deny", "invalid_message"],
    ]);
  });

  it("a batch of 40 messages is stored whole (more rows than one statement may bind)", async () => {
    const { stub } = await provisioned();
    const before = (await allRecords(stub)).length;
    const batch = Array.from({ length: 40 }, (_, i): MessageSummary => ({ kind: "request", method: "resources/list", id: i }));
    expect(allowed(await stub.gate(gateRequest(batch))).decisions).toHaveLength(40);
    expect(await allRecords(stub)).toHaveLength(before + 40);
    expect(await stub.verifyAudit()).toEqual({ ok: true, count: before + 40 });
  });

  it("GET has no messages: one forward decision and one record", async () => {
    const { stub } = await provisioned();
    const before = (await allRecords(stub)).length;
    const result = allowed(await stub.gate(gateRequest([], { httpMethod: "GET" })));
    expect(result.decisions).toEqual([{ outcome: "forward", monitored: null }]);
    const records = await allRecords(stub);
    expect(records).toHaveLength(before + 1);
    expect(records.at(-1)).toMatchObject({ httpMethod: "GET", decision: "allow", rpcMethod: null, seq: result.seq });
  });

  it("visibility comes back for tools/list, and for a grant without a policy (which denies every call)", async () => {
    const withPolicy = await provisioned();
    const listed = allowed(await withPolicy.stub.gate(gateRequest([{ kind: "request", method: "tools/list", id: 1 }])));
    expect(listed.visibility).toEqual({ default: "deny", hide: ["drop_database"], listed: ["list_customers", "create_refund"] });

    const none = await provisioned(null);
    const result = allowed(await none.stub.gate(gateRequest([call("list_customers")])));
    expect(result.visibility).toEqual({ default: "deny", hide: ["*"], listed: [] });
    expect(result.policy).toBeNull();
    expect(result.decisions[0]).toMatchObject({ outcome: "deny", code: "no_policy" });
  });

  it("setPolicy takes effect on the next call", async () => {
    const { stub } = await provisioned();
    expect(allowed(await stub.gate(gateRequest([call("delete_account")]))).decisions[0]?.outcome).toBe("deny");
    const open = snapshot({ version: "1", default: "allow" }, 3, "open");
    await stub.setPolicy("open", open);
    const result = allowed(await stub.gate(gateRequest([call("delete_account")])));
    expect(result.decisions[0]?.outcome).toBe("forward");
    expect(result.policy).toEqual({ name: "open", version: 3, sha256: open.sha256 });
    const records = await allRecords(stub);
    expect(records.find((r) => r.decision === "set_policy")?.message).toBe(`policy "open" version 3 (sha256 ${open.sha256})`);
    // Every decision record names the document by digest, not only by its version number.
    expect(records.at(-1)).toMatchObject({ type: "decision", policy: { name: "open", version: 3, sha256: open.sha256 } });
  });

  it("a policy version older than the one held is ignored; a snapshot whose digest does not match is refused", async () => {
    const { stub } = await provisioned();
    const v5 = snapshot({ version: "1", default: "allow" }, 5, "refunds");
    const v4 = snapshot({ version: "1", default: "deny" }, 4, "refunds");
    expect(accepted(await stub.setPolicy("refunds", v5)).policyVersion).toBe(5);
    expect(accepted(await stub.setPolicy("refunds", v4)).policyVersion).toBe(5);
    expect(await stub.setPolicy("refunds", { ...v5, version: 6, sha256: v4.sha256 })).toEqual({ ok: false, error: { code: "policy_mismatch" } });
    expect(
      accepted(await stub.setUpstream({ serverId: "srv-1", serverName: "billing", url: "https://new.test/mcp", headers: {}, version: 3 })).upstreamVersion,
    ).toBe(3);
    expect(
      accepted(await stub.setUpstream({ serverId: "srv-1", serverName: "billing", url: "https://old.test/mcp", headers: {}, version: 2 })).upstreamVersion,
    ).toBe(3);
    expect(allowed(await stub.gate(gateRequest([call("anything")]))).upstream.url).toBe("https://new.test/mcp");
  });
});

describe("monitor mode", () => {
  it("forwards what would be denied and records monitor_deny with the would-be code", async () => {
    const { stub } = await provisioned(refundPolicy({ mode: "monitor" }));
    const result = allowed(await stub.gate(gateRequest([call("delete_account", {}, 1), call("create_refund", { amount: 99999 }, 2)])));
    expect(result.decisions).toEqual([
      { outcome: "forward", monitored: { code: "not_permitted", rule: "/default", message: 'Tool "delete_account" is not permitted by policy' } },
      { outcome: "forward", monitored: { code: "deny_if", rule: "/tools/create_refund/deny_if/0", message: "Refund exceeds the policy limit." } },
    ]);
    const records = (await allRecords(stub)).slice(-2);
    expect(records.map((r) => [r.decision, r.code, r.rule])).toEqual([
      ["monitor_deny", "not_permitted", "/default"],
      ["monitor_deny", "deny_if", "/tools/create_refund/deny_if/0"],
    ]);
  });

  it("a call over the limit is forwarded but not counted", async () => {
    const { stub } = await provisioned(refundPolicy({ mode: "monitor" }));
    const results = [];
    for (let i = 0; i < 12; i++) results.push(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))));
    expect(results.every((r) => r.decisions[0]?.outcome === "forward")).toBe(true);
    expect(results.filter((r) => r.decisions[0]?.outcome === "forward" && r.decisions[0].monitored !== null)).toHaveLength(2);
    await runInDurableObject(stub, (_instance, state) => {
      // The log is the counters' only truth: the decisions that took quota say so in `counted`.
      const row = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit WHERE counted IS NOT NULL").one();
      expect(row.n).toBe(10);
    });
  });
});

describe("audit log", () => {
  it("one record per decision with every field, argument keys but never argument values", async () => {
    const { stub, grantId } = await provisioned();
    const result = allowed(await stub.gate(gateRequest([call("create_refund", { reason: SECRET_ARG, amount: 12 }, "abc")])));
    const records = await allRecords(stub);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ seq: 1, type: "admin", decision: "provision", prevHash: "0".repeat(64) });
    const record = records[1]!;
    expect(Object.keys(record).sort()).toEqual(
      [
        "seq",
        "time",
        "type",
        "requestId",
        "grantId",
        "label",
        "serverId",
        "httpMethod",
        "rpcMethod",
        "rpcId",
        "tool",
        "policy",
        "decision",
        "code",
        "rule",
        "message",
        "argKeys",
        "ref",
        "status",
        "latencyMs",
        "prevHash",
        "hash",
      ].sort(),
    );
    expect(record).toMatchObject({
      seq: result.seq,
      type: "decision",
      grantId,
      label: "refund agent",
      serverId: "srv-1",
      httpMethod: "POST",
      rpcMethod: "tools/call",
      rpcId: "abc",
      tool: "create_refund",
      policy: { name: "refunds", version: 1 },
      decision: "allow",
      code: null,
      argKeys: ["amount", "reason"],
      prevHash: records[0]!.hash,
    });
    expect(new Date(record.time).getTime()).not.toBeNaN();
    const everything = JSON.stringify(records);
    expect(everything).not.toContain(SECRET_ARG);
    expect(everything).not.toContain("upstream-secret");
    expect(await stub.verifyAudit()).toEqual({ ok: true, count: 2 });
  });

  it("verifyAudit finds an edited record", async () => {
    const { stub } = await provisioned();
    for (let i = 0; i < 3; i++) await stub.gate(gateRequest([call("list_customers")]));
    expect(await stub.verifyAudit()).toEqual({ ok: true, count: 4 });
    await runInDurableObject(stub, (_instance, state) => {
      const row = state.storage.sql.exec<{ record: string }>("SELECT record FROM audit WHERE seq = 3").one();
      const edited = { ...(JSON.parse(row.record) as AuditRecord), decision: "deny" };
      state.storage.sql.exec("UPDATE audit SET record = ? WHERE seq = 3", JSON.stringify(edited));
    });
    expect(await stub.verifyAudit()).toEqual({ ok: false, brokenAt: 3 });
  });

  it("readAudit pages oldest first and clamps the limit to 1..1000", async () => {
    const { stub } = await provisioned();
    for (let i = 0; i < 4; i++) await stub.gate(gateRequest([call("list_customers")]));
    const first = await stub.readAudit(0, 2);
    expect(first.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(first.next).toBe(2);
    const second = await stub.readAudit(first.next!, 2);
    expect(second.records.map((r) => r.seq)).toEqual([3, 4]);
    const last = await stub.readAudit(4, 2);
    expect(last).toMatchObject({ next: null });
    expect(last.records.map((r) => r.seq)).toEqual([5]);
    expect((await stub.readAudit(0, 0)).records).toHaveLength(1);
    expect((await stub.readAudit(0, 5000)).records).toHaveLength(5);
  });

  it("admin records carry non-secret detail only", async () => {
    const { stub } = await provisioned();
    await stub.setLabel("renamed");
    await stub.setUpstream({
      serverId: "srv-1",
      serverName: "billing",
      url: "https://upstream.test/mcp?key=q-secret",
      headers: { authorization: "Bearer h-secret" },
      version: 2,
    });
    const records = await allRecords(stub);
    expect(records.map((r) => r.decision)).toEqual(["provision", "set_label", "set_upstream"]);
    expect(records[2]).toMatchObject({ label: "renamed", message: 'server "billing" version 2' });
    expect(JSON.stringify(records)).not.toMatch(/secret/);
    const elsewhere = { serverId: "srv-9", serverName: "x", url: "https://x.test", headers: {}, version: 1 };
    expect(await stub.setUpstream(elsewhere)).toEqual({ ok: false, error: { code: "server_mismatch" } });
  });
});

describe("settle and pending outcomes", () => {
  it("upstreamReceived false releases the request's reservations; true keeps them", async () => {
    const { stub } = await provisioned();
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) seqs.push(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })], { requestId: `fill-${i}` }))).seq);
    const full = allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })])));
    expect(full.decisions[0]?.outcome).toBe("deny");

    const settlement = { status: 200, latencyMs: 12, upstreamReceived: true, error: null, sessionOpened: null, sessionClosed: null };
    await stub.settle({ ...settlement, requestId: "fill-0", seq: seqs[0]! });
    expect(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]?.outcome).toBe("deny");

    await stub.settle({ ...settlement, requestId: "fill-1", seq: seqs[1]!, status: null, upstreamReceived: false, error: "upstream_unreachable" });
    expect(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]?.outcome).toBe("forward");

    const outcomes = (await allRecords(stub)).filter((r) => r.type === "outcome");
    expect(outcomes.map((r) => [r.ref, r.decision, r.code, r.status])).toEqual([
      [seqs[0], "ok", null, 200],
      [seqs[1], "error", "upstream_unreachable", null],
    ]);
    expect(outcomes[1]?.message).toMatch(/released/);
  });

  it("outcomes carried on gate() are applied before its decisions, in the same step", async () => {
    const { stub } = await provisioned();
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) seqs.push(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })], { requestId: `ride-${i}` }))).seq);
    const never = { status: null, latencyMs: 3, upstreamReceived: false, error: "upstream_unreachable", sessionOpened: null, sessionClosed: null };
    // The 11th call fits only because the released reservation rides on the same gate() call.
    const eleventh = allowed(
      await stub.gate(gateRequest([call("create_refund", { amount: 1 })], { settlements: [{ ...never, requestId: "ride-0", seq: seqs[0]! }] })),
    );
    expect(eleventh.decisions[0]?.outcome).toBe("forward");
    const records = await allRecords(stub);
    const outcome = records.find((r) => r.type === "outcome" && r.ref === seqs[0]);
    expect(outcome).toMatchObject({ decision: "error", code: "upstream_unreachable" });
    expect(outcome!.seq).toBeLessThan(eleventh.seq);
    // A batch through settle() works too, and settling again is still a no-op.
    const ok = { status: 200, latencyMs: 1, upstreamReceived: true, error: null, sessionOpened: null, sessionClosed: null };
    await stub.settle([
      { ...ok, requestId: "ride-1", seq: seqs[1]! },
      { ...ok, requestId: "ride-2", seq: seqs[2]! },
      { ...ok, requestId: "ride-0", seq: seqs[0]! },
    ]);
    const outcomes = (await allRecords(stub)).filter((r) => r.type === "outcome");
    expect(outcomes.map((r) => r.ref)).toEqual([seqs[0], seqs[1], seqs[2]]);
  });

  it("settling twice, an unknown seq, or a mismatched requestId is a no-op", async () => {
    const { stub } = await provisioned();
    const { seq } = allowed(await stub.gate(gateRequest([call("list_customers")], { requestId: "once" })));
    const s = { requestId: "once", seq, status: 200, latencyMs: 5, upstreamReceived: true, error: null, sessionOpened: null, sessionClosed: null };
    await stub.settle({ ...s, requestId: "someone-else" });
    await stub.settle(s);
    await stub.settle(s);
    await stub.settle({ ...s, seq: 999 });
    expect((await allRecords(stub)).filter((r) => r.type === "outcome")).toHaveLength(1);
  });

  it("the alarm writes an unknown outcome for a decision still pending after 2 minutes; a late outcome is still appended", async () => {
    const { stub } = await provisioned();
    const { seq } = allowed(await stub.gate(gateRequest([call("list_customers")], { requestId: "lost" })));
    // Fired early, nothing is overdue yet: no record.
    await runDurableObjectAlarm(stub);
    expect((await allRecords(stub)).filter((r) => r.type === "outcome")).toHaveLength(0);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2 * 60 * 1000 + 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const outcome = (await allRecords(stub)).filter((r) => r.type === "outcome");
    expect(outcome).toHaveLength(1);
    expect(outcome[0]).toMatchObject({ ref: seq, requestId: "lost", decision: "unknown", message: "no outcome was reported" });
    // A late outcome (a call that streamed past the deadline) is still appended, once, after the
    // unknown one: the log is append-only, so both stay.
    const late = { requestId: "lost", seq, status: 200, latencyMs: 150_000, upstreamReceived: true, error: null, sessionOpened: null, sessionClosed: null };
    await stub.settle({ ...late, requestId: "someone-else" });
    await stub.settle(late);
    await stub.settle(late);
    const outcomes = (await allRecords(stub)).filter((r) => r.type === "outcome");
    expect(outcomes.map((r) => [r.ref, r.decision, r.status])).toEqual([
      [seq, "unknown", null],
      [seq, "ok", 200],
    ]);
    expect(outcomes[1]!.message).toMatch(/after the deadline/);
    expect(await stub.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe("sessions", () => {
  const done = { status: 200, latencyMs: 3, upstreamReceived: true, error: null, sessionOpened: null, sessionClosed: null };

  it("unknown sessions are refused; bound ones work; closed ones are refused again", async () => {
    const { stub } = await provisioned();
    expect(await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-1" }))).toEqual({ ok: false, reason: "unknown_session" });
    expect((await allRecords(stub)).at(-1)).toMatchObject({ decision: "reject", code: "unknown_session" });

    const init = allowed(await stub.gate(gateRequest([{ kind: "request", method: "initialize", id: 0 }], { requestId: "init" })));
    await stub.bindSession(init.seq, "s-1");
    expect((await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-1" }))).ok).toBe(true);

    const del = allowed(await stub.gate(gateRequest([], { httpMethod: "DELETE", sessionId: "s-1", requestId: "del" })));
    await stub.settle({ ...done, requestId: "del", seq: del.seq, sessionClosed: "s-1" });
    expect(await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-1" }))).toEqual({ ok: false, reason: "unknown_session" });
  });

  it("settle binds sessionOpened, and a session of one grant is unknown to another", async () => {
    const a = await provisioned();
    const b = await provisioned();
    const init = allowed(await a.stub.gate(gateRequest([{ kind: "request", method: "initialize", id: 0 }], { requestId: "init-a" })));
    await a.stub.settle({ ...done, requestId: "init-a", seq: init.seq, sessionOpened: "s-a" });
    expect((await a.stub.gate(gateRequest([call("list_customers")], { sessionId: "s-a" }))).ok).toBe(true);
    expect(await b.stub.gate(gateRequest([call("list_customers")], { sessionId: "s-a" }))).toEqual({ ok: false, reason: "unknown_session" });
  });
});

describe("sessions expire when idle", () => {
  it("a session unused for SESSION_IDLE_MS is forgotten: 404 from then on, and recorded as idle", async () => {
    const { stub } = await provisioned();
    const init = allowed(await stub.gate(gateRequest([{ kind: "request", method: "initialize", id: 0 }])));
    await stub.bindSession(init.seq, "s-idle");
    expect((await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-idle" }))).ok).toBe(true);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + Number(env.SESSION_IDLE_MS) - 60_000);
    // Used within the limit: still open, and the use counts from now.
    expect((await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-idle" }))).ok).toBe(true);
    vi.setSystemTime(Date.now() + Number(env.SESSION_IDLE_MS) + 1_000);
    expect(await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-idle" }))).toEqual({ ok: false, reason: "unknown_session" });
    expect((await allRecords(stub)).at(-1)).toMatchObject({ decision: "reject", code: "unknown_session", message: expect.stringMatching(/idle/) });
    vi.useRealTimers();
    expect(await stub.gate(gateRequest([call("list_customers")], { sessionId: "s-idle" }))).toEqual({ ok: false, reason: "unknown_session" });
  });
});

describe("one request, one transaction", () => {
  it("a batch whose second record cannot be stored leaves no record, no reservation and an intact chain", async () => {
    const { stub } = await provisioned();
    const before = (await allRecords(stub)).length;
    // A real storage failure, injected with a trigger: the second decision record of the next request is refused.
    await runInDurableObject(stub, (_grant: GrantObject, state: DurableObjectState) => {
      state.storage.sql.exec(`CREATE TRIGGER refuse_second BEFORE INSERT ON audit WHEN NEW.seq = ${before + 2} BEGIN SELECT RAISE(ABORT, 'injected'); END`);
    });
    const batch = [call("create_refund", { amount: 1 }, 1), call("create_refund", { amount: 1 }, 2)];
    expect(await stub.gate(gateRequest(batch))).toEqual({ ok: false, reason: "unavailable" });
    expect((await allRecords(stub)).length).toBe(before);
    await runInDurableObject(stub, (_grant: GrantObject, state: DurableObjectState) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM audit WHERE counted IS NOT NULL OR flag IS NOT NULL").one().n).toBe(0);
      state.storage.sql.exec("DROP TRIGGER refuse_second");
    });
    // A fresh instance, rebuilt from storage alone, agrees: nothing was taken.
    await runInDurableObject(stub, (_grant: GrantObject, state: DurableObjectState) => {
      expect(new GrantObject(state, env)).toBeInstanceOf(GrantObject);
    });
    // Nothing was reserved: the full quota of 10 is still there, and the chain continues unbroken.
    for (let i = 0; i < 10; i++) expect(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]?.outcome).toBe("forward");
    expect(allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]).toMatchObject({ code: "rate_limited" });
    expect(await stub.verifyAudit()).toEqual({ ok: true, count: before + 11 });
  });

  it("a stored state that does not validate makes the object fail, never enforce a guess", async () => {
    const { stub } = await provisioned();
    await runInDurableObject(stub, async (_grant: GrantObject, state: DurableObjectState) => {
      state.storage.sql.exec(`UPDATE grant_state SET state = '{"grantId":"x"}' WHERE id = 1`);
      expect(() => new GrantObject(state, env)).toThrow(/does not validate/);
    });
  });
});

describe("restart", () => {
  it("after a restart, a released reservation stays released and a pending request still gets its unknown outcome", async () => {
    const { stub } = await provisioned();
    const released = allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })], { requestId: "refused-upstream" })));
    await stub.settle({
      requestId: "refused-upstream",
      seq: released.seq,
      status: null,
      latencyMs: 1,
      upstreamReceived: false,
      error: "upstream_unreachable",
      sessionOpened: null,
      sessionClosed: null,
    });
    for (let i = 0; i < 9; i++) allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })], { requestId: `r${i}` })));
    const lost = allowed(await stub.gate(gateRequest([call("create_refund", { amount: 1 })], { requestId: "lost" })));
    await runInDurableObject(stub, async (_instance, state) => {
      const fresh = new GrantObject(state, env);
      // 10 counted (9 + the lost one), the released one is not: the 11th is refused.
      expect(allowed(await fresh.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]).toMatchObject({ code: "rate_limited" });
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 3 * 60 * 1000);
      await fresh.alarm();
      vi.useRealTimers();
      const unknown = (await fresh.readAudit(0, 1000)).records.filter((r) => r.decision === "unknown");
      expect(unknown.map((r) => r.requestId).sort()).toEqual(["lost", ...Array.from({ length: 9 }, (_, i) => `r${i}`)].sort());
      expect(unknown.some((r) => r.ref === lost.seq)).toBe(true);
    });
  });

  it("a log written before the log was the only truth (counter_event and pending tables) is migrated on start", async () => {
    const stub = env.GRANTS.get(env.GRANTS.idFromName(`legacy-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      // Schema 1 + 2, as objects of an earlier version hold it.
      sql.exec("CREATE TABLE grant_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
      sql.exec("CREATE TABLE audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)");
      sql.exec(
        "CREATE TABLE counter_event (decision_seq INTEGER NOT NULL, counter TEXT NOT NULL, at INTEGER NOT NULL, amount REAL NOT NULL, PRIMARY KEY (decision_seq, counter)) WITHOUT ROWID",
      );
      sql.exec("CREATE TABLE pending (seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, request_id TEXT NOT NULL, at INTEGER NOT NULL)");
      sql.exec("CREATE TABLE session (id TEXT PRIMARY KEY, opened_seq INTEGER NOT NULL, last_used INTEGER NOT NULL DEFAULT 0)");
      sql.exec("CREATE TABLE task (id TEXT PRIMARY KEY, opened_seq INTEGER NOT NULL)");
      sql.exec("CREATE TABLE schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
      sql.exec("INSERT INTO schema VALUES (1, 2)");
      const policy = refundPolicy();
      const grant = {
        grantId: "legacy",
        label: "old agent",
        serverId: "srv-1",
        policyName: "refunds",
        created: new Date().toISOString(),
        tokenHash: sha256(TOKEN),
        upstream: { serverId: "srv-1", serverName: "billing", url: "https://upstream.test/mcp", headers: {}, version: 1 },
        policy: { name: policy.name, version: policy.version, document: policy.document },
        revoked: null,
        rotated: null,
      };
      sql.exec("INSERT INTO grant_state VALUES (1, ?)", JSON.stringify(grant));
      let prevHash = "0".repeat(64);
      const now = Date.now();
      for (let seq = 1; seq <= 10; seq++) {
        const record = sealRecordJson({ ...legacyDraft(seq, new Date(now - 1000 + seq).toISOString()) }, prevHash);
        prevHash = record.hash;
        sql.exec("INSERT INTO audit VALUES (?, ?)", seq, record.json);
        sql.exec("INSERT INTO counter_event VALUES (?, 'create_refund_rate', ?, 1)", seq, now - 1000 + seq);
      }
      sql.exec("INSERT INTO pending VALUES (10, 10, 'req-10', ?)", now - 990);

      const migrated = new GrantObject(state, env);
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name IN ('counter_event', 'pending')").toArray()).toEqual([]);
      expect(allowed(await migrated.gate(gateRequest([call("create_refund", { amount: 1 })]))).decisions[0]).toMatchObject({ code: "rate_limited" });
      expect(await migrated.verifyAudit()).toEqual({ ok: true, count: 11 });
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(now + 3 * 60 * 1000);
      await migrated.alarm();
      vi.useRealTimers();
      expect((await migrated.readAudit(10, 100)).records.filter((r) => r.decision === "unknown").map((r) => r.ref)).toEqual([10]);
    });
  });

  it("a new instance rebuilds counters, sessions, pending and the chain from SQLite", async () => {
    const { stub } = await provisioned();
    for (let i = 0; i < 10; i++) await stub.gate(gateRequest([call("create_refund", { amount: 1 })]));
    const init = allowed(await stub.gate(gateRequest([{ kind: "request", method: "initialize", id: 0 }])));
    await stub.bindSession(init.seq, "s-keep");
    await runInDurableObject(stub, async (_instance, state) => {
      const fresh = new GrantObject(state, env);
      const denied = allowed(await fresh.gate(gateRequest([call("create_refund", { amount: 1 })], { sessionId: "s-keep" })));
      expect(denied.decisions[0]).toMatchObject({ outcome: "deny", code: "rate_limited" });
      expect(await fresh.verifyAudit()).toEqual({ ok: true, count: 13 });
      expect(denied.seq).toBe(13);
    });
  });
});

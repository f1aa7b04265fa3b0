// The pure rules of approvals: which request a call meets and what it gets, what a verdict may
// change, the records of each step, the webhook's body and signature, and the retry schedule.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/canonical-json";
import { sha256Hex } from "../../../src/digest";
import { changeRecord, planVerdict, verdictRecord } from "../../../src/grant/approval-records";
import { retryAt, webhookBody, webhookSignature } from "../../../src/grant/approval-webhook";
import { currentStatus, decideApproval, MAX_APPROVAL_ARGUMENT_CHARS, type ApprovalContext, type StoredApproval } from "../../../src/grant/approvals";
import type { PolicyRef } from "../../../src/grant/protocol";
import { parseBody, serializeBody } from "../../../src/mcp/jsonrpc";
import { APPROVAL_ID_SHAPE, grantOfApprovalId, newApprovalId } from "../../../src/grant/token";
import { durationSeconds } from "../../../src/policy/duration";
import { expiryLabel } from "../../../src/gateway/hold";

const NOW = Date.parse("2026-08-01T12:00:00Z");
const POLICY: PolicyRef = { name: "payments", version: 3, sha256: "a".repeat(64) };
const NEED = { rule: "/tools/refund/approve_if/0", message: "Refunds above 500 need a person.", timeoutSeconds: 600 };
const ARGS = { amount: 900, iban: "DE89" };
const HASH = sha256Hex(canonicalJson(ARGS));
const GRANT = { grantId: `g${"1".repeat(32)}`, label: "refund-bot", serverId: "payments" };

function stored(overrides: Partial<StoredApproval> = {}): StoredApproval {
  return {
    id: "apr_old",
    tool: "refund",
    argsSha256: HASH,
    args: canonicalJson(ARGS),
    policy: POLICY,
    rule: NEED.rule,
    message: NEED.message,
    status: "pending",
    requested: NOW - 60_000,
    expires: NOW + 540_000,
    decided: null,
    decidedBy: null,
    reason: null,
    requestId: "req-0",
    link: null,
    ...overrides,
  };
}

function context(latest: StoredApproval | null, overrides: Partial<ApprovalContext> = {}): ApprovalContext {
  return { latest: () => latest, newId: () => "apr_new", policy: POLICY, origin: "https://gw.test", eventsFor: () => [], now: NOW, ...overrides };
}

const call = { tool: "refund", args: ARGS, argKeys: ["amount", "iban"], requestId: "req-1" };
const decide = (latest: StoredApproval | null, overrides: Partial<ApprovalContext> = {}) => decideApproval(NEED, [], call, context(latest, overrides));

/** What the call gets: forward, or the denial code and the approval it names. */
function outcome(latest: StoredApproval | null, overrides: Partial<ApprovalContext> = {}): string {
  const d = decide(latest, overrides);
  if (d.kind === "forward") return `forward ${d.approval.id} [${d.changes.map((c) => c.kind).join(",")}]`;
  return `${d.denial.code} ${d.denial.approval?.id ?? "-"} [${d.changes.map((c) => `${c.kind}:${c.approval.id}`).join(",")}]`;
}

describe("what a call that needs approval gets, given the latest request for exactly that call", () => {
  it.each<[string, StoredApproval | null, string]>([
    ["no request yet: one opens", null, "approval_pending apr_new [open:apr_new]"],
    ["pending: the same request, nothing new", stored(), "approval_pending apr_old []"],
    ["approved: consumed and forwarded", stored({ status: "approved", args: null }), "forward apr_old [consume]"],
    ["rejected: the rejection", stored({ status: "rejected", reason: "no" }), "approval_rejected apr_old []"],
    ["consumed: a new request", stored({ status: "consumed" }), "approval_pending apr_new [open:apr_new]"],
    ["expired (recorded): a new request", stored({ status: "expired" }), "approval_pending apr_new [open:apr_new]"],
    ["pending past its expiry: marked expired, a new request", stored({ expires: NOW }), "approval_pending apr_new [expire:apr_old,open:apr_new]"],
    [
      "approved but past its expiry: expired, a new request",
      stored({ status: "approved", expires: NOW - 1 }),
      "approval_pending apr_new [expire:apr_old,open:apr_new]",
    ],
    ["rejected long ago: a new request", stored({ status: "rejected", expires: NOW - 1 }), "approval_pending apr_new [open:apr_new]"],
    [
      "approved under another policy version: void, a new request",
      stored({ status: "approved", policy: { ...POLICY, version: 2 } }),
      "approval_pending apr_new [expire:apr_old,open:apr_new]",
    ],
    [
      "approved under a document with another digest: void",
      stored({ status: "approved", policy: { ...POLICY, sha256: "b".repeat(64) } }),
      "approval_pending apr_new [expire:apr_old,open:apr_new]",
    ],
  ])("%s", (_d, latest, expected) => {
    expect(outcome(latest)).toBe(expected);
  });

  it("an opened request holds the values, the hash, the policy, the link and its expiry", () => {
    const d = decide(null);
    const opened = d.changes[0]!.approval;
    expect(opened).toMatchObject({
      id: "apr_new",
      argsSha256: HASH,
      args: '{"amount":900,"iban":"DE89"}',
      policy: POLICY,
      requested: NOW,
      expires: NOW + 600_000,
      link: "https://gw.test/admin/approvals/apr_new",
    });
    expect(d.kind === "deny" && d.denial).toMatchObject({
      message: "Waiting for approval (apr_new). Call again with the same arguments once it is approved.",
      retryAfter: 30,
      approval: { id: "apr_new", expiresAt: "2026-08-01T12:10:00.000Z" },
    });
  });

  it("the hash is of canonical JSON: key order does not matter, a changed byte does", () => {
    const seen: string[] = [];
    const latest = (_tool: string, hash: string) => {
      seen.push(hash);
      return null;
    };
    decideApproval(NEED, [], { ...call, args: { iban: "DE89", amount: 900 } }, context(null, { latest }));
    decideApproval(NEED, [], { ...call, args: { iban: "DE89", amount: 901 } }, context(null, { latest }));
    expect(seen).toEqual([HASH, sha256Hex('{"amount":901,"iban":"DE89"}')]);
  });

  it("spellings of one value share an approval, and the upstream gets that value: what the approver saw", () => {
    // Escapes, key order, -0, 1.0, 9e2 and integers past 2^53 all parse to one value; the body
    // forwarded is that value re-serialized, so an approval never covers a value it did not show.
    const bodies = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"a":900,"b":0,"c":"A","d":9007199254740992}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"d":9007199254740993,"c":"\\u0041","b":-0,"a":9.0e2}}}',
    ];
    const texts = bodies.map((text) => {
      const parsed = parseBody(text);
      if (!parsed.ok || parsed.value.kind !== "single") throw new Error("not one message");
      const args = parsed.value.message.kind === "request" ? parsed.value.message.call!.args : {};
      const forwarded = JSON.parse(serializeBody(parsed.value)).params.arguments;
      expect(forwarded).toEqual(JSON.parse(canonicalJson(args)));
      return canonicalJson(args);
    });
    expect(texts[1]).toBe(texts[0]);
    expect(Object.is(JSON.parse(texts[0]!).b, 0)).toBe(true);
  });

  it("the rejection says the approver's reason, else the rule's on_deny", () => {
    const withReason = decide(stored({ status: "rejected", reason: "Account on hold." }));
    const without = decide(stored({ status: "rejected" }));
    expect(withReason.kind === "deny" && withReason.denial.message).toBe("Account on hold.");
    expect(without.kind === "deny" && without.denial.message).toBe(NEED.message);
  });

  it("an approved call over a limit is refused without consuming the approval", () => {
    const limit = { rule: "/tools/refund/limits/0", counter: "r", windowSeconds: 60, max: 1, cost: 1, scope: "grant" as const };
    const d = decideApproval(NEED, [limit], call, context(stored({ status: "approved" }), { eventsFor: () => [{ at: NOW - 1000, amount: 1, total: 1 }] }));
    expect(d).toMatchObject({ kind: "deny", denial: { code: "rate_limited" }, changes: [] });
  });

  it("arguments too large to show an approver cannot be approved", () => {
    const d = decideApproval(NEED, [], { ...call, args: { blob: "x".repeat(MAX_APPROVAL_ARGUMENT_CHARS) } }, context(null));
    expect(d).toMatchObject({ kind: "deny", denial: { code: "approval_too_large" }, changes: [] });
  });

  it("a request still marked open stands only under the same policy and before its expiry", () => {
    expect(currentStatus(stored(), NOW, POLICY)).toEqual({ status: "pending", why: null });
    expect(currentStatus(stored(), NOW, null).status).toBe("expired");
    expect(currentStatus(stored({ expires: NOW }), NOW, POLICY).why).toBe("nobody decided before 2026-08-01T12:00:00.000Z");
    expect(currentStatus(stored({ status: "rejected", expires: 0 }), NOW, POLICY).status).toBe("rejected");
  });
});

describe("verdicts", () => {
  it("the first decision wins and erases the values", () => {
    const plan = planVerdict(stored(), "approve", NOW, POLICY, "admin", "ok");
    expect(plan).toEqual({ ok: true, value: { next: { ...stored(), status: "approved", args: null, decided: NOW, decidedBy: "admin", reason: "ok" } } });
    expect(planVerdict(stored({ status: "rejected" }), "approve", NOW, POLICY, "admin", null)).toEqual({ ok: false, error: { code: "decided" } });
    expect(planVerdict(stored({ status: "consumed" }), "reject", NOW, POLICY, "admin", null)).toEqual({ ok: false, error: { code: "decided" } });
  });

  it("an expired or void request cannot be decided, and is to be recorded as expired", () => {
    expect(planVerdict(stored({ expires: NOW }), "approve", NOW, POLICY, "admin", null)).toMatchObject({
      ok: false,
      error: { code: "expired", lapsed: expect.stringContaining("nobody decided") },
    });
    expect(planVerdict(stored({ status: "expired" }), "approve", NOW, POLICY, "admin", null)).toEqual({ ok: false, error: { code: "expired", lapsed: null } });
  });

  it("records name the request by id and hash, never by its values", () => {
    const next = stored({ status: "rejected", decidedBy: "admin", reason: "no", args: null });
    const records = [
      verdictRecord(GRANT, NOW, next),
      changeRecord(GRANT, NOW, { kind: "open", approval: stored(), argKeys: ["amount", "iban"] }),
      changeRecord(GRANT, NOW, { kind: "consume", approval: stored(), requestId: "req-9" }),
      changeRecord(GRANT, NOW, { kind: "expire", approval: stored(), why: "nobody decided" }),
    ];
    expect(records.map((r) => [r.type, r.decision])).toEqual([
      ["approval", "rejected"],
      ["approval", "requested"],
      ["approval", "consumed"],
      ["approval", "expired"],
    ]);
    expect(records[0]).toMatchObject({ message: "no", approval: { id: "apr_old", argsSha256: HASH, by: "admin" } });
    expect(records[1]).toMatchObject({ argKeys: ["amount", "iban"], requestId: "req-0", approval: { id: "apr_old", argsSha256: HASH } });
    expect(JSON.stringify(records)).not.toContain("DE89");
  });
});

describe("the webhook", () => {
  it("a Slack-compatible text with the values, the request in full, and an HMAC-SHA256 signature of the body", () => {
    const body = webhookBody(stored({ link: "https://gw.test/admin/approvals/apr_old", tool: "refund<x>" }), GRANT);
    const parsed = JSON.parse(body);
    expect(parsed.text).toContain("Approval needed: refund&lt;x&gt; for grant refund-bot (server payments)");
    expect(parsed.text).toContain('Arguments: {"amount":900,"iban":"DE89"}');
    expect(parsed.text).toContain("https://gw.test/admin/approvals/apr_old");
    expect(parsed.approval).toMatchObject({
      id: "apr_old",
      arguments: ARGS,
      argsSha256: HASH,
      grant: { id: GRANT.grantId, label: "refund-bot" },
      expires: "2026-08-01T12:09:00.000Z",
    });
    expect(webhookSignature("whsec_test", body)).toBe(createHmac("sha256", "whsec_test").update(body).digest("hex"));
  });

  it("retries back off, and stop at the request's expiry or after five retries", () => {
    expect(retryAt(1, NOW, NOW + 86_400_000)).toBe(NOW + 10_000);
    expect(retryAt(2, NOW, NOW + 86_400_000)).toBe(NOW + 60_000);
    expect(retryAt(5, NOW, NOW + 86_400_000)).toBe(NOW + 3_600_000);
    expect(retryAt(6, NOW, NOW + 86_400_000)).toBeNull();
    expect(retryAt(2, NOW, NOW + 30_000)).toBeNull();
  });
});

describe("ids, durations, labels", () => {
  it("an approval id names its grant and sorts by time", () => {
    const grantId = `g${"ab".repeat(16)}`;
    const early = newApprovalId(grantId, NOW);
    const late = newApprovalId(grantId, NOW + 1);
    expect(early).toMatch(APPROVAL_ID_SHAPE);
    expect(grantOfApprovalId(early)).toBe(grantId);
    expect(early < late).toBe(true);
    expect(grantOfApprovalId("apr_g123_abc")).toBeNull();
  });

  it.each<[string | number, number | null]>([
    ["30s", 30],
    ["15m", 900],
    ["24h", 86_400],
    ["7d", 604_800],
    [90, 90],
    ["0s", null],
    ["1.5h", null],
    [0, null],
    [2.5, null],
  ])("approval_timeout %s is %s seconds", (value, seconds) => {
    expect(durationSeconds(value)).toBe(seconds);
  });

  it("the expiry in progress messages: the time today, the date on another day", () => {
    expect(expiryLabel("2026-08-01T14:32:10.000Z", NOW)).toBe("14:32 UTC");
    expect(expiryLabel("2026-08-02T00:05:00.000Z", NOW)).toBe("2026-08-02 00:05 UTC");
  });
});

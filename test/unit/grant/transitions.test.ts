import { describe, expect, it } from "vitest";
import type { GrantProvision, PolicySnapshot } from "../../../src/grant/protocol";
import { SessionTable } from "../../../src/grant/sessions";
import type { GrantState } from "../../../src/grant/state";
import * as transitions from "../../../src/grant/transitions";
import { parsePolicy, policySha256 } from "../../../src/policy/schema";

const hash = (c: string) => c.repeat(64);
function snapshot(version: number, doc: unknown = { version: "1", default: "deny" }, name = "p"): PolicySnapshot {
  const parsed = parsePolicy(doc);
  if (!parsed.ok) throw new Error("bad policy");
  return { name, version, sha256: policySha256(parsed.value), document: parsed.value };
}
const upstream = (version = 1, serverId = "srv") => ({ serverId, serverName: "s", url: "https://u.test", headers: {}, version });
const provision = (overrides: Partial<GrantProvision> = {}): GrantProvision => ({
  grantId: "g1",
  label: "agent",
  serverId: "srv",
  policyName: "p",
  created: "2026-12-01T00:00:00.000Z",
  tokenHash: hash("a"),
  upstream: upstream(),
  policy: snapshot(1),
  ...overrides,
});
function state(): GrantState {
  const r = transitions.provision(null, provision());
  if (!r.ok || r.value === null) throw new Error("provision failed");
  return r.value.state;
}

describe("admin transitions are pure and name every refusal", () => {
  it("provision creates, then re-provisions the same grant; it refuses what does not fit", () => {
    expect(transitions.provision(null, provision())).toMatchObject({ ok: true, value: { action: "provision" } });
    expect(transitions.provision(state(), provision({ label: "again" }))).toMatchObject({
      ok: true,
      value: { action: "reprovision", state: { label: "again" } },
    });
    expect(transitions.provision(state(), provision({ grantId: "g2" }))).toEqual({ ok: false, error: { code: "grant_mismatch", holds: "g1" } });
    expect(transitions.provision(null, provision({ tokenHash: "XYZ" }))).toEqual({ ok: false, error: { code: "invalid_token_hash" } });
    expect(transitions.provision(null, provision({ upstream: upstream(1, "other") }))).toEqual({ ok: false, error: { code: "server_mismatch" } });
    expect(transitions.provision(null, provision({ policyName: "q" }))).toEqual({ ok: false, error: { code: "policy_mismatch" } });
    expect(transitions.provision(null, provision({ policy: { ...snapshot(1), sha256: hash("b") } }))).toEqual({
      ok: false,
      error: { code: "policy_mismatch" },
    });
    expect(transitions.provision(null, provision({ policy: { ...snapshot(1), document: { version: "2" } as never } }))).toEqual({
      ok: false,
      error: { code: "invalid_policy" },
    });
  });

  it("revocation is final and idempotent", () => {
    const revoked = transitions.revoke(state(), "2026-12-01T01:00:00.000Z");
    if (!revoked.ok || revoked.value === null) throw new Error("revoke failed");
    const after = revoked.value.state;
    expect(transitions.revoke(after, "later")).toEqual({ ok: true, value: null });
    expect(transitions.rotate(after, hash("c"), "later")).toEqual({ ok: false, error: { code: "revoked", revoked: "2026-12-01T01:00:00.000Z" } });
    expect(transitions.provision(after, provision())).toMatchObject({ ok: false, error: { code: "revoked" } });
  });

  it("nothing but provision works on a grant that was never provisioned", () => {
    for (const result of [
      transitions.rotate(null, hash("c"), "t"),
      transitions.revoke(null, "t"),
      transitions.setLabel(null, "x"),
      transitions.setPolicy(null, null, null),
      transitions.setUpstream(null, upstream()),
    ]) {
      expect(result).toEqual({ ok: false, error: { code: "not_provisioned" } });
    }
  });

  it("a grant never goes back to an older policy version or upstream", () => {
    const s = state();
    const v3 = transitions.setPolicy(s, "p", snapshot(3));
    if (!v3.ok || v3.value === null) throw new Error("setPolicy failed");
    expect(transitions.setPolicy(v3.value.state, "p", snapshot(2))).toEqual({ ok: true, value: null });
    expect(transitions.setPolicy(v3.value.state, "other", snapshot(1, undefined, "other"))).toMatchObject({ ok: true, value: { action: "set_policy" } });
    const up = transitions.setUpstream(s, upstream(5));
    if (!up.ok || up.value === null) throw new Error("setUpstream failed");
    expect(transitions.setUpstream(up.value.state, upstream(4))).toEqual({ ok: true, value: null });
    expect(transitions.setUpstream(up.value.state, upstream(5))).toMatchObject({ ok: true, value: { action: "set_upstream" } });
  });

  it("records carry no secret: an upstream's URL and headers never reach the detail", () => {
    const r = transitions.setUpstream(state(), { ...upstream(2), url: "https://u.test/?key=secret", headers: { authorization: "Bearer secret" } });
    expect(JSON.stringify(r.ok && r.value?.detail)).not.toContain("secret");
  });
});

describe("sessions expire when idle", () => {
  it("open, used, expired; last-use times are written only when stale enough", () => {
    const table = new SessionTable(24_000);
    table.open("s", 0);
    expect(table.check("s", 23_000)).toBe("open");
    expect(table.touch("s", 500)).toBe(false);
    expect(table.touch("s", 1_500)).toBe(true);
    expect(table.check("s", 1_500 + 24_001)).toBe("expired");
    expect(table.check("t", 0)).toBe("unknown");
    expect(table.close("s")).toBe(true);
    expect(table.check("s", 0)).toBe("unknown");
  });
});

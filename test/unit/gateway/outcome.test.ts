import { describe, expect, it } from "vitest";
import { upstreamOutcome, type UpstreamAttempt } from "../../../src/gateway/outcome";
import { describeRejection } from "../../../src/gateway/rejection";
import { sessionChange } from "../../../src/gateway/session";
import { classifyMessage, type JsonRpcMessage } from "../../../src/mcp/jsonrpc";

const answered = (status: number, headers: Record<string, string> = {}): UpstreamAttempt => ({ kind: "answered", status, headers: new Headers(headers) });

describe("what the upstream's answer means", () => {
  it.each<[string, UpstreamAttempt, { kind: string; status?: number; code?: number; patch: object }]>([
    [
      "refused before the body left",
      { kind: "failed", failure: { error: "upstream_unreachable", received: false } },
      { kind: "reject", status: 502, code: -32007, patch: { error: "upstream_unreachable", upstreamReceived: false } },
    ],
    [
      "lost after the body left",
      { kind: "failed", failure: { error: "upstream_connection_lost", received: true } },
      { kind: "reject", status: 502, code: -32004, patch: { error: "upstream_connection_lost", upstreamReceived: true } },
    ],
    [
      "no headers in time",
      { kind: "failed", failure: { error: "upstream_timeout", received: true } },
      { kind: "reject", status: 504, code: -32002, patch: { error: "upstream_timeout", upstreamReceived: true } },
    ],
    [
      "the agent left",
      { kind: "failed", failure: { error: "client_cancelled", received: true } },
      { kind: "cancelled", patch: { error: "client_cancelled", upstreamReceived: true } },
    ],
    ["401", answered(401), { kind: "reject", status: 502, code: -32003, patch: { status: 401, error: "upstream_auth" } }],
    [
      "403 with a challenge",
      answered(403, { "www-authenticate": "Bearer" }),
      { kind: "reject", status: 502, code: -32003, patch: { status: 403, error: "upstream_auth" } },
    ],
    ["307", answered(307, { location: "http://elsewhere" }), { kind: "reject", status: 502, code: -32004, patch: { status: 307, error: "upstream_redirect" } }],
    ["500", answered(500), { kind: "reject", status: 502, code: -32004, patch: { status: 500, error: "upstream_error" } }],
    ["403 without a challenge is the upstream's own answer", answered(403), { kind: "relay", patch: { status: 403 } }],
    ["404 (an expired session)", answered(404), { kind: "relay", patch: { status: 404 } }],
    ["200", answered(200), { kind: "relay", patch: { status: 200 } }],
    ["202", answered(202), { kind: "relay", patch: { status: 202 } }],
  ])("%s", (_name, attempt, expected) => {
    const step = upstreamOutcome(attempt, 7, "billing");
    expect(step.kind).toBe(expected.kind);
    expect(step.patch).toEqual(expected.patch);
    if (step.kind === "reject") {
      const wire = describeRejection(step.rejection);
      expect(wire).toMatchObject({ status: expected.status, code: expected.code, id: 7, event: "upstream_failure" });
      expect(wire.message).toContain('"billing"');
    }
  });
});

describe("session rules", () => {
  const m = (value: unknown): JsonRpcMessage => {
    const c = classifyMessage(value);
    if (!c.ok) throw new Error(c.error.message);
    return c.value;
  };
  const initialize = m({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
  const ping = m({ jsonrpc: "2.0", id: 1, method: "ping" });

  it("binds the id an upstream mints on a successful initialize, and nothing else", () => {
    expect(sessionChange("POST", [initialize], null, { ok: true, sessionId: "s1" })).toEqual({ open: "s1", close: null });
    expect(sessionChange("POST", [initialize], null, { ok: false, sessionId: "s1" })).toEqual({ open: null, close: null });
    expect(sessionChange("POST", [initialize], null, { ok: true, sessionId: "" })).toEqual({ open: null, close: null });
    expect(sessionChange("POST", [ping], null, { ok: true, sessionId: "s2" })).toEqual({ open: null, close: null });
  });

  it("ends a session on a successful DELETE only", () => {
    expect(sessionChange("DELETE", [], "s1", { ok: true, sessionId: null })).toEqual({ open: null, close: "s1" });
    expect(sessionChange("DELETE", [], "s1", { ok: false, sessionId: null })).toEqual({ open: null, close: null });
    expect(sessionChange("GET", [], "s1", { ok: true, sessionId: null })).toEqual({ open: null, close: null });
  });
});

describe("the rejection table", () => {
  it("gives every gateway code one meaning", () => {
    const rejections = [
      { kind: "method_not_allowed" },
      { kind: "origin_forbidden" },
      { kind: "unauthenticated" },
      { kind: "unsupported_media_type", message: "m" },
      { kind: "body_too_large", limit: 1 },
      { kind: "unknown_session" },
      { kind: "policy_unavailable", id: null, toolCall: null, stateless: false },
      { kind: "upstream_unreachable", id: null, server: "s" },
      { kind: "upstream_timeout", id: null, server: "s" },
      { kind: "upstream_auth", id: null, server: "s" },
      { kind: "response_too_large", id: null, server: "s", limit: 1 },
    ] as const;
    const codes = rejections.map((r) => describeRejection(r).code);
    expect(new Set(codes.filter((c) => c !== -32600)).size).toBe(codes.filter((c) => c !== -32600).length);
    expect(describeRejection({ kind: "unknown_session" })).toMatchObject({ status: 404, code: -32001 });
    expect(describeRejection({ kind: "not_configured", what: "GRANT_ID_SECRET" })).toMatchObject({ status: 503, event: "fail_closed" });
  });
});

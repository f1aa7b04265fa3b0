// The approvals inbox's pure part: the order requests are shown in, how a value is shown to the
// person deciding (what the call carries, nothing hidden), and what a losing decision says.
import { describe, expect, it } from "vitest";
import type { ApprovalStatus, ApprovalView } from "../../../src/grant/approvals";
import { argumentRows, firstDecision, RECENT_DECIDED, shownValue, sortInbox } from "../../../src/console/inbox";

function view(id: string, status: ApprovalStatus, expires: string, decided: string | null = null): ApprovalView {
  return {
    id,
    grantId: "g1",
    grantLabel: "bot",
    serverId: "s",
    tool: "deploy",
    status,
    argsSha256: "0".repeat(64),
    policy: { name: "p", version: 1, sha256: "0".repeat(64) },
    rule: "/tools/deploy/approve",
    message: "needs approval",
    requested: "2026-08-01T10:00:00.000Z",
    expires,
    decided,
    decidedBy: decided === null ? null : "admin",
    reason: null,
    link: null,
  };
}

describe("sortInbox", () => {
  it("puts pending requests first, soonest expiry on top, then the most recently decided", () => {
    const inbox = sortInbox([
      view("a", "approved", "2026-08-01T12:00:00.000Z", "2026-08-01T10:05:00.000Z"),
      view("b", "pending", "2026-08-01T11:00:00.000Z"),
      view("c", "expired", "2026-08-01T10:30:00.000Z"),
      view("d", "pending", "2026-08-01T10:20:00.000Z"),
      view("e", "rejected", "2026-08-01T12:00:00.000Z", "2026-08-01T10:40:00.000Z"),
      view("f", "consumed", "2026-08-01T12:00:00.000Z", "2026-08-01T10:01:00.000Z"),
    ]);
    expect(inbox.pending.map((v) => v.id)).toEqual(["d", "b"]);
    // An expired request counts from its expiry.
    expect(inbox.decided.map((v) => v.id)).toEqual(["e", "c", "a", "f"]);
  });

  it("keeps only the most recent decisions", () => {
    const many = Array.from({ length: RECENT_DECIDED + 5 }, (_, i) =>
      view(`r${i}`, "rejected", "2026-08-02T00:00:00.000Z", `2026-08-01T10:${String(i).padStart(2, "0")}:00.000Z`),
    );
    const { decided } = sortInbox(many);
    expect(decided).toHaveLength(RECENT_DECIDED);
    expect(decided[0]!.id).toBe(`r${RECENT_DECIDED + 4}`);
  });
});

describe("shownValue and argumentRows", () => {
  it.each([
    ["text is quoted, markup left for JSX to escape", "<script>x</script>", '"<script>x</script>"'],
    ["a number stays a number, not the text of one", 900, "900"],
    ["the text of a number is quoted", "900", '"900"'],
    ["control characters are JSON escapes", "a\nb\u0007", '"a\\nb\\u0007"'],
    ["a right-to-left override is spelled out", "safe\u202Etxt.exe", '"safe\\u{202E}txt.exe"'],
    ["zero-width and line separators too", "a\u200Bb\u2028c\uFEFF", '"a\\u{200B}b\\u{2028}c\\u{FEFF}"'],
    ["null", null, "null"],
    ["objects are indented", { a: [1, "x"] }, '{\n  "a": [\n    1,\n    "x"\n  ]\n}'],
  ])("%s", (_, value, shown) => {
    expect(shownValue(value)).toBe(shown);
  });

  it("names are shown without quotes but with the same escapes, in the call's order", () => {
    expect(argumentRows({ z: 1, "a\u202Eb": "v", "<b>": true })).toEqual([
      { name: "z", value: "1" },
      { name: "a\\u{202E}b", value: '"v"' },
      { name: "<b>", value: "true" },
    ]);
  });
});

describe("firstDecision", () => {
  const decided = { ...view("a", "rejected", "2026-08-01T12:00:00.000Z", "2026-08-01T10:05:00.000Z"), reason: "Over budget." };

  it("names who decided first, when and why", () => {
    expect(firstDecision("approval_decided", decided)).toBe(
      "It was already rejected by admin at 2026-08-01T10:05:00.000Z, reason: “Over budget.”. The first decision stands.",
    );
    expect(firstDecision("approval_decided", { ...decided, status: "consumed", reason: null })).toBe(
      "It was already approved, and used by the agent's call, by admin at 2026-08-01T10:05:00.000Z (no reason given). The first decision stands.",
    );
  });

  it("says an expired request expired, and nothing for other refusals or details it cannot read", () => {
    expect(firstDecision("approval_expired", view("b", "expired", "2026-08-01T11:00:00.000Z"))).toMatch(
      /^It expired at 2026-08-01T11:00:00.000Z, or its policy changed/,
    );
    expect(firstDecision("invalid_body", decided)).toBeNull();
    expect(firstDecision("approval_decided", undefined)).toBeNull();
    expect(firstDecision("approval_decided", [{ path: "/reason" }])).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import type { AuditRecord } from "../../../src/grant/protocol";
import { auditRow, matches, parseInterval, parseSince } from "../../../src/cli/audit-query";
import { colourWanted, displayWidth, palette, printable, table } from "../../../src/cli/style";

describe("colour", () => {
  it.each([
    [{ isTTY: true }, {}, false, true],
    [{ isTTY: false }, {}, false, false],
    [{ isTTY: true }, { NO_COLOR: "1" }, false, false],
    [{ isTTY: true }, { NO_COLOR: "" }, false, true],
    [{ isTTY: false }, { FORCE_COLOR: "1" }, false, true],
    [{ isTTY: false }, { FORCE_COLOR: "0" }, false, false],
    [{ isTTY: true }, { FORCE_COLOR: "1", NO_COLOR: "1" }, false, false],
    [{ isTTY: true }, { TERM: "dumb" }, false, false],
    [{ isTTY: true }, { FORCE_COLOR: "1" }, true, false],
  ])("%j %j --no-color=%s → %s", (stream, env, flag, expected) => expect(colourWanted(stream, env, flag)).toBe(expected));
});

describe("table", () => {
  it("aligns columns by what the terminal shows, ignoring colour", () => {
    const colours = palette(true);
    const out = table(
      ["name", "risk", "note"],
      [
        ["a", colours.red("critical"), "x"],
        ["longer", "low", ""],
      ],
      colours,
    );
    const lines = out.split("\n").map((line) => line.replace(/\u001b\[[0-9;]*m/g, ""));
    expect(lines).toEqual(["NAME    RISK      NOTE", "a       critical  x", "longer  low", ""]);
    expect(displayWidth(colours.bold("héllo"))).toBe(5);
  });

  it("makes control characters from the gateway visible instead of letting them reach the terminal", () => {
    expect(printable("tool\u001b]0;pwned\u0007\nname")).toBe("tool\\u001b]0;pwned\\u0007\\u000aname");
  });
});

describe("audit queries", () => {
  const now = new Date("2026-05-01T12:00:00.000Z");
  it("reads --since and --interval", () => {
    expect(parseSince("90s", now)).toEqual({ ok: true, value: "2026-05-01T11:58:30.000Z" });
    expect(parseSince("1h", now)).toEqual({ ok: true, value: "2026-05-01T11:00:00.000Z" });
    expect(parseSince("2026-04-30T00:00:00Z", now)).toEqual({ ok: true, value: "2026-04-30T00:00:00.000Z" });
    expect(parseSince("yesterday", now).ok).toBe(false);
    expect(parseInterval("500ms")).toEqual({ ok: true, value: 500 });
    expect(parseInterval("2s")).toEqual({ ok: true, value: 2000 });
    expect(parseInterval("10ms").ok).toBe(false);
  });

  const record = (fields: Partial<AuditRecord>): AuditRecord => ({
    seq: 1,
    time: "2026-05-01T11:30:00.000Z",
    type: "decision",
    requestId: null,
    grantId: "g",
    label: "l",
    serverId: "s",
    httpMethod: "POST",
    rpcMethod: "tools/call",
    rpcId: 1,
    tool: "pay",
    policy: null,
    decision: "deny",
    code: "deny_if",
    rule: "/tools/pay/deny_if/0",
    message: "too much",
    argKeys: ["amount"],
    ref: null,
    status: null,
    latencyMs: null,
    prevHash: "0",
    hash: "1",
    ...fields,
  });

  it("filters on decision, tool and time", () => {
    const filter = { decisions: new Set(["deny"]), tool: "pay", since: "2026-05-01T11:00:00.000Z" };
    expect(matches(record({}), filter)).toBe(true);
    expect(matches(record({ decision: "allow" }), filter)).toBe(false);
    expect(matches(record({ tool: "refund" }), filter)).toBe(false);
    expect(matches(record({ time: "2026-05-01T10:59:59.999Z" }), filter)).toBe(false);
    expect(matches(record({}), { decisions: null, tool: null, since: null })).toBe(true);
  });

  it("shows decisions and outcomes as rows", () => {
    const plain = palette(false);
    expect(auditRow(record({}), plain)).toEqual(["1", "2026-05-01 11:30:00Z", "decision", "deny", "pay", "deny_if", "too much"]);
    expect(auditRow(record({ type: "outcome", decision: "ok", ref: 1, status: 200, latencyMs: 12, message: null, tool: null }), plain)).toEqual([
      "1",
      "2026-05-01 11:30:00Z",
      "outcome",
      "ok",
      "#1",
      "deny_if",
      "HTTP 200, 12 ms",
    ]);
    expect(auditRow(record({ message: null }), plain)[6]).toBe("args: amount");
  });
});

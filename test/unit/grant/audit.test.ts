import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH, recordHash, sealRecord, sealRecordJson, verifyChain, verifyServedLog, type AuditDraft } from "../../../src/grant/audit";
import type { AuditRecord } from "../../../src/grant/protocol";
import { canonicalJson } from "../../../src/canonical-json";

describe("canonicalJson", () => {
  it.each([
    { input: { b: 1, a: 2 }, expected: '{"a":2,"b":1}' },
    { input: { z: { y: 1, x: [{ d: 1, c: 2 }] } }, expected: '{"z":{"x":[{"c":2,"d":1}],"y":1}}' },
    { input: [3, "a", null, true], expected: '[3,"a",null,true]' },
    { input: { a: undefined, b: null }, expected: '{"b":null}' },
    { input: [undefined], expected: "[null]" },
    { input: { é: 1, Z: 2, a: 3 }, expected: '{"Z":2,"a":3,"é":1}' },
    { input: 'quote " and \n newline', expected: '"quote \\" and \\n newline"' },
    { input: 1.5e-7, expected: "1.5e-7" },
    { input: {}, expected: "{}" },
  ])("$expected", ({ input, expected }) => {
    expect(canonicalJson(input)).toBe(expected);
  });

  it("does not depend on the order keys were inserted in", () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });

  it("round-trips through JSON.parse to the same value", () => {
    const value = { b: [1, { d: "x", c: null }], a: "s" };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});

const draft = (seq: number, overrides: Partial<AuditDraft> = {}): AuditDraft => ({
  seq,
  time: new Date(1_700_000_000_000 + seq).toISOString(),
  type: "decision",
  requestId: `r${seq}`,
  grantId: "g1",
  label: "agent",
  serverId: "srv-1",
  httpMethod: "POST",
  rpcMethod: "tools/call",
  rpcId: seq,
  tool: "create_refund",
  policy: { name: "refunds", version: 2, sha256: "a".repeat(64) },
  decision: "allow",
  code: null,
  rule: null,
  message: null,
  argKeys: ["amount", "reason"],
  ref: null,
  status: null,
  latencyMs: null,
  ...overrides,
});

function chain(n: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const record = sealRecord(draft(seq), prev);
    records.push(record);
    prev = record.hash;
  }
  return records;
}

describe("hash chain", () => {
  it("stores the same record sealRecord builds, hash included", () => {
    const prev = sealRecord(draft(1), GENESIS_HASH).hash;
    const sealed = sealRecordJson(draft(2, { message: 'quote " and \\u2028 \u2028', argKeys: ["b", "a"] }), prev);
    const expected = sealRecord(draft(2, { message: 'quote " and \\u2028 \u2028', argKeys: ["b", "a"] }), prev);
    expect(JSON.parse(sealed.json)).toEqual(expected);
    expect(sealed.hash).toBe(expected.hash);
    expect(verifyChain([sealRecord(draft(1), GENESIS_HASH), JSON.parse(sealed.json) as AuditRecord]).ok).toBe(true);
  });

  it("hashes prevHash, a newline and the canonical record without its hash", () => {
    const record = sealRecord(draft(1), GENESIS_HASH);
    const { hash, ...rest } = record;
    const expected = createHash("sha256")
      .update(`${"0".repeat(64)}\n${canonicalJson(rest)}`)
      .digest("hex");
    expect(record.prevHash).toBe(GENESIS_HASH);
    expect(hash).toBe(expected);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(recordHash(rest)).toBe(hash);
  });

  it("links each record to the one before", () => {
    const records = chain(3);
    expect(records[1]?.prevHash).toBe(records[0]?.hash);
    expect(records[2]?.prevHash).toBe(records[1]?.hash);
    expect(verifyChain(records)).toEqual({ ok: true, count: 3, lastHash: records[2]?.hash });
  });

  it("an empty chain verifies", () => {
    expect(verifyChain([])).toEqual({ ok: true, count: 0, lastHash: GENESIS_HASH });
  });

  const tampers: Array<{ name: string; tamper: (r: AuditRecord[]) => AuditRecord[]; brokenAt: number }> = [
    { name: "a changed field", tamper: (r) => r.map((x) => (x.seq === 2 ? { ...x, decision: "deny" } : x)), brokenAt: 2 },
    { name: "a changed argKeys", tamper: (r) => r.map((x) => (x.seq === 3 ? { ...x, argKeys: [] } : x)), brokenAt: 3 },
    { name: "a removed record", tamper: (r) => r.filter((x) => x.seq !== 2), brokenAt: 3 },
    { name: "swapped records", tamper: (r) => [r[0]!, r[2]!, r[1]!, r[3]!], brokenAt: 3 },
    {
      name: "a record re-hashed on its own (the next link breaks)",
      tamper: (r) =>
        r.map((x) => {
          if (x.seq !== 2) return x;
          const { hash: _hash, prevHash, ...rest } = x;
          return sealRecord({ ...rest, message: "edited" }, prevHash);
        }),
      brokenAt: 3,
    },
    { name: "a forged first prevHash", tamper: (r) => [{ ...r[0]!, prevHash: "1".repeat(64) }, ...r.slice(1)], brokenAt: 1 },
  ];
  it.each(tampers)("detects $name", ({ tamper, brokenAt }) => {
    expect(verifyChain(tamper(chain(4)))).toEqual({ ok: false, brokenAt });
  });
});

/**
 * A log of `n` records in which retention deleted records 1..`through`: the records after it, with
 * the pruned record appended as retention appends it (src/grant/retention.ts).
 */
function prunedLog(n: number, through: number): AuditRecord[] {
  const all = chain(n);
  const marker = sealRecord(
    draft(n + 1, { type: "pruned", decision: "deleted", ref: through, headHash: all[through - 1]!.hash, message: "deleted" }),
    all.at(-1)!.hash,
  );
  return [...all.slice(through), marker];
}

/** Re-seals records from `from` on, after an edit: what someone who rewrites the rest of the chain does. */
function resealed(records: AuditRecord[], prevHash: string): AuditRecord[] {
  let prev = prevHash;
  return records.map(({ hash: _hash, prevHash: _prev, ...rest }) => {
    const record = sealRecord(rest, prev);
    prev = record.hash;
    return record;
  });
}

describe("verifyServedLog: the log as the admin API serves it (audit verify --local)", () => {
  it("a whole log starts at genesis", () => {
    expect(verifyServedLog(chain(4))).toEqual({ ok: true, count: 4, start: { seq: 0, hash: GENESIS_HASH } });
    expect(verifyServedLog([])).toMatchObject({ ok: true, count: 0 });
  });

  it("a log that retention cut starts at the hash its own pruned record names", () => {
    const log = prunedLog(6, 3);
    expect(log[0]!.seq).toBe(4);
    expect(verifyServedLog(log)).toEqual({ ok: true, count: 4, start: { seq: 3, hash: chain(3)[2]!.hash } });
    // Retention ran while the pages were read: the whole log, and a pruned record about a record in it.
    expect(verifyServedLog([...chain(6), log.at(-1)!])).toMatchObject({ ok: true, count: 7 });
  });

  it("refuses any other start", () => {
    const log = prunedLog(6, 3);
    const withoutMarker = log.slice(0, -1);
    expect(verifyServedLog(withoutMarker)).toMatchObject({ ok: false, brokenAt: 4, reason: expect.stringContaining("no pruned record says records up to 3") });
    // One more record cut from the front: the pruned record names record 3, not 4.
    expect(verifyServedLog(log.slice(1))).toMatchObject({ ok: false, brokenAt: 5 });
    // A pruned record about the right seq that names another hash.
    const forged = resealed([...withoutMarker, { ...log.at(-1)!, headHash: "1".repeat(64) }], log[0]!.prevHash);
    expect(verifyServedLog(forged)).toMatchObject({ ok: false, brokenAt: 4, reason: expect.stringContaining("does not link") });
    // A chain rewritten from its first kept record on, with an invented pruned record, is beyond any
    // chain check: only signed checkpoints and exports catch that (docs/audit.md); but its first
    // link must still hold.
    const rewritten = resealed(chain(6).slice(3), "2".repeat(64));
    const invented = sealRecord(draft(7, { type: "pruned", decision: "deleted", ref: 3, headHash: "2".repeat(64), message: "x" }), rewritten.at(-1)!.hash);
    expect(verifyServedLog([...rewritten, invented])).toMatchObject({ ok: true });
    expect(verifyServedLog([...rewritten.slice(0, 1), ...chain(6).slice(4), invented])).toMatchObject({ ok: false, brokenAt: 5 });
  });

  it("finds gaps, edits and a pruned record that contradicts a record the log holds", () => {
    const log = prunedLog(6, 3);
    expect(verifyServedLog(log.filter((r) => r.seq !== 5))).toMatchObject({ ok: false, brokenAt: 6, reason: expect.stringContaining("seq 6 follows seq 4") });
    expect(verifyServedLog(log.map((r) => (r.seq === 5 ? { ...r, decision: "deny" } : r)))).toMatchObject({ ok: false, brokenAt: 5 });
    const whole = chain(6);
    const wrong = sealRecord(draft(7, { type: "pruned", decision: "deleted", ref: 3, headHash: whole[1]!.hash, message: "x" }), whole[5]!.hash);
    expect(verifyServedLog([...whole, wrong])).toMatchObject({ ok: false, brokenAt: 7, reason: expect.stringContaining("names another hash for record 3") });
  });
});

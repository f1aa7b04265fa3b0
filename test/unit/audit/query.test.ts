// The audit reads the console (and GET /admin/grants/:id/audit's filters) are built on, over an
// in-memory log that answers like the grant's Durable Object: records after a seq, at most 1,000.
import { describe, expect, it } from "vitest";
import { hourlyCounts, lastSeq, pageBackward, pageForward, READ_PAGE, seqBefore, type ReadAudit } from "../../../src/audit/query";
import type { AuditRecord } from "../../../src/grant/protocol";

const T0 = Date.parse("2026-07-01T00:00:00.000Z");
const MINUTE = 60_000;

function record(seq: number, fields: Partial<AuditRecord>): AuditRecord {
  return {
    seq,
    time: new Date(T0 + seq * MINUTE).toISOString(),
    type: "decision",
    requestId: null,
    grantId: "g",
    label: "l",
    serverId: "s",
    httpMethod: "POST",
    rpcMethod: "tools/call",
    rpcId: seq,
    tool: "echo",
    policy: null,
    decision: "allow",
    code: null,
    rule: null,
    message: null,
    argKeys: [],
    ref: null,
    status: null,
    latencyMs: null,
    prevHash: "",
    hash: "",
    ...fields,
  };
}

/** A log like the Durable Object's, counting its reads. */
function memoryLog(records: AuditRecord[]) {
  const reads: [number, number][] = [];
  const read: ReadAudit = async (after, limit) => {
    reads.push([after, limit]);
    const rows = records.filter((r) => r.seq > after).slice(0, Math.min(limit, READ_PAGE) + 1);
    const page = rows.slice(0, Math.min(limit, READ_PAGE));
    return { records: page, next: rows.length > page.length ? (page.at(-1)?.seq ?? null) : null };
  };
  return { read, reads };
}

// 3,000 records, one a minute: every 3rd a deny, every 5th rate-limited, every 7th of tool "pay".
const LOG = Array.from({ length: 3000 }, (_, i) => {
  const seq = i + 1;
  if (seq % 5 === 0) return record(seq, { decision: "deny", code: "rate_limited" });
  if (seq % 3 === 0) return record(seq, { decision: "deny", code: "not_permitted" });
  return record(seq, { tool: seq % 7 === 0 ? "pay" : "echo" });
});

describe("lastSeq", () => {
  it("finds the end of a long log in logarithmically many reads", async () => {
    const log = memoryLog(LOG);
    expect(await lastSeq(log.read)).toBe(3000);
    expect(log.reads.length).toBeLessThan(20);
  });
  it("is 0 for an empty log", async () => {
    expect(await lastSeq(memoryLog([]).read)).toBe(0);
  });
});

describe("seqBefore", () => {
  it("points just before the first record at or after a time", async () => {
    const { read } = memoryLog(LOG);
    expect(await seqBefore(read, 3000, T0 + 100 * MINUTE)).toBe(99);
    expect(await seqBefore(read, 3000, T0)).toBe(0);
    expect(await seqBefore(read, 3000, T0 + 10_000 * MINUTE)).toBe(3000);
  });
});

describe("pageBackward", () => {
  it("pages newest first through a filter, and the pages join up without gaps", async () => {
    const { read } = memoryLog(LOG);
    const seen: number[] = [];
    let before: number | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page = await pageBackward(read, { decision: "deny", code: "rate_limited" }, before, 250, 10_000);
      seen.push(...page.records.map((r) => r.seq));
      if (page.next === null) break;
      before = page.next;
    }
    expect(seen).toEqual(
      LOG.filter((r) => r.code === "rate_limited")
        .map((r) => r.seq)
        .reverse(),
    );
  });

  it("filters by tool and time window", async () => {
    const { read } = memoryLog(LOG);
    const page = await pageBackward(read, { tool: "pay", since: T0 + 100 * MINUTE, until: T0 + 200 * MINUTE }, null, 100, 10_000);
    expect(page.records.map((r) => r.seq)).toEqual(
      LOG.filter((r) => r.tool === "pay" && r.seq >= 100 && r.seq < 200)
        .map((r) => r.seq)
        .reverse(),
    );
    expect(page.next).toBeNull();
  });

  it("stops at the scan budget and says where to go on", async () => {
    const { read } = memoryLog(LOG);
    const page = await pageBackward(read, { tool: "nothing" }, null, 10, 500);
    expect(page.records).toEqual([]);
    expect(page.next).toBe(2501);
  });
});

describe("pageForward", () => {
  it("pages oldest first through a filter without gaps, from a time", async () => {
    const { read } = memoryLog(LOG);
    const seen: number[] = [];
    let after = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = await pageForward(read, { decision: "allow", since: T0 + 1000 * MINUTE }, after, 300, 10_000);
      seen.push(...page.records.map((r) => r.seq));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(LOG.filter((r) => r.decision === "allow" && r.seq >= 1000).map((r) => r.seq));
  });
});

describe("hourlyCounts", () => {
  it("counts tools/call decisions per hour: allowed (with monitor), denied, rate-limited", async () => {
    const records = [
      record(1, { time: "2026-07-01T10:05:00.000Z" }),
      record(2, { time: "2026-07-01T10:06:00.000Z", decision: "monitor_deny", code: "deny_if" }),
      record(3, { time: "2026-07-01T11:00:00.000Z", decision: "deny", code: "rate_limited" }),
      record(4, { time: "2026-07-01T11:30:00.000Z", decision: "deny", code: "not_permitted" }),
      record(5, { time: "2026-07-01T11:31:00.000Z", type: "outcome", decision: "ok", status: 200 }),
      record(6, { time: "2026-07-01T11:32:00.000Z", rpcMethod: "tools/list" }),
      record(7, { time: "2026-07-01T11:59:59.999Z" }),
    ];
    const counts = await hourlyCounts(memoryLog(records).read, Date.parse("2026-07-01T11:45:00.000Z"), 24, 50_000);
    expect(counts.complete).toBe(true);
    expect(counts.hours).toHaveLength(24);
    expect(counts.hours.at(-1)).toEqual({ start: "2026-07-01T11:00:00.000Z", allowed: 1, denied: 1, rateLimited: 1 });
    expect(counts.hours.at(-2)).toEqual({ start: "2026-07-01T10:00:00.000Z", allowed: 2, denied: 0, rateLimited: 0 });
    expect(counts.hours[0]!.start).toBe("2026-06-30T12:00:00.000Z");
  });

  it("says it is incomplete when the budget runs out, having counted the newest first", async () => {
    const counts = await hourlyCounts(memoryLog(LOG).read, T0 + 3000 * MINUTE, 24, 100);
    expect(counts.complete).toBe(false);
    expect(counts.countedFrom).toBe(new Date(T0 + 2901 * MINUTE).toISOString());
    expect(counts.hours.reduce((sum, h) => sum + h.allowed + h.denied + h.rateLimited, 0)).toBe(100);
  });
});

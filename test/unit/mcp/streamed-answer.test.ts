import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonRpcId } from "../../../src/mcp/jsonrpc";
import { shapeUpstreamText } from "../../../src/mcp/shape";
import { StreamedAnswer, StreamedJsonBody } from "../../../src/mcp/streamed-answer";

const ids: ReadonlySet<JsonRpcId> = new Set<JsonRpcId>([1, "a"]);
const encoder = new TextEncoder();

function cut<T extends string | Uint8Array>(whole: T, at: number[]): T[] {
  const points = [...new Set(at.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  return [...points, whole.length].map((p, i, all) => whole.slice(i === 0 ? 0 : all[i - 1], p) as T);
}

/** Runs an answer through StreamedAnswer: what passed, and the verdict. */
function stream(text: string, at: number[] = []) {
  const answer = new StreamedAnswer(ids);
  let passed = "";
  for (const piece of cut(text, at)) {
    const written = answer.write(piece);
    if (!written.ok) return { passed, ok: false as const };
    passed += piece.slice(0, written.value);
  }
  const ended = answer.end();
  return ended.ok
    ? { passed, ok: true as const, answered: ended.value.answered, tasks: ended.value.createdTasks, release: ended.value.release }
    : { passed, ok: false as const };
}

describe("StreamedAnswer", () => {
  it("passes everything but the closing brace, which it releases once the whole answer passed", () => {
    const text = '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}  \n';
    const got = stream(text, [3, 30]);
    expect(got).toEqual({ passed: text.trimEnd().slice(0, -1), ok: true, answered: [1], tasks: [], release: "}" });
  });

  it.each([
    ["another id", '{"jsonrpc":"2.0","id":2,"result":{}}'],
    ["the id as a string", '{"jsonrpc":"2.0","id":"1","result":{}}'],
    ["a repeated id key", '{"jsonrpc":"2.0","id":1,"result":{},"id":1}'],
    ["an unknown member", '{"jsonrpc":"2.0","id":1,"result":{},"x":0}'],
    ["a result that is not an object", '{"jsonrpc":"2.0","id":1,"result":[]}'],
    ["an empty batch", "[]"],
    ["a batch with one bad answer", '[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":3,"result":{}}]'],
    ["text after the answer", '{"jsonrpc":"2.0","id":1,"result":{}} {}'],
  ])("refuses %s, and nothing complete has passed", (_name, text) => {
    const got = stream(text);
    expect(got.ok).toBe(false);
    expect(() => JSON.parse(got.passed)).toThrow();
  });

  it("refuses a top-level scalar at its first character", () => {
    const answer = new StreamedAnswer(ids);
    expect(answer.write("  ")).toEqual({ ok: true, value: 2 });
    expect(answer.write('"x')).toEqual({ ok: false, error: "not a JSON-RPC message" });
  });

  it("passes notifications, requests and an id-null error, and names the tasks a result created", () => {
    const batch = [
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } },
      { jsonrpc: "2.0", id: 9, method: "sampling/createMessage", params: {} },
      { jsonrpc: "2.0", id: null, error: { code: -32000, message: "bad" } },
      { jsonrpc: "2.0", id: "a", result: { task: { taskId: "t-1", status: "working" } } },
    ];
    expect(stream(JSON.stringify(batch))).toMatchObject({ ok: true, answered: ["a"], tasks: ["t-1"], release: "]" });
  });

  it("agrees with shapeUpstreamText on every answer that needs no shaping, however it is cut", () => {
    const id = fc.oneof(fc.constantFrom<unknown>(1, "a", "1", 2, null, 1.5), fc.jsonValue());
    const params = fc.oneof(fc.record({ name: fc.oneof(fc.string(), fc.integer()), arguments: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue());
    const result = fc.oneof(fc.constant({}), fc.record({ task: fc.record({ taskId: fc.oneof(fc.string(), fc.integer()) }) }), fc.jsonValue());
    const error = fc.oneof(
      fc.record({ code: fc.oneof(fc.integer(), fc.double()), message: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    const jsonrpc = fc.constantFrom<unknown>("2.0", "2.0", "2.0", "1.0", 2);
    // Mostly near-valid messages of each kind (so both verdicts are common), and anything at all.
    const message = fc.oneof(
      fc.record({ jsonrpc, id, result }),
      fc.record({ jsonrpc, id, error }),
      fc.record({ jsonrpc, id, method: fc.constantFrom<unknown>("tools/call", "ping", 3), params }, { requiredKeys: ["jsonrpc", "id", "method"] }),
      fc.record({ jsonrpc, method: fc.constantFrom("notifications/progress", "ping"), params }, { requiredKeys: ["jsonrpc", "method"] }),
      fc.record({ jsonrpc, id, method: fc.jsonValue(), params, result, error, extra: fc.jsonValue() }, { requiredKeys: [] }),
    );
    const shaping = { toolsListIds: new Set<JsonRpcId>(), isToolVisible: () => true, requestIds: ids, standIns: new Map<string, string>() };
    fc.assert(
      fc.property(fc.oneof(message, fc.array(message, { maxLength: 3 }), fc.jsonValue()), fc.array(fc.nat(), { maxLength: 6 }), (value, at) => {
        const text = JSON.stringify(value);
        const shaped = shapeUpstreamText(text, shaping);
        const got = stream(text, at);
        expect(got.ok).toBe(shaped !== null);
        if (got.ok) {
          expect(got.answered).toEqual(shaped!.answered);
          expect(got.passed + got.release).toBe(text);
        } else {
          expect(() => JSON.parse(got.passed)).toThrow();
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("StreamedJsonBody", () => {
  function body(bytes: Uint8Array, at: number[], maxBytes = 1 << 20) {
    const check = new StreamedJsonBody(ids, maxBytes);
    const parts: Uint8Array[] = [];
    // The first chunk holds at least three bytes, as the gateway's head always does.
    const chunks = cut(
      bytes,
      at.map((c) => 3 + (c % Math.max(1, bytes.length - 2))),
    );
    for (const chunk of chunks) {
      const passed = check.pass(chunk);
      if (!passed.ok) return { ok: false as const, error: passed.error, passed: Buffer.concat(parts) };
      parts.push(passed.value);
    }
    const ended = check.end();
    if (!ended.ok) return { ok: false as const, error: ended.error, passed: Buffer.concat(parts) };
    return { ok: true as const, passed: Buffer.concat([...parts, ended.value.release]) };
  }

  it("passes the bytes unchanged, multi-byte characters cut anywhere, less a BOM and trailing whitespace", () => {
    const text = fc.string({ unit: "grapheme" });
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (t, at, bom) => {
        const json = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: t }] } });
        const bytes = encoder.encode(`${bom ? "\ufeff" : ""}${json}\r\n`);
        const got = body(bytes, at);
        expect(got.ok).toBe(true);
        expect(got.passed.equals(Buffer.from(json))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses bytes that are not UTF-8, inside the answer or cut short at its end", () => {
    const good = encoder.encode('{"jsonrpc":"2.0","id":1,"result":{"t":"é"}}');
    const bad = Uint8Array.from([...good.slice(0, 36), 0xc3, 0x28, ...good.slice(38)]);
    expect(body(bad, [10])).toMatchObject({ ok: false, error: { kind: "invalid", reason: "not UTF-8" } });
    const cutShort = Uint8Array.from([...good, 0xc3]);
    expect(body(cutShort, [])).toMatchObject({ ok: false, error: { kind: "invalid", reason: "not UTF-8" } });
  });

  it("refuses a body past its limit", () => {
    const bytes = encoder.encode(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { t: "x".repeat(100) } }));
    expect(body(bytes, [50], 100)).toMatchObject({ ok: false, error: { kind: "too_large" } });
    expect(body(bytes, [50], bytes.length).ok).toBe(true);
  });
});

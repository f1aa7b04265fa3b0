import { createParser } from "eventsource-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../../src/mcp/json";
import { classifyMessage, parseBody } from "../../../src/mcp/jsonrpc";
import { serializeSseEvent, sseTransform, type SseEvent } from "../../../src/mcp/sse";
import { codeUnitString, jsonTokenSoup as jsonTokenSoupOf, mutatedJson } from "../../support/json-arbitraries";

const runs = { numRuns: 500 };

const jsonTokenSoup = jsonTokenSoupOf();

const anyText = fc.oneof(fc.string(), fc.string({ unit: "binary" }), codeUnitString, jsonTokenSoup, mutatedJson);

/** True when no object in the value has two keys equal under case folding, or a NUL in a key. */
function foldUnique(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(foldUnique);
  if (typeof value !== "object" || value === null) return true;
  const keys = Object.keys(value);
  const folded = new Set(keys.map((key) => key.toUpperCase().toLowerCase()));
  return folded.size === keys.length && keys.every((key) => !key.includes("\0")) && Object.values(value).every(foldUnique);
}

describe("parseStrictJson, on arbitrary input", () => {
  it("never throws", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        parseStrictJson(text);
      }),
      runs,
    );
  });

  it("reads every JSON value without case-duplicate keys exactly as JSON.parse does", () => {
    const value = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: "binary" }), fc.jsonValue({ stringUnit: "grapheme" })).filter(foldUnique);
    fc.assert(
      fc.property(value, (v) => {
        const text = JSON.stringify(v);
        expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      runs,
    );
  });

  it("rejects every text JSON.parse rejects, and accepts nothing JSON.parse would read differently", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        let native: { ok: true; value: unknown } | { ok: false };
        try {
          native = { ok: true, value: JSON.parse(text) };
        } catch {
          native = { ok: false };
        }
        const strict = parseStrictJson(text);
        // Refused by the scan itself (which always reports an offset), not by the JSON.parse fallback.
        if (!native.ok) expect(strict.ok ? undefined : strict.error.offset).toBeTypeOf("number");
        if (strict.ok) expect(strict.value).toEqual(native.ok ? native.value : Symbol("unreachable"));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("classifyMessage and parseBody, on arbitrary input", () => {
  const id = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.constant(2 ** 53), fc.object());
  const method = fc.oneof(fc.constantFrom("tools/call", "tools/list", "notifications/initialized", "ping"), fc.string(), fc.integer());
  const params = fc.oneof(fc.jsonValue(), fc.record({ name: fc.oneof(fc.string(), fc.integer()), arguments: fc.jsonValue() }, { requiredKeys: [] }));
  const messageLike = fc.record(
    { jsonrpc: fc.oneof(fc.constant("2.0"), fc.jsonValue()), id, method, params, result: fc.jsonValue(), error: fc.jsonValue(), extra: fc.jsonValue() },
    { requiredKeys: [] },
  );

  it("never throw, and every refusal is a JSON-RPC error code", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), messageLike), (value) => {
        const result = classifyMessage(value);
        if (!result.ok) expect([-32600, -32602]).toContain(result.error.code);
      }),
      runs,
    );
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          messageLike.map((m) => JSON.stringify(m)),
        ),
        (text) => {
          const result = parseBody(text);
          if (!result.ok) expect([-32700, -32600, -32602]).toContain(result.error.code);
        },
      ),
      runs,
    );
  });
});

describe("sseTransform, on arbitrary events and chunkings", () => {
  const fieldText = fc.string({ unit: "binary", maxLength: 12 });
  const event: fc.Arbitrary<SseEvent> = fc.record(
    { id: fieldText, event: fieldText, data: fc.string({ unit: "binary", maxLength: 40 }), retry: fc.nat() },
    { requiredKeys: ["data"] },
  );

  async function run(chunks: Uint8Array[]): Promise<{ text: string; events: SseEvent[] }> {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const seen: SseEvent[] = [];
    const text = await new Response(
      source.pipeThrough(
        sseTransform((e) => {
          seen.push(e);
          return e;
        }),
      ),
    ).text();
    return { text, events: seen };
  }

  /** The events a client reads from serializeSseEvent's output. */
  const asClientReads = (events: SseEvent[]) => asClientReadsOf(events.map(serializeSseEvent).join(""));

  /** Splits bytes at the given (sorted, deduplicated) cut points. */
  function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    let start = 0;
    for (const point of [...points, bytes.length]) {
      chunks.push(bytes.slice(start, point));
      start = point;
    }
    return chunks;
  }

  it("yields exactly the serialized events, however the bytes are chunked", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), async (events, cuts) => {
        const serialized = events.map(serializeSseEvent).join("");
        const { text, events: seen } = await run(split(new TextEncoder().encode(serialized), cuts));
        const expected = asClientReads(events);
        expect(seen).toEqual(expected);
        // Re-emission is a fixed point: without retry (re-emitted on its own line block), byte for byte.
        const withoutRetry = events.map(({ retry: _retry, ...rest }) => rest);
        const { text: again } = await run([new TextEncoder().encode(withoutRetry.map(serializeSseEvent).join(""))]);
        expect(again).toBe(withoutRetry.map(serializeSseEvent).join(""));
        expect(asClientReadsOf(text)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 8 }),
        fc.array(fc.string({ unit: "binary-ascii" }), { maxLength: 5 }),
        async (raw, texts) => {
          const chunks = [...raw, ...texts.map((t) => new TextEncoder().encode(t))];
          const { text } = await run(chunks);
          expect(typeof text).toBe("string");
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** The events a client reads from SSE text. */
function asClientReadsOf(text: string): SseEvent[] {
  const read: SseEvent[] = [];
  const parser = createParser({
    onEvent: (e) => {
      const one: SseEvent = { data: e.data };
      if (e.id !== undefined) one.id = e.id;
      if (e.event !== undefined) one.event = e.event;
      read.push(one);
    },
  });
  parser.feed(text);
  return read;
}

import { createParser } from "eventsource-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, type SseItem } from "../../../src/mcp/sse-parser";
import { DISCARDED_EVENT, sseTransform, type SseEvent, type StreamedEvent } from "../../../src/mcp/sse";

const encoder = new TextEncoder();

/** What eventsource-parser (the MCP SDK clients' parser) reads from the text. */
function reference(text: string): (SseEvent | { retry: number } | "comment")[] {
  const found: (SseEvent | { retry: number } | "comment")[] = [];
  const parser = createParser({
    onEvent: (e) => found.push({ data: e.data, ...(e.id === undefined ? {} : { id: e.id }), ...(e.event === undefined ? {} : { event: e.event }) }),
    onRetry: (retry) => found.push({ retry }),
    onComment: () => found.push("comment"),
  });
  // A final CR ends its line (WHATWG); eventsource-parser waits for a possible LF.
  parser.feed(text.endsWith("\r") ? `${text}\n` : text);
  return found;
}

/** What SseParser reads from the text cut at `cuts`, in the same shape; an open event is joined back. */
function parsed(text: string, cuts: number[], largeEventChars?: number) {
  const parser = new SseParser(1 << 20, largeEventChars);
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const items: SseItem[] = [];
  let start = 0;
  for (const point of [...points, text.length]) {
    items.push(...parser.feed(text.slice(start, point)));
    start = point;
  }
  const found: (SseEvent | { retry: number } | "comment")[] = [];
  let open: SseEvent | null = null;
  for (const item of items) {
    if (item.kind === "event") found.push(item.event);
    else if (item.kind === "retry") found.push({ retry: item.retry });
    else if (item.kind === "comment") found.push("comment");
    else if (item.kind === "open") open = { ...item.event };
    else if (item.kind === "data") open!.data += item.text;
    else if (item.kind === "close") {
      const { id: _id, event: _event, ...rest } = open!;
      found.push({ ...rest, ...(item.id === undefined ? {} : { id: item.id }), ...(item.event === undefined ? {} : { event: item.event }) });
      open = null;
    }
  }
  return found;
}

/** Text made of SSE's own pieces: field names, colons, spaces, every kind of line end. */
const sseSoup = fc
  .array(
    fc.constantFrom(
      "data",
      "data:",
      "data: ",
      "id:",
      "id: ",
      "event:",
      "event: message",
      "retry:",
      "retry: 1500",
      ":",
      ": note",
      "foo:",
      "x",
      " ",
      "\n",
      "\r",
      "\r\n",
      "\n\n",
      "{}",
      "\u0000",
      "é",
      "dat",
      "a:",
    ),
    {
      maxLength: 40,
    },
  )
  .map((parts) => parts.join(""));
const cuts = fc.array(fc.nat(), { maxLength: 10 });

describe("SseParser reads an event stream as eventsource-parser does", () => {
  it("on arbitrary SSE-like text, cut anywhere", () => {
    fc.assert(
      fc.property(fc.oneof(sseSoup, fc.string({ unit: "binary-ascii" })), cuts, (text, at) => {
        expect(parsed(text, at)).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("and hands on a large event piece by piece with the same fields and data", () => {
    fc.assert(
      fc.property(sseSoup, cuts, fc.integer({ min: 0, max: 6 }), (text, at, large) => {
        expect(parsed(text, at, large)).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("holds no more than a line's field name of a comment or an unknown field", () => {
    const parser = new SseParser(100);
    expect(parser.feed(`: ${"x".repeat(1000)}\nunknownfield: ${"y".repeat(1000)}\n`)).toEqual([{ kind: "comment" }]);
    expect(parser.feed(`data: ${"z".repeat(200)}`)).toEqual([{ kind: "overflow" }]);
  });
});

/** Runs the transform over `chunks` with events of more than `large` characters checked by `check`. */
async function transform(chunks: string[], large: number, check: () => StreamedEvent, onEnd: () => SseEvent[] = () => []): Promise<string> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(source.pipeThrough(sseTransform((e) => e, { largeEventChars: large, streamEvent: check, onEnd }))).text();
}

const passAll = (): StreamedEvent => ({ write: (text) => text.length, end: async () => "" });

/**
 * Passes the data up to the first `}`, holds that `}` back and passes nothing after it, then
 * releases it (or refuses) at the end: the shape of src/mcp/streamed-answer.ts's check.
 */
function holdBrace(verdict: boolean): () => StreamedEvent {
  return () => {
    let held = false;
    return {
      write: (text) => {
        if (held) return 0;
        const at = text.indexOf("}");
        if (at < 0) return text.length;
        held = true;
        return at;
      },
      end: async () => (verdict && held ? "}" : null),
    };
  };
}

function clientReads(text: string): SseEvent[] {
  return reference(text).filter((e): e is SseEvent => typeof e === "object" && "data" in e);
}

describe("a large event passes as it arrives", () => {
  it("with the same events a client reads from the buffered path, however the stream is cut", async () => {
    const event = fc.record(
      {
        id: fc.string({ unit: "binary-ascii", maxLength: 5 }),
        event: fc.constantFrom("message", "other"),
        data: fc.string({ unit: "binary-ascii", maxLength: 30 }),
      },
      { requiredKeys: ["data"] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 4 }), cuts, fc.integer({ min: 0, max: 8 }), async (events, at, large) => {
        const text = events
          .map(
            (e) =>
              `${e.id === undefined ? "" : `id: ${e.id}\r\n`}${e.event === undefined ? "" : `event:${e.event}\n`}${e.data
                .split(/\r\n|\r|\n/)
                .map((l) => `data: ${l}\n`)
                .join("")}\n`,
          )
          .join("");
        const points = [...new Set(at.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunks = [...points, text.length].map((p, i, all) => text.slice(i === 0 ? 0 : all[i - 1], p));
        const buffered = await transform(chunks, Number.POSITIVE_INFINITY, passAll);
        expect(clientReads(await transform(chunks, large, passAll))).toEqual(clientReads(buffered));
      }),
      { numRuns: 300 },
    );
  });

  it("writes its data as it comes and the blank line only once the check passed", async () => {
    const out = await transform(["id: 7\nevent: message\ndata: {abcdef", "ghij\ndata: klm}", "  \ndata:\n", "\n"], 4, holdBrace(true));
    expect(out).toBe("id: 7\nevent: message\ndata: {abcdefghij\ndata: klm}\n\n");
  });

  it("fields after its data are written before its blank line, and a retry inside it too", async () => {
    const out = await transform(["data: abcdefgh\nid: 9\nretry: 10\n: inside\nevent: other\n\n"], 4, passAll);
    expect(out).toBe("data: abcdefgh\nid: 9\nevent: other\nretry: 10\n\n");
    expect(clientReads(out)).toEqual([{ data: "abcdefgh", id: "9", event: "other" }]);
  });

  it("refused at the end: the data stays short of its last character, and the event is discarded", async () => {
    const out = await transform(['data: {"a":"bcdefgh"}\n\n', "data: ok\n\n"], 4, holdBrace(false), () => [{ data: "closing" }]);
    expect(out).toBe(`data: {"a":"bcdefgh"\nevent: ${DISCARDED_EVENT}\n\ndata: ok\n\ndata: closing\n\n`);
    expect(clientReads(out).map((e) => e.event)).toEqual([DISCARDED_EVENT, undefined, undefined]);
  });

  it("refused on the way: discarded at once, the rest of it dropped", async () => {
    let written = 0;
    const failing = (): StreamedEvent => ({ write: (text) => (++written > 1 ? null : text.length), end: async () => "" });
    const out = await transform(["data: abcdefgh", "ijkl\ndata: mno\nid: 3\n\n", "data: x\n\n"], 4, failing);
    expect(out).toBe(`data: abcdefgh\nevent: ${DISCARDED_EVENT}\n\ndata: x\n\n`);
  });

  it("cut off by the end of the stream: discarded, then the end's events", async () => {
    const out = await transform(["data: abcdefgh"], 4, passAll, () => [{ data: "error" }]);
    expect(out).toBe(`data: abcdefgh\nevent: ${DISCARDED_EVENT}\n\ndata: error\n\n`);
  });
});

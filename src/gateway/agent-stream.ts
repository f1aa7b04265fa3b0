/**
 * The stream an answer reaches the agent on, when the gateway does not hold the answer whole: an
 * SSE stream (re-framed event by event, src/mcp/sse.ts) or a large JSON body checked as it passes
 * (src/mcp/streamed-answer.ts). Step 8 of docs/architecture.md; docs/performance.md, "Large
 * answers".
 *
 * Memory is what shapes it. A Worker's isolate has 128 MB, and tens of megabytes of answer must
 * pass through without tens of megabytes of garbage: the upstream is read into one reused buffer
 * (a BYOB reader), and the agent's side is a native stream (IdentityTransformStream) whose writes
 * resolve once the bytes are taken, so each buffer can be filled again. Text the gateway writes
 * itself (SSE) is encoded into one reused buffer too.
 */
import type { SseReframer } from "../mcp/sse";

/** Largest read from the upstream: under V8's large-object size, so decoded text stays young. */
const READ_BYTES = 64 * 1024;
const FIRST_READ_BYTES = 4 * 1024;
/** Text is encoded into at most this many bytes at a time (three per character at worst). */
const WRITE_BYTES = 3 * READ_BYTES;

/** An upstream body read into one buffer, reused from read to read; it grows while reads fill it. */
export class UpstreamReader {
  readonly #reader: ReadableStreamBYOBReader;
  /** Bytes each read waits for (fewer only at the end): 1 for a stream of events, more for one large body. */
  readonly #atLeast: number;
  #buffer: ArrayBuffer;

  constructor(body: ReadableStream<Uint8Array>, atLeast = 1) {
    this.#reader = body.getReader({ mode: "byob" });
    this.#atLeast = atLeast;
    this.#buffer = new ArrayBuffer(atLeast > 1 ? READ_BYTES : FIRST_READ_BYTES);
  }

  /** The next bytes, valid until the next read; null at the end. */
  async read(): Promise<Uint8Array | null> {
    const view = new Uint8Array(this.#buffer);
    const read = await this.#reader.readAtLeast(Math.min(this.#atLeast, view.byteLength), view);
    if (read.done || read.value === undefined) return null;
    const value = read.value as Uint8Array;
    const full = value.byteLength === value.buffer.byteLength;
    this.#buffer = full && value.byteLength < READ_BYTES ? new ArrayBuffer(Math.min(2 * value.byteLength, READ_BYTES)) : (value.buffer as ArrayBuffer);
    return value;
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/** The agent's side: a native stream written from reused buffers. */
class AgentStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #encoder = new TextEncoder();
  #out = new Uint8Array(0);

  constructor() {
    const { readable, writable } = new IdentityTransformStream();
    this.body = readable;
    this.#writer = writable.getWriter();
  }

  /** Resolves once the bytes are taken: their buffer may then be reused. */
  write(bytes: Uint8Array): Promise<void> {
    return bytes.byteLength === 0 ? Promise.resolve() : this.#writer.write(bytes);
  }

  async writeText(text: string): Promise<void> {
    let rest = text;
    while (rest !== "") {
      const need = Math.min(3 * rest.length, WRITE_BYTES);
      if (this.#out.byteLength < need) this.#out = new Uint8Array(Math.max(need, 1024));
      const { read, written } = this.#encoder.encodeInto(rest, this.#out);
      await this.#writer.write(this.#out.subarray(0, written));
      rest = rest.slice(read);
    }
  }

  close(): Promise<void> {
    return this.#writer.close();
  }

  /** The agent went away, or the upstream broke off: the agent's stream fails. */
  abort(): void {
    this.#writer.abort().catch(() => {});
  }
}

/** How a JSON body passes: each chunk checked, then its held-back end. */
export interface JsonPassage {
  /** What of a chunk may pass now, or null when the body is refused (the refusal is recorded). */
  pass(chunk: Uint8Array): Uint8Array | null;
  /** The body ended: its held-back last bytes, or null when it is refused. */
  end(): Promise<Uint8Array | null>;
  /** The upstream's body broke off before its end. */
  brokeOff(): void;
}

/**
 * A JSON body passed as it arrives, after `head` (already checked). A refused body ends short of
 * its last byte rather than failing: a failed body makes workerd log an uncaught exception and
 * reset the connection, and a body short of its last byte is JSON no parser reads.
 */
export function passJson(upstream: UpstreamReader, head: Uint8Array, passage: JsonPassage): ReadableStream<Uint8Array> {
  const agent = new AgentStream();
  const run = async (): Promise<void> => {
    await agent.write(head);
    for (;;) {
      const chunk = await upstream.read().catch(() => undefined);
      if (chunk === undefined) passage.brokeOff();
      const passed = chunk === null ? await passage.end() : chunk === undefined ? null : passage.pass(chunk);
      if (passed === null) upstream.cancel();
      if (passed !== null) await agent.write(passed);
      if (chunk === null || passed === null) return agent.close();
    }
  };
  run().catch(() => {
    upstream.cancel();
    agent.abort();
  });
  return agent.body;
}

/** An SSE stream re-framed event by event as it arrives. */
export function passSse(upstream: UpstreamReader, reframer: SseReframer): ReadableStream<Uint8Array> {
  const agent = new AgentStream();
  const run = async (): Promise<void> => {
    for (;;) {
      const chunk = await upstream.read();
      await agent.writeText(chunk === null ? await reframer.end() : await reframer.read(chunk));
      if (chunk === null) return agent.close();
      if (reframer.ended) {
        upstream.cancel();
        return agent.close();
      }
    }
  };
  // The upstream broke off, the agent went away, or shaping an event failed: the agent's stream fails.
  run().catch(() => {
    upstream.cancel();
    agent.abort();
  });
  return agent.body;
}

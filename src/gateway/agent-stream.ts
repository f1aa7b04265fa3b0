/**
 * The stream an answer reaches the agent on, when the gateway does not hold the answer whole: an
 * SSE stream (re-framed event by event, src/mcp/sse.ts) or a large JSON body checked as it passes
 * (src/mcp/streamed-answer.ts). Step 8 of docs/architecture.md; docs/performance.md, "Large
 * answers".
 *
 * Memory is what shapes it. A Worker's isolate has 128 MB, and tens of megabytes of answer must
 * pass through without tens of megabytes of garbage: the upstream is read into two buffers in
 * turn (a BYOB reader), and the agent's side is a native stream (IdentityTransformStream) whose
 * writes resolve once the bytes are taken, so a buffer can be filled again once its write is done;
 * with two, reading the next chunk overlaps writing the last. Text the gateway writes itself (SSE)
 * is encoded into two reused buffers the same way.
 */
import type { SseReframer } from "../mcp/sse";

/** Largest read from the upstream: under V8's large-object size, so decoded text stays young. */
const READ_BYTES = 64 * 1024;
const FIRST_READ_BYTES = 4 * 1024;
/** Text is encoded into at most this many bytes at a time (three per character at worst). */
const WRITE_BYTES = 3 * READ_BYTES;

/**
 * An upstream body read into two buffers in turn, so one can be read into while the other is
 * being written to the agent; each grows while reads fill it.
 */
export class UpstreamReader {
  readonly #reader: ReadableStreamBYOBReader;
  /** Bytes each read waits for (fewer only at the end): 1 for a stream of events, more for one large body. */
  readonly #atLeast: number;
  readonly #buffers: ArrayBuffer[];
  #turn = 0;

  constructor(body: ReadableStream<Uint8Array>, atLeast = 1) {
    this.#reader = body.getReader({ mode: "byob" });
    this.#atLeast = atLeast;
    const size = atLeast > 1 ? READ_BYTES : FIRST_READ_BYTES;
    this.#buffers = [new ArrayBuffer(size), new ArrayBuffer(size)];
  }

  /** The next bytes, valid until the read after next; null at the end. */
  async read(): Promise<Uint8Array | null> {
    const turn = this.#turn;
    this.#turn = 1 - turn;
    const view = new Uint8Array(this.#buffers[turn]!);
    const read = await this.#reader.readAtLeast(Math.min(this.#atLeast, view.byteLength), view);
    if (read.done || read.value === undefined) return null;
    const value = read.value as Uint8Array;
    const full = value.byteLength === value.buffer.byteLength;
    this.#buffers[turn] = full && value.byteLength < READ_BYTES ? new ArrayBuffer(Math.min(2 * value.byteLength, READ_BYTES)) : (value.buffer as ArrayBuffer);
    return value;
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/**
 * The agent's side: a native stream with at most one write in flight. `send` resolves once the
 * write before it is done, so a caller alternating two buffers may refill the other one then.
 */
class AgentStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #encoder = new TextEncoder();
  readonly #out = [new Uint8Array(0), new Uint8Array(0)];
  #turn = 0;
  #inFlight: Promise<void> = Promise.resolve();

  constructor() {
    const { readable, writable } = new IdentityTransformStream();
    this.body = readable;
    this.#writer = writable.getWriter();
  }

  async send(bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength === 0) return;
    await this.#inFlight;
    const write = this.#writer.write(bytes);
    // Its failure (the agent went away) surfaces at the next send or at close.
    write.catch(() => {});
    this.#inFlight = write;
  }

  /** Text encoded into the two write buffers in turn. */
  async sendText(text: string): Promise<void> {
    let rest = text;
    while (rest !== "") {
      const turn = this.#turn;
      this.#turn = 1 - turn;
      const need = Math.min(3 * rest.length, WRITE_BYTES);
      if (this.#out[turn]!.byteLength < need) this.#out[turn] = new Uint8Array(Math.max(need, 1024));
      const { read, written } = this.#encoder.encodeInto(rest, this.#out[turn]!);
      // The buffer is free: its last write finished before the send that followed it resolved.
      await this.send(this.#out[turn]!.subarray(0, written));
      rest = rest.slice(read);
    }
  }

  async close(): Promise<void> {
    await this.#inFlight;
    await this.#writer.close();
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
    await agent.send(head);
    for (;;) {
      const chunk = await upstream.read().catch(() => undefined);
      if (chunk === undefined) passage.brokeOff();
      const passed = chunk === null ? await passage.end() : chunk === undefined ? null : passage.pass(chunk);
      if (passed === null) upstream.cancel();
      if (passed !== null) await agent.send(passed);
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
      await agent.sendText(chunk === null ? await reframer.end() : await reframer.read(chunk));
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

/**
 * One upstream answer too large to hold — a JSON body, or the data of one SSE event — checked
 * while it passes through to the agent unchanged. Pure.
 *
 * The text goes through the streaming strict parser (src/mcp/json-stream.ts), which keeps only
 * the answer's skeleton; at the end the skeleton is held to the same rules as a buffered answer
 * (src/mcp/shape.ts: JSON-RPC messages only, responses to forwarded ids only, compared exactly).
 *
 * The agent must never hold a complete message the gateway did not check, so everything may pass
 * except the character that completes the top-level object or array (`}` or `]`), which is held
 * back until the whole text has been checked, and released only if it passed. Whitespace after it
 * is dropped. An answer refused late is thus cut short of its last character: a JSON body that no
 * parser reads, an SSE event whose data is not JSON.
 */
import { JSON_RPC_SKELETON } from "./json-capture";
import { JsonStreamValidator } from "./json-stream";
import type { JsonRpcId } from "./jsonrpc";
import { checkAnswerSkeleton, type CheckedAnswer } from "./shape";
import { err, ok, type Result } from "../result";

export interface PassedAnswer extends CheckedAnswer {
  /** The held-back last character, to pass on now. */
  release: string;
}

export class StreamedAnswer {
  readonly #requestIds: ReadonlySet<JsonRpcId>;
  readonly #validator = new JsonStreamValidator(JSON_RPC_SKELETON);
  #held = "";

  constructor(requestIds: ReadonlySet<JsonRpcId>) {
    this.#requestIds = requestIds;
  }

  /** Whether the top-level value has completed (its last character is held). */
  get complete(): boolean {
    return this.#held !== "";
  }

  /** Checks the next piece: how many of its first characters may pass now, or why the answer is refused. */
  write(text: string): Result<number, string> {
    const complete = this.complete;
    const written = this.#validator.write(text);
    if (!written.ok) return err(`not strict JSON: ${written.error.message}`);
    if (this.#validator.rootKind === "scalar") return err("not a JSON-RPC message");
    if (complete) return ok(0);
    const completedAt = written.value;
    if (completedAt < 0) return ok(text.length);
    this.#held = text.charAt(completedAt - 1);
    return ok(completedAt - 1);
  }

  /** The text ended: what it answered and the character to release, or why it is refused. */
  end(): Result<PassedAnswer, string> {
    const ended = this.#validator.end();
    if (!ended.ok) return err(`not strict JSON: ${ended.error.message}`);
    const checked = checkAnswerSkeleton(ended.value, this.#requestIds);
    if (checked === null) return err("not a JSON-RPC answer to a forwarded request");
    return ok({ ...checked, release: this.#held });
  }
}

/** Why a streamed answer was refused: larger than the gateway's limit, or not what it may pass on. */
export type StreamedFailure = { kind: "too_large" } | { kind: "invalid"; reason: string };

const NOTHING = new Uint8Array(0);

/**
 * A JSON body checked as its bytes pass: the bytes go on unchanged (less a leading byte order
 * mark, which the check does not read either), decoded for the check as strict UTF-8 (a bad
 * sequence refuses the body, where a decoder would have read U+FFFD), and counted against the
 * gateway's limit. The first chunk given must hold at least the first three bytes of the body.
 */
export class StreamedJsonBody {
  readonly #answer: StreamedAnswer;
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  #size = 0;

  constructor(requestIds: ReadonlySet<JsonRpcId>, maxBytes: number) {
    this.#answer = new StreamedAnswer(requestIds);
    this.#maxBytes = maxBytes;
  }

  /** The part of `chunk` that may pass on now, or why the body is refused. */
  pass(chunk: Uint8Array): Result<Uint8Array, StreamedFailure> {
    const bom = this.#size === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
    this.#size += chunk.byteLength;
    if (this.#size > this.#maxBytes) return err({ kind: "too_large" });
    let text: string;
    try {
      text = this.#decoder.decode(chunk, { stream: true });
    } catch {
      return err({ kind: "invalid", reason: "not UTF-8" });
    }
    const complete = this.#answer.complete;
    const passed = this.#answer.write(text);
    if (!passed.ok) return err({ kind: "invalid", reason: passed.error });
    if (complete) return ok(NOTHING);
    if (passed.value === text.length) return ok(chunk.subarray(bom));
    // The value completed in this chunk. Its last character is ASCII and only whitespace (or an
    // unfinished character, refused at the end) follows it, so it is the last such byte here.
    return ok(chunk.subarray(bom, chunk.lastIndexOf(text.charCodeAt(passed.value))));
  }

  /** The body ended: what it answered and the bytes to release, or why it is refused. */
  end(): Result<CheckedAnswer & { release: Uint8Array }, StreamedFailure> {
    try {
      this.#decoder.decode();
    } catch {
      return err({ kind: "invalid", reason: "not UTF-8" });
    }
    const ended = this.#answer.end();
    if (!ended.ok) return err({ kind: "invalid", reason: ended.error });
    const { release, ...checked } = ended.value;
    return ok({ ...checked, release: new TextEncoder().encode(release) });
  }
}

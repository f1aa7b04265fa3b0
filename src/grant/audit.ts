/**
 * Audit records and their hash chain. Pure: the Durable Object supplies seq, time and the previous
 * hash; this module builds and seals records and checks a chain.
 *
 * Chain rule: `hash = sha256hex(prevHash + "\n" + canonicalJson(record without "hash"))`, and the
 * first record's prevHash is 64 zeros. Changing, removing or reordering any record breaks every
 * later link, so an edit is only hidden by rewriting the rest of the chain.
 *
 * node:crypto's createHash is used because it is synchronous: crypto.subtle.digest returns a
 * promise, and an await inside gate() would split its storage step (see object.ts).
 */
import { createHash } from "node:crypto";
import type { AuditRecord } from "./protocol";

export const GENESIS_HASH = "0".repeat(64);

/** An audit record before it is chained. */
export type AuditDraft = Omit<AuditRecord, "prevHash" | "hash">;

/**
 * JSON with every object's keys sorted (by UTF-16 code units, recursively), no whitespace, so the
 * same record always hashes the same whatever order its fields were built in. Members whose value
 * is undefined are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    // JSON.stringify(undefined) is undefined; inside arrays JSON writes null for it.
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i]);
    return out + "]";
  }
  const object = value as Record<string, unknown>;
  const keys = sortedKeys(object);
  let out = "{";
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    out += (out.length === 1 ? "" : ",") + quotedKey(key) + ":" + canonicalJson(member);
  }
  return out + "}";
}

// Records repeat the same few keys; quoting each once saves most of the serialization time.
const QUOTED_KEYS = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (QUOTED_KEYS.size < 256) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

/** Keys in code-unit order; records are built with sorted keys, so usually no sort is needed. */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The hash a record must carry, computed from everything in it except `hash`. */
export function recordHash(record: Omit<AuditRecord, "hash">): string {
  return sha256Hex(`${record.prevHash}\n${canonicalJson(record)}`);
}

/** Links a draft to the chain after `prevHash`. */
export function sealRecord(d: AuditDraft, prevHash: string): AuditRecord {
  const linked = linkedRecord(d, prevHash);
  return { ...linked, hash: recordHash(linked) };
}

/**
 * Links a draft to the chain and returns the record as the log stores it: its canonical JSON with
 * `hash` added last, so the text hashed is serialized once, not again by JSON.stringify. Parsing
 * `json` gives exactly `sealRecord(d, prevHash)`.
 */
export function sealRecordJson(d: AuditDraft, prevHash: string): { hash: string; json: string } {
  const canonical = canonicalJson(linkedRecord(d, prevHash));
  const hash = sha256Hex(`${prevHash}\n${canonical}`);
  return { hash, json: `${canonical.slice(0, -1)},"hash":"${hash}"}` };
}

function linkedRecord(d: AuditDraft, prevHash: string): Omit<AuditRecord, "hash"> {
  // Built field by field in code-unit order: canonicalJson then needs no sort, and a record
  // carries exactly AuditRecord's fields whatever the draft held.
  return {
    argKeys: d.argKeys,
    code: d.code,
    decision: d.decision,
    grantId: d.grantId,
    httpMethod: d.httpMethod,
    label: d.label,
    latencyMs: d.latencyMs,
    message: d.message,
    policy: d.policy,
    prevHash,
    ref: d.ref,
    requestId: d.requestId,
    rpcId: d.rpcId,
    rpcMethod: d.rpcMethod,
    rule: d.rule,
    seq: d.seq,
    serverId: d.serverId,
    status: d.status,
    time: d.time,
    tool: d.tool,
    type: d.type,
  };
}

export type ChainCheck = { ok: true; count: number; lastHash: string } | { ok: false; brokenAt: number };

/**
 * Incremental chain check, so a long log can be verified while it streams out of storage.
 * `brokenAt` is the seq of the first record whose link or hash does not hold.
 */
export class ChainVerifier {
  #prevHash: string;
  #count = 0;
  #brokenAt: number | null = null;

  constructor(prevHash: string = GENESIS_HASH) {
    this.#prevHash = prevHash;
  }

  /** Feeds the next record; returns false once the chain is broken. */
  push(record: AuditRecord): boolean {
    if (this.#brokenAt !== null) return false;
    const { hash, ...rest } = record;
    if (record.prevHash !== this.#prevHash || recordHash(rest) !== hash) {
      this.#brokenAt = record.seq;
      return false;
    }
    this.#prevHash = hash;
    this.#count++;
    return true;
  }

  result(): ChainCheck {
    if (this.#brokenAt !== null) return { ok: false, brokenAt: this.#brokenAt };
    return { ok: true, count: this.#count, lastHash: this.#prevHash };
  }
}

export function verifyChain(records: Iterable<AuditRecord>, prevHash: string = GENESIS_HASH): ChainCheck {
  const verifier = new ChainVerifier(prevHash);
  for (const record of records) if (!verifier.push(record)) break;
  return verifier.result();
}

/** Sorted top-level argument names of a tools/call: what was passed, never its values. */
export function argKeysOf(args: Record<string, unknown> | undefined): string[] {
  return args === undefined ? [] : Object.keys(args).sort();
}

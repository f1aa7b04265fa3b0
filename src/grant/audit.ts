/**
 * Audit records and their hash chain. Pure: the Durable Object supplies seq, time and the previous
 * hash; this module builds and seals records and checks a chain.
 *
 * Chain rule: `hash = sha256hex(prevHash + "\n" + canonicalJson(record without "hash"))`, and the
 * first record's prevHash is 64 zeros. Changing, removing or reordering any record breaks every
 * later link, so an edit is only hidden by rewriting the rest of the chain.
 *
 * The hash is synchronous (src/digest.ts): an await inside gate() would split its storage step.
 */
import { canonicalJson } from "../canonical-json";
import { sha256Hex } from "../digest";
import type { AuditRecord } from "./protocol";

export const GENESIS_HASH = "0".repeat(64);

/** An audit record before it is chained. */
export type AuditDraft = Omit<AuditRecord, "prevHash" | "hash">;

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
  const linked = commonFields(d, prevHash);
  // Only the log's upkeep records (checkpoint, archived, pruned) carry these; every other record
  // keeps exactly the fields, and so the hash, it had before they existed.
  if (d.headHash === undefined && d.signature === undefined && d.archive === undefined) return linked;
  return { ...linked, headHash: d.headHash, signature: d.signature, archive: d.archive };
}

function commonFields(d: AuditDraft, prevHash: string): Omit<AuditRecord, "hash"> {
  // Built field by field in code-unit order: canonicalJson then needs no sort, and a record
  // carries exactly AuditRecord's fields whatever the draft held.
  return {
    // Absent except on approval records: older records keep their exact canonical form.
    approval: d.approval,
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

/** Where a stored log begins: after genesis (seq 0), or after the last record retention deleted. */
export interface ChainStart {
  seq: number;
  hash: string;
}

/**
 * Checks a stored log, oldest first, as stored: each record under its own seq (a record moved under
 * another key is as broken as an edited one), each linked to the one before, the first linked to
 * `start` (the pruned record's statement once retention deleted the oldest records).
 */
export function verifyStoredChain(
  rows: Iterable<{ seq: number; record: AuditRecord }>,
  start: ChainStart = { seq: 0, hash: GENESIS_HASH },
): { ok: true; count: number } | { ok: false; brokenAt: number } {
  const verifier = new ChainVerifier(start.hash);
  let expected = start.seq + 1;
  for (const { seq, record } of rows) {
    if (record.seq !== seq || seq !== expected++) return { ok: false, brokenAt: seq };
    if (!verifier.push(record)) break;
  }
  const check = verifier.result();
  return check.ok ? { ok: true, count: check.count } : check;
}

export type ServedLogCheck = { ok: true; count: number; start: ChainStart } | { ok: false; brokenAt: number; reason: string };

/**
 * Checks a log as the admin API serves it (`GET …/audit?after=`, oldest first), independently of
 * the gateway's own check: what `mpg audit verify --local` recomputes.
 *
 * Records run from the first without a gap, each linked to the one before. The first links to the
 * genesis hash when it is seq 1. Only one other start is accepted: after retention deleted records
 * `1 … N` (docs/audit.md, "Retention"), the log starts at N + 1 and links to the hash that the log's
 * own `pruned` record about N states. That record is itself inside the chain checked here, so a log
 * cut short at the front, or given a made-up start, does not verify. Every pruned record about a
 * record still held must name that record's hash (a page read while retention ran may hold both).
 */
export function verifyServedLog(records: readonly AuditRecord[]): ServedLogCheck {
  const first = records[0];
  if (first === undefined) return { ok: true, count: 0, start: { seq: 0, hash: GENESIS_HASH } };
  let start: ChainStart = { seq: 0, hash: GENESIS_HASH };
  if (first.seq !== 1) {
    const marker = records.find((r) => r.type === "pruned" && r.ref === first.seq - 1 && typeof r.headHash === "string");
    if (marker === undefined)
      return {
        ok: false,
        brokenAt: first.seq,
        reason: `the log starts at seq ${first.seq}, but no pruned record says records up to ${first.seq - 1} were deleted`,
      };
    start = { seq: first.seq - 1, hash: marker.headHash! };
  }
  const hashes = new Map<number, string>([[start.seq, start.hash]]);
  const verifier = new ChainVerifier(start.hash);
  for (const [index, record] of records.entries()) {
    if (record.seq !== start.seq + index + 1)
      return { ok: false, brokenAt: record.seq, reason: `seq ${record.seq} follows seq ${start.seq + index}: records are missing or out of order` };
    if (!verifier.push(record))
      return { ok: false, brokenAt: record.seq, reason: `record ${record.seq} does not link to the record before it, or its hash does not match its content` };
    hashes.set(record.seq, record.hash);
    if (record.type === "pruned" && record.ref !== null && hashes.has(record.ref) && hashes.get(record.ref) !== record.headHash) {
      return { ok: false, brokenAt: record.seq, reason: `pruned record ${record.seq} names another hash for record ${record.ref} than the log holds` };
    }
  }
  return { ok: true, count: records.length, start };
}

/**
 * The offline check of an audit export (or an archive object): needs the file and the public keys,
 * nothing else: no gateway, no Worker API. Pure apart from WebCrypto, so it runs in Node 20, in the
 * CLI bundle and in workerd alike. docs/audit.md, "Verifying an export", says what each result means.
 *
 * It reads the file once, line by line, holding only the hashes since the last checkpoint:
 * - the header must be signed by one of the keys (else the result is "unsigned", never "ok");
 * - records must run from `start.seq + 1` to `end.seq` without a gap, each linking to the one before
 *   (`start.hash` for the first) and carrying the hash of its own content;
 * - each checkpoint's signature must verify, and the hash it signs must be that of the record it names;
 * - the file must end exactly at the header's `end`.
 * An edited record breaks its hash, a removed or moved one breaks the links or the seq run, a file
 * cut short does not reach `end`, and a rewritten stretch contradicts the checkpoints signed before.
 */
import { z } from "zod";
import { recordHash } from "../grant/audit";
import type { AuditRecord } from "../grant/protocol";
import { checkpointStatement, exportStatement, ExportHeaderSchema, type ExportHeader } from "./export";
import { verifySignature, type AuditKeySet } from "./keys";

export type VerifyReport =
  | {
      /** ok: signed and intact. unsigned: intact as far as the chain shows, but the header is not signed. */
      status: "ok" | "unsigned";
      grantId: string;
      /** The chain point before the first record, and the last record. */
      start: number;
      end: number;
      records: number;
      checkpoints: number;
      /** The last record covered by a checkpoint in this file (`start` when none). */
      coveredThrough: number;
      keyIds: string[];
    }
  | { status: "failed"; reason: string; line: number; seq: number | null };

const StoredRecord = z.looseObject({
  seq: z.int().positive(),
  time: z.string(),
  type: z.string(),
  grantId: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});

const CheckpointFields = z.looseObject({
  ref: z.int().min(0),
  headHash: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.strictObject({ keyId: z.string(), value: z.string() }),
});

/**
 * Hashes kept for checkpoints to name: a checkpoint names a record just before it, so a window this
 * wide bounds the verifier's memory however long the file and however far apart its checkpoints.
 */
const HASHES_KEPT = 100_000;

class Failure extends Error {
  constructor(
    readonly reason: string,
    readonly seq: number | null = null,
  ) {
    super(reason);
  }
}

/** The running check of one file, after its header. */
class ExportCheck {
  readonly #header: ExportHeader;
  readonly #keys: AuditKeySet;
  /** Hashes of the records since the last checkpoint's record: what the next checkpoint may name. */
  readonly #hashes = new Map<number, string>();
  #last: { seq: number; hash: string };
  #records = 0;
  #checkpoints = 0;
  #coveredThrough: number;
  readonly #keyIds = new Set<string>();

  constructor(header: ExportHeader, keys: AuditKeySet) {
    this.#header = header;
    this.#keys = keys;
    this.#last = header.start;
    this.#coveredThrough = header.start.seq;
    if (header.keyId !== null) this.#keyIds.add(header.keyId);
  }

  async record(line: string): Promise<void> {
    const record = parseRecord(line);
    const { seq } = record;
    if (seq !== this.#last.seq + 1) throw new Failure(`seq ${seq} follows seq ${this.#last.seq}: records were removed, added or reordered`, seq);
    if (seq > this.#header.end.seq) throw new Failure(`record ${seq} is past the end the header states (${this.#header.end.seq}): records were added`, seq);
    if (record.prevHash !== this.#last.hash) throw new Failure(`record ${seq} does not link to the record before it`, seq);
    const { hash, ...content } = record;
    if (recordHash(content) !== hash) throw new Failure(`record ${seq} was changed: its hash does not match its content`, seq);
    if (record.grantId !== this.#header.grantId) throw new Failure(`record ${seq} belongs to grant ${record.grantId}, not ${this.#header.grantId}`, seq);
    if (record.type === "checkpoint") await this.#checkpoint(record);
    if (record.type === "pruned" && record.ref === this.#header.start.seq && record.headHash !== this.#header.start.hash) {
      throw new Failure(`pruned record ${seq} names another hash for record ${record.ref} than the header's start`, seq);
    }
    this.#hashes.set(seq, hash);
    if (this.#hashes.size > HASHES_KEPT) this.#hashes.delete(this.#hashes.keys().next().value!);
    this.#last = { seq, hash };
    this.#records++;
  }

  async #checkpoint(record: AuditRecord): Promise<void> {
    const parsed = CheckpointFields.safeParse(record);
    if (!parsed.success || parsed.data.ref >= record.seq) throw new Failure(`checkpoint ${record.seq} is malformed`, record.seq);
    const { ref, headHash, signature } = parsed.data;
    const key = this.#keys.get(signature.keyId);
    if (key === undefined) throw new Failure(`checkpoint ${record.seq} is signed by key ${signature.keyId}, which is not among the keys given`, record.seq);
    const statement = checkpointStatement({ grantId: record.grantId, seq: ref, headHash, time: record.time, keyId: signature.keyId });
    if (!(await verifySignature(key, statement, signature.value))) throw new Failure(`checkpoint ${record.seq}'s signature does not verify`, record.seq);
    this.#keyIds.add(signature.keyId);
    this.#checkpoints++;
    if (ref < this.#header.start.seq) return; // covers records before this file: only its signature can be checked
    const known = ref === this.#header.start.seq ? this.#header.start.hash : this.#hashes.get(ref);
    if (known === undefined)
      throw new Failure(`checkpoint ${record.seq} names record ${ref}, before an earlier checkpoint or too far back to check`, record.seq);
    if (known !== headHash)
      throw new Failure(`checkpoint ${record.seq} signed another hash for record ${ref}: the log was changed after it was signed`, record.seq);
    for (const seq of this.#hashes.keys()) {
      if (seq > ref) break; // kept in seq order
      this.#hashes.delete(seq);
    }
    this.#coveredThrough = Math.max(this.#coveredThrough, ref);
  }

  finish(): VerifyReport {
    const { end } = this.#header;
    if (this.#last.seq !== end.seq)
      throw new Failure(`the file ends at seq ${this.#last.seq} but its header says ${end.seq}: records were cut off`, this.#last.seq);
    if (this.#last.hash !== end.hash) throw new Failure(`the last record's hash is not the one the header states`, end.seq);
    return {
      status: this.#header.signature === null ? "unsigned" : "ok",
      grantId: this.#header.grantId,
      start: this.#header.start.seq,
      end: end.seq,
      records: this.#records,
      checkpoints: this.#checkpoints,
      coveredThrough: this.#coveredThrough,
      keyIds: [...this.#keyIds],
    };
  }
}

function parseJson(line: string, what: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new Failure(`${what} is not JSON`);
  }
}

function parseRecord(line: string): AuditRecord {
  const parsed = StoredRecord.safeParse(parseJson(line, "a record line"));
  if (!parsed.success) throw new Failure("a line is not an audit record");
  return parsed.data as unknown as AuditRecord;
}

async function parseHeader(line: string, keys: AuditKeySet): Promise<ExportHeader> {
  const parsed = ExportHeaderSchema.safeParse(parseJson(line, "the header"));
  if (!parsed.success) throw new Failure("the first line is not an audit export header");
  const header = parsed.data;
  if (header.start.seq > header.end.seq) throw new Failure("the header's start is after its end");
  if (header.signature === null || header.keyId === null) return header;
  const key = keys.get(header.keyId);
  if (key === undefined) throw new Failure(`the export is signed by key ${header.keyId}, which is not among the keys given`);
  if (!(await verifySignature(key, exportStatement(header), header.signature))) throw new Failure("the header's signature does not verify");
  return header;
}

/** Checks an export, given as its lines (blank lines are skipped). */
export async function verifyExport(lines: AsyncIterable<string> | Iterable<string>, keys: AuditKeySet): Promise<VerifyReport> {
  let check: ExportCheck | null = null;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === "") continue;
      if (check === null) check = new ExportCheck(await parseHeader(line, keys), keys);
      else await check.record(line);
    }
    if (check === null) throw new Failure("the file is empty");
    return check.finish();
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    return { status: "failed", reason: error.reason, line: lineNumber, seq: error.seq };
  }
}

/** The report for a person, one fact a line. */
export function describeReport(report: VerifyReport): string {
  if (report.status === "failed") return `FAILED at line ${report.line}: ${report.reason}`;
  const lines = [
    report.status === "ok"
      ? "OK: the export is signed and its chain is intact"
      : "UNSIGNED: the chain is intact, but the export is not signed (the gateway has no AUDIT_SIGNING_KEY)",
    `grant ${report.grantId}: ${report.records} records, seq ${report.start + 1} to ${report.end}${report.start > 0 ? ` (the chain before seq ${report.start + 1} is not in this file)` : ""}`,
    `${report.checkpoints} signed checkpoints; records up to seq ${report.coveredThrough} are covered by one`,
  ];
  if (report.end > report.coveredThrough)
    lines.push(`${report.end - report.coveredThrough} records after the last checkpoint are vouched for by the export's signature only`);
  if (report.keyIds.length > 0) lines.push(`keys: ${report.keyIds.join(", ")}`);
  return lines.join("\n");
}

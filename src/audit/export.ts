/**
 * The audit export format, shared by `GET /admin/grants/:id/audit/export`, the archive objects and
 * the offline verifier (docs/audit.md). Pure.
 *
 * An export is NDJSON: one header line, then the records of one stretch of the chain, each exactly
 * as the grant's object stored it, oldest first. The header says which stretch: the chain point the
 * first record links to (`start`: genesis, the last record retention deleted, or the record before
 * `after`) and the last record (`end`); it is signed, so a file cut short, extended or re-headed
 * does not verify. Checkpoint records inside the stretch are signed when they are written, so they
 * also prove that the stored log was not changed afterwards.
 *
 * Two statements are signed, each as canonical JSON with a `format` naming it, so a signature of
 * one can never pass for the other:
 * - checkpoint: `{ format: CHECKPOINT_FORMAT, grantId, seq, headHash, time, keyId }`: record `seq`
 *   of this grant's chain had hash `headHash` at `time`;
 * - export header: the header line without its `signature` member.
 */
import { z } from "zod";
import { canonicalJson } from "../canonical-json";

export const EXPORT_FORMAT = "mcp-policy-gateway/audit-export/v1";
export const CHECKPOINT_FORMAT = "mcp-policy-gateway/audit-checkpoint/v1";

const Hash = z.string().regex(/^[0-9a-f]{64}$/);
const Seq = z.int().min(0);
const ChainPointSchema = z.strictObject({ seq: Seq, hash: Hash });

/** A point of the chain: the record `seq` (0: genesis) and its hash. */
export type ChainPoint = z.infer<typeof ChainPointSchema>;

export const ExportHeaderSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  grantId: z.string().min(1),
  /** As requested: records after this seq. */
  after: Seq,
  /** As requested: records up to this seq, extended to the first checkpoint that covers it; null: to the end. */
  until: Seq.nullable(),
  /** The chain point the first record links to; its seq is `after`, or later when older records were pruned. */
  start: ChainPointSchema,
  /** The last record in the file (equal to `start` when the file holds none). */
  end: ChainPointSchema,
  /** ISO time: of the export, or of an archive object's last record (so a retried write is byte-identical). */
  time: z.string(),
  /** The signing key's id; null with `signature` when the gateway has no AUDIT_SIGNING_KEY. */
  keyId: z.string().nullable(),
  signature: z.string().nullable(),
});

export type ExportHeader = z.infer<typeof ExportHeaderSchema>;

/** The text an export header's signature signs. */
export const exportStatement = (header: ExportHeader): string => canonicalJson({ ...header, signature: undefined });

export interface CheckpointClaim {
  grantId: string;
  /** The record the checkpoint is about: every record up to it is covered. */
  seq: number;
  headHash: string;
  /** ISO time, the checkpoint record's own `time`. */
  time: string;
  keyId: string;
}

/** The text a checkpoint's signature signs. */
export const checkpointStatement = (claim: CheckpointClaim): string =>
  canonicalJson({ format: CHECKPOINT_FORMAT, grantId: claim.grantId, seq: claim.seq, headHash: claim.headHash, time: claim.time, keyId: claim.keyId });

/** The header as its NDJSON line (canonical JSON, so its text does not depend on how it was built). */
export const headerLine = (header: ExportHeader): string => canonicalJson(header);

const twelveDigits = (seq: number): string => String(seq).padStart(12, "0");

/**
 * The R2 key of an archive object holding records `first`..`last` of a grant:
 * `audit/<grantId>/<first, 12 digits>-<last, 12 digits>.ndjson`; zero-padded, so listing a grant's
 * prefix returns its objects in chain order.
 */
export const archiveObjectKey = (grantId: string, first: number, last: number): string =>
  `audit/${grantId}/${twelveDigits(first)}-${twelveDigits(last)}.ndjson`;

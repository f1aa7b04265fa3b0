/**
 * Signed checkpoints (docs/audit.md, "Checkpoints"): when one is due, and writing it.
 *
 * A checkpoint is due once 1,000 records (AUDIT_CHECKPOINT_EVERY) are not covered by one, or 10
 * minutes after the first record that is not; so while records are written a checkpoint follows at
 * least every 10 minutes, and an idle log gets none. Upkeep records (checkpoint, archived, pruned) never make one due, or an
 * idle grant would sign its own checkpoints for ever.
 *
 * Ed25519 in WebCrypto is asynchronous and gate() must not await, so checkpoints are written by the
 * alarm, shortly after they fall due: the head is read, its statement signed, and the checkpoint
 * record appended. Records written while the signature was computed follow the record it names;
 * the next checkpoint covers them.
 */
import { isoTime } from "../clock";
import { checkpointStatement } from "../audit/export";
import type { AuditSigner } from "../audit/keys";
import { draftRecord } from "./records";
import type { UpkeepHost } from "./maintenance";
import type { MaintenanceStorage } from "./maintenance-storage";

export const CHECKPOINT_EVERY_RECORDS = 1000;

/** AUDIT_CHECKPOINT_EVERY: records per checkpoint, a whole number from 1; 1,000 when unset or invalid. */
export function checkpointEvery(value: string | undefined): number {
  const every = Number(value);
  return Number.isSafeInteger(every) && every >= 1 ? every : CHECKPOINT_EVERY_RECORDS;
}
export const CHECKPOINT_INTERVAL_MS = 10 * 60 * 1000;

/** The latest checkpoint: its own seq, the record it covers up to, and when it was written. */
export interface CheckpointMark {
  seq: number;
  ref: number;
  at: number;
}

/** How many records await a checkpoint, and since when. In memory; rebuilt from the log at start. */
export class CheckpointCadence {
  readonly every: number;
  #uncovered = 0;
  #since: number | null = null;

  constructor(every: number) {
    this.every = every;
  }

  restore(uncovered: number, since: number | null): void {
    this.#uncovered = uncovered;
    this.#since = uncovered > 0 ? (since ?? 0) : null;
  }

  get uncovered(): number {
    return this.#uncovered;
  }

  /** `n` records were appended; the time a checkpoint falls due when that just became earlier, else null. */
  written(n: number, now: number): number | null {
    const before = this.#uncovered;
    this.#uncovered += n;
    if (before === 0) this.#since = now;
    if (before < this.every && this.#uncovered >= this.every) return now;
    return before === 0 ? now + CHECKPOINT_INTERVAL_MS : null;
  }

  /** When the next checkpoint is due; null when every record is covered. */
  dueAt(): number | null {
    if (this.#uncovered === 0 || this.#since === null) return null;
    return this.#uncovered >= this.every ? this.#since : this.#since + CHECKPOINT_INTERVAL_MS;
  }

  /** A checkpoint now covers `covered` records; those written since it was started still wait. */
  sealed(covered: number, now: number): void {
    this.#uncovered = Math.max(0, this.#uncovered - covered);
    this.#since = this.#uncovered > 0 ? now : null;
  }
}

/**
 * Signs the chain's head and appends the checkpoint record naming it. Null when the record could
 * not be stored (the alarm tries again).
 */
export async function sealCheckpoint(host: UpkeepHost, store: MaintenanceStorage, signer: AuditSigner, now: number): Promise<CheckpointMark | null> {
  const state = host.state();
  const head = host.head();
  if (state === null || head.seq === 0) return null;
  const time = isoTime(now);
  const keyId = signer.keyId;
  const value = await signer.sign(checkpointStatement({ grantId: state.grantId, seq: head.seq, headHash: head.hash, time, keyId }));
  const draft = draftRecord(state, time, "checkpoint", null, { decision: "signed", ref: head.seq, headHash: head.hash, signature: { keyId, value } });
  const seq = host.append(draft, now, (written) => store.mark("checkpoint", written));
  return seq === null ? null : { seq, ref: head.seq, at: now };
}

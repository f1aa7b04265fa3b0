/**
 * The log's upkeep (docs/audit.md): signed checkpoints (checkpoints.ts), the R2 archive
 * (archive.ts), retention (retention.ts), and the signed headers of exports. The grant's object
 * runs it from its alarm and hands it an UpkeepHost: the chain head, a way to append one record,
 * and when to wake.
 *
 * Memory: the latest checkpoint, archived and pruned records (found through `audit_maintenance` at
 * start) and how many records await a checkpoint. gate() only counts its records here: no await,
 * no I/O, at most an alarm set once per checkpoint.
 *
 * Without AUDIT_SIGNING_KEY nothing here runs: no checkpoints, so nothing is archived or pruned.
 */
import { isoTime } from "../clock";
import { EXPORT_FORMAT, exportStatement, type ChainPoint, type ExportHeader } from "../audit/export";
import type { AuditSigner } from "../audit/keys";
import { auditSigner, logKeyProblem, signingConfigured } from "../audit/signing";
import { archiveSealed } from "./archive";
import { GENESIS_HASH, type AuditDraft } from "./audit";
import { CheckpointCadence, checkpointEvery, sealCheckpoint, type CheckpointMark } from "./checkpoints";
import { MaintenanceStorage, UPKEEP_KINDS, type LogLines } from "./maintenance-storage";
import { pruneBatch, retentionMs } from "./retention";
import type { ActivePolicy, GrantState } from "./state";

export type { ExportHeader, LogLines };

/** What the grant's object lends its upkeep. */
export interface UpkeepHost {
  state(): GrantState | null;
  policy(): ActivePolicy | null;
  /** The last record (seq 0 and the genesis hash for an empty log). */
  head(): ChainPoint;
  /** Appends one record after the head, running `more(seq)` in the same transaction; its seq, or null when it was not stored. */
  append(draft: AuditDraft, now: number, more: (seq: number) => void): number | null;
  /** The first decision still awaiting its outcome. */
  oldestPending(): number | null;
  /** Wake the alarm at `at` unless it is set earlier already. */
  schedule(at: number): void;
}

const RETRY_MS = 60_000;
const MAX_RETRY_MS = 10 * 60_000;

export class LogMaintenance {
  readonly #env: Env;
  readonly #host: UpkeepHost;
  readonly #store: MaintenanceStorage;
  readonly #cadence: CheckpointCadence;
  readonly #signing: boolean;
  #checkpoint: CheckpointMark | null = null;
  #archivedThrough = 0;
  /** Where the stored log starts: genesis, or the last record retention deleted. */
  #pruned: ChainPoint = { seq: 0, hash: GENESIS_HASH };
  #failures = 0;

  constructor(env: Env, sql: SqlStorage, host: UpkeepHost) {
    this.#env = env;
    this.#host = host;
    this.#store = new MaintenanceStorage(sql);
    this.#signing = signingConfigured(env);
    this.#cadence = new CheckpointCadence(checkpointEvery(env.AUDIT_CHECKPOINT_EVERY));
  }

  /** Reads where upkeep stands, for an object that starts with a provisioned grant. */
  load(): void {
    const checkpoint = this.#store.latest("checkpoint");
    this.#checkpoint = checkpoint === null ? null : { seq: checkpoint.seq, ref: checkpoint.ref, at: Date.parse(checkpoint.time) };
    this.#archivedThrough = this.#store.latest("archived")?.ref ?? 0;
    const pruned = this.#store.latest("pruned");
    if (pruned !== null && pruned.headHash !== undefined) this.#pruned = { seq: pruned.ref, hash: pruned.headHash };
    if (!this.#signing) return;
    const uncovered = this.#store.uncovered(this.#checkpoint?.ref ?? 0, this.#cadence.every);
    this.#cadence.restore(uncovered.count, uncovered.firstAt);
  }

  /** Records were appended (hot path). */
  written(drafts: readonly AuditDraft[], at: number): void {
    if (!this.#signing) return;
    let count = 0;
    for (const draft of drafts) if (!UPKEEP_KINDS.includes(draft.type)) count++;
    const due = count === 0 ? null : this.#cadence.written(count, at);
    if (due !== null) this.#host.schedule(due);
  }

  /** After a start: wake for whatever upkeep was left undone. */
  resume(now: number): void {
    if (!this.#signing || this.#host.state() === null) return;
    const checkpoint = this.#checkpoint;
    const archiveDue = this.#bucket() !== null && checkpoint !== null && this.#archivedThrough < checkpoint.seq;
    const pruneDue = retentionMs(this.#env.AUDIT_RETENTION_DAYS) !== null && this.#pruned.seq < Math.min(this.#archivedThrough, checkpoint?.ref ?? 0);
    const due = this.#cadence.dueAt();
    if (due !== null) this.#host.schedule(due);
    if (archiveDue || pruneDue) this.#host.schedule(now);
  }

  /**
   * The alarm's share: seal a checkpoint when one is due, archive what is sealed, prune what may go.
   * Never throws: the alarm's outcome records must not be retried because upkeep failed.
   */
  async run(now: number): Promise<void> {
    if (!this.#signing || this.#host.state() === null) return;
    try {
      await this.#runSteps(now);
    } catch (error) {
      console.error(
        JSON.stringify({ event: "audit_upkeep_failed", grant: this.#host.state()?.grantId ?? null, error: error instanceof Error ? error.name : "unknown" }),
      );
      this.#wake(now, [], true);
    }
  }

  async #runSteps(now: number): Promise<void> {
    const signer = await auditSigner(this.#env);
    if (!signer.ok || signer.value === null) {
      if (!signer.ok) logKeyProblem(signer.error, this.#host.state()?.grantId ?? null);
      return this.#wake(now, [], true);
    }
    let failed = false;
    const due = this.#cadence.dueAt();
    if (due !== null && due <= now) failed = !(await this.#seal(signer.value, now));
    const archive = await this.#archive(signer.value, now);
    const prune = this.#prune(now);
    this.#wake(now, [this.#cadence.dueAt(), archive === "more" ? now : null, prune], failed || archive === "failed");
  }

  async #seal(signer: AuditSigner, now: number): Promise<boolean> {
    const covered = this.#cadence.uncovered;
    const mark = await sealCheckpoint(this.#host, this.#store, signer, now);
    if (mark === null) return false;
    this.#checkpoint = mark;
    this.#cadence.sealed(covered, now);
    return true;
  }

  async #archive(signer: AuditSigner, now: number): Promise<"done" | "more" | "failed"> {
    const bucket = this.#bucket();
    const checkpoint = this.#checkpoint;
    if (bucket === null || checkpoint === null || this.#archivedThrough >= checkpoint.seq) return "done";
    const progress = await archiveSealed(
      this.#host,
      this.#store,
      bucket,
      signer,
      { archivedThrough: this.#archivedThrough, sealedThrough: checkpoint.seq },
      now,
    );
    this.#archivedThrough = progress.archivedThrough;
    return progress.outcome;
  }

  /** One batch of retention; when to look again. Never without an archive. */
  #prune(now: number): number | null {
    const keepMs = retentionMs(this.#env.AUDIT_RETENTION_DAYS);
    if (keepMs === null || this.#bucket() === null) return null;
    const limits = { prunedThrough: this.#pruned.seq, archivedThrough: this.#archivedThrough, coveredThrough: this.#checkpoint?.ref ?? 0 };
    const { pruned, wakeAt } = pruneBatch(this.#host, this.#store, limits, keepMs, now);
    if (pruned !== null) this.#pruned = pruned;
    return wakeAt;
  }

  /** Sets the alarm for the earliest of `times`; after a failure, no sooner than the back-off. */
  #wake(now: number, times: (number | null)[], failed: boolean): void {
    this.#failures = failed ? this.#failures + 1 : 0;
    let at = Math.min(...times.filter((t): t is number => t !== null));
    if (failed) at = Math.max(Number.isFinite(at) ? at : 0, now + Math.min(RETRY_MS * 2 ** (this.#failures - 1), MAX_RETRY_MS));
    if (Number.isFinite(at)) this.#host.schedule(at);
  }

  #bucket(): R2Bucket | null {
    return (this.#env.AUDIT_ARCHIVE as R2Bucket | undefined) ?? null;
  }

  /** Where the stored log starts (for checking the chain). */
  chainStart(): ChainPoint {
    return this.#pruned;
  }

  /**
   * The signed header of an export of records after `after`, up to `until` extended to the first
   * checkpoint that covers it (to the end when `until` is null). Records already pruned are left
   * out: the header's start then says where the kept log begins.
   */
  async exportHeader(after: number, until: number | null, now: number): Promise<ExportHeader | null> {
    const state = this.#host.state();
    if (state === null) return null;
    const head = this.#host.head();
    const startSeq = Math.min(Math.max(after, this.#pruned.seq), head.seq);
    const start = startSeq === this.#pruned.seq ? this.#pruned : startSeq === head.seq ? head : { seq: startSeq, hash: this.#store.hashOf(startSeq)! };
    const endSeq = this.#exportEnd(startSeq, until, head.seq);
    const end = endSeq === head.seq ? head : endSeq === start.seq ? start : { seq: endSeq, hash: this.#store.hashOf(endSeq)! };
    const signer = await auditSigner(this.#env);
    if (!signer.ok) throw new Error(signer.error);
    const header: ExportHeader = {
      format: EXPORT_FORMAT,
      grantId: state.grantId,
      after,
      until,
      start,
      end,
      time: isoTime(now),
      keyId: signer.value?.keyId ?? null,
      signature: null,
    };
    if (signer.value !== null) header.signature = await signer.value.sign(exportStatement(header));
    return header;
  }

  #exportEnd(startSeq: number, until: number | null, headSeq: number): number {
    if (until === null || until >= headSeq) return headSeq;
    if (until <= startSeq) return startSeq;
    const latest = this.#checkpoint;
    return (latest !== null && latest.ref >= until ? this.#store.coveringCheckpoint(until) : null) ?? until;
  }

  /** Stored records for an export, as stored. */
  readLines(after: number, through: number, limit: number): LogLines {
    return this.#store.readLines(after, through, Math.min(1000, Math.max(1, Math.floor(limit))));
  }
}

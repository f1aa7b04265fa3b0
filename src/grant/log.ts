/**
 * The grant's hash-chained log, as the object appends to it: the chain head in memory, and each
 * append sealed, written and only then made the new head.
 *
 * One INSERT is atomic on its own; a write that also changes other tables (`more`), or a batch
 * too large for one statement, runs in one transaction. Either way the head moves only once the
 * write has landed, so memory never runs ahead of storage.
 */
import { GENESIS_HASH, sealRecordJson, type AuditDraft } from "./audit";
import { GrantStorage, type RowFacts } from "./storage";

export class ChainedLog {
  readonly #storage: GrantStorage;
  #nextSeq = 1;
  #lastHash = GENESIS_HASH;

  constructor(storage: GrantStorage) {
    this.#storage = storage;
  }

  /** Continues the chain after a stored head (the last record's seq and hash). */
  resume(head: { seq: number; hash: string } | null): void {
    if (head === null) return;
    this.#nextSeq = head.seq + 1;
    this.#lastHash = head.hash;
  }

  /** The last record written: its seq (0 before the first) and hash. */
  get head(): { seq: number; hash: string } {
    return { seq: this.#nextSeq - 1, hash: this.#lastHash };
  }

  /** The seq the next record will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Appends records with their log columns, and runs `more` with them; false when nothing landed. */
  append(drafts: readonly AuditDraft[], facts: readonly RowFacts[], more: (() => void) | null, grantId: string | null): boolean {
    let seq = this.#nextSeq;
    let hash = this.#lastHash;
    const rows = drafts.map((draft, i) => {
      const sealed = sealRecordJson({ ...draft, seq }, hash);
      hash = sealed.hash;
      return { seq: seq++, json: sealed.json, ...facts[i]! };
    });
    try {
      if (more === null && !GrantStorage.needsTransaction(rows.length)) this.#storage.appendRows(rows);
      else
        this.#storage.transaction(() => {
          this.#storage.appendRows(rows);
          more?.();
        });
    } catch (error) {
      console.error(JSON.stringify({ event: "grant_write_failed", grant: grantId, error: error instanceof Error ? error.name : "unknown" }));
      return false;
    }
    this.#nextSeq = seq;
    this.#lastHash = hash;
    return true;
  }
}

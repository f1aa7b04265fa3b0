/**
 * The approval requests of one grant, inside its Durable Object (a thin shell over
 * src/grant/approvals.ts, approval-records.ts and approval-storage.ts).
 *
 * Lifecycle: a call's gate() step opens, consumes or finds expired a request (written with the
 * call's records, in the same storage step). An approver's verdict is one synchronous
 * check-and-write here: the first decision wins. Calls held open by the gateway wait on
 * `wait()`, which resolves the moment the request is decided. The alarm expires requests nobody
 * decided (erasing their values), keeps the KV listing index current, and delivers webhooks.
 *
 * Trade-offs: waiters live in memory; if the object is evicted while a call is held, the gateway's
 * wait fails and it asks again (docs/approvals.md). The listing index is written after the fact.
 */
import { isoTime, type Clock } from "../clock";
import { err, ok, type Result } from "../result";
import { putApprovalIndex } from "../store/approvals";
import type { AuditDraft } from "./audit";
import { changed, expiryRecord, planRestore, planVerdict, restoredRecord, verdictRecord } from "./approval-records";
import { ApprovalStorage } from "./approval-storage";
import { postWebhook, retryAt, webhookBody } from "./approval-webhook";
import {
  approvalView,
  currentStatus,
  type ApprovalChange,
  type ApprovalError,
  type ApprovalStatus,
  type ApprovalVerdict,
  type ApprovalView,
  type StoredApproval,
} from "./approvals";
import type { PolicyRef } from "./protocol";
import type { GrantState } from "./state";

/** What the queue needs from the object that holds it. */
export interface ApprovalHost {
  clock: Clock;
  state(): GrantState | null;
  policy(): PolicyRef | null;
  /** Appends records to the grant's log and runs `more` in the same storage step; false if it failed. */
  record(drafts: AuditDraft[], more: () => void): boolean;
  /** Makes sure the object's alarm runs by `at`. */
  wakeBy(at: number): void;
  kv: KVNamespace;
}

/** A held call waits at most this long per `wait()`; the gateway asks again. */
const LONGEST_WAIT_MS = 60_000;
/** Index entries and webhook deliveries handled per alarm run; the rest on the next run. */
const PER_ALARM = 20;

export class ApprovalQueue {
  readonly #storage: ApprovalStorage;
  readonly #host: ApprovalHost;
  readonly #waiters = new Map<string, Set<(status: ApprovalStatus | null) => void>>();

  constructor(sql: SqlStorage, host: ApprovalHost) {
    this.#storage = new ApprovalStorage(sql);
    this.#host = host;
  }

  latest = (tool: string, argsSha256: string): StoredApproval | null => this.#storage.latestFor(tool, argsSha256);

  /** Stores a gate() step's changes; runs inside that step's transaction. */
  apply(changes: readonly ApprovalChange[], now: number): void {
    const webhook = this.#host.state()?.upstream.approvalWebhook ?? null;
    for (const change of changes) {
      if (change.kind === "open") this.#storage.insert(change.approval, webhook === null ? null : now);
      else this.#storage.update(changed(change, now));
    }
  }

  /** After the step landed: wake held calls, and the alarm for the index and the webhook. */
  applied(changes: readonly ApprovalChange[], now: number): void {
    if (changes.length === 0) return;
    for (const change of changes) if (change.kind !== "open") this.#notify(change.approval.id, changed(change, now).status);
    this.#host.wakeBy(now);
  }

  /** After a policy change: requests made under the old version are void, and the alarm records them so. */
  policyChanged(now: number): void {
    if (this.#storage.nextWake(now) !== null) this.#host.wakeBy(now);
  }

  view(id: string, withValues: boolean): ApprovalView | null {
    const state = this.#host.state();
    const a = state === null ? null : this.#storage.byId(id);
    if (state === null || a === null) return null;
    return approvalView(a, state, currentStatus(a, this.#host.clock(), this.#host.policy()).status, withValues);
  }

  /** Approve or reject: one synchronous check-and-write, so the first decision wins. */
  decide(id: string, verdict: ApprovalVerdict, by: string, reason: string | null): Result<ApprovalView, ApprovalError> {
    const state = this.#host.state();
    const a = state === null ? null : this.#storage.byId(id);
    if (state === null || a === null) return err({ code: "not_found" });
    const now = this.#host.clock();
    const plan = planVerdict(a, verdict, now, this.#host.policy(), by, reason);
    if (!plan.ok) {
      if (plan.error.code === "expired" && plan.error.lapsed !== null) this.#expire(state, a, plan.error.lapsed, now);
      const code = plan.error.code;
      return err({ code, approval: approvalView(a, state, currentStatus(a, now, this.#host.policy()).status, false) });
    }
    const next = plan.value.next;
    if (!this.#host.record([verdictRecord(state, now, next)], () => this.#storage.update(next))) throw new Error("the grant's storage refused the decision");
    this.#notify(id, next.status);
    this.#host.wakeBy(now);
    return ok(approvalView(next, state, next.status, false));
  }

  /** The call that consumed this approval never reached the upstream: the approval stands again (docs/approvals.md). */
  restore(id: string, requestId: string, now: number): void {
    const state = this.#host.state();
    const a = state === null ? null : this.#storage.byId(id);
    const next = a === null ? null : planRestore(a, now, this.#host.policy());
    if (state === null || next === null) return;
    if (!this.#host.record([restoredRecord(state, now, next, requestId)], () => this.#storage.update(next))) return;
    this.#notify(id, next.status);
    this.#host.wakeBy(now);
  }

  /** The status once the request is no longer pending, or "pending" after `timeoutMs` (bounded). */
  wait(id: string, timeoutMs: number): Promise<ApprovalStatus | null> {
    const a = this.#host.state() === null ? null : this.#storage.byId(id);
    if (a === null) return Promise.resolve(null);
    const now = this.#host.clock();
    const status = currentStatus(a, now, this.#host.policy()).status;
    if (status !== "pending") return Promise.resolve(status);
    const bound = Math.max(0, Math.min(timeoutMs, LONGEST_WAIT_MS, a.expires - now));
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, waiters);
      const done = (result: ApprovalStatus | null): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiters.delete(id);
        resolve(result);
      };
      const timer = setTimeout(() => {
        const latest = this.#storage.byId(id);
        done(latest === null ? null : currentStatus(latest, this.#host.clock(), this.#host.policy()).status);
      }, bound);
      waiters.add(done);
    });
  }

  /** The alarm's share: expire lapsed requests, update the listing index, deliver webhooks. Returns when to run next. */
  async onAlarm(now: number): Promise<number | null> {
    const state = this.#host.state();
    if (state === null) return null;
    for (const a of this.#storage.lapsed(now, this.#host.policy())) {
      this.#expire(state, a, currentStatus(a, now, this.#host.policy()).why ?? "expired", now);
    }
    await Promise.all([this.#index(state, now), this.#deliver(state, now)]);
    return this.#storage.nextWake(this.#host.clock());
  }

  #expire(state: GrantState, a: StoredApproval, why: string, now: number): void {
    const next = changed({ kind: "expire", approval: a, why }, now);
    if (!this.#host.record([expiryRecord(state, now, a, why)], () => this.#storage.update(next))) return;
    this.#notify(a.id, "expired");
    this.#host.wakeBy(now);
  }

  #notify(id: string, status: ApprovalStatus): void {
    for (const done of [...(this.#waiters.get(id) ?? [])]) done(status);
  }

  async #index(state: GrantState, now: number): Promise<void> {
    const rows = this.#storage.unindexed(PER_ALARM);
    await Promise.all(
      rows.map(async (a) => {
        const status = currentStatus(a, now, this.#host.policy()).status;
        const entry = {
          grantId: state.grantId,
          serverId: state.serverId,
          tool: a.tool,
          status,
          requested: isoTime(a.requested),
          expires: isoTime(a.expires),
        };
        try {
          await putApprovalIndex(this.#host.kv, a.id, entry, now);
          // The row's own status: a lapse not yet recorded is written again once it is.
          this.#storage.setIndexed(a.id, a.status);
        } catch (error) {
          console.error(
            JSON.stringify({ event: "approval_index_failed", grant: state.grantId, approval: a.id, error: error instanceof Error ? error.name : "unknown" }),
          );
        }
      }),
    );
  }

  async #deliver(state: GrantState, now: number): Promise<void> {
    const due = this.#storage.dueDeliveries(now, PER_ALARM);
    const webhook = state.upstream.approvalWebhook ?? null;
    await Promise.all(
      due.map(async ({ approval: a, attempts }) => {
        if (webhook === null) return this.#storage.setDelivery(a.id, attempts, null);
        const status = await postWebhook(webhook.url, webhook.secret, webhookBody(a, state));
        const tried = attempts + 1;
        if (status !== null && status >= 200 && status < 300) return this.#storage.setDelivery(a.id, tried, null);
        const next = retryAt(tried, this.#host.clock(), a.expires);
        console.error(JSON.stringify({ event: "approval_webhook_failed", grant: state.grantId, approval: a.id, attempt: tried, status, retry: next !== null }));
        this.#storage.setDelivery(a.id, tried, next);
      }),
    );
  }
}

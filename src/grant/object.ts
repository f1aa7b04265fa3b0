/**
 * The grant's Durable Object class (docs/storage.md, "Durable Object: GrantObject").
 * Longer than 300 lines because it is the object's whole RPC surface and memory: every method is a
 * few lines that delegate to a pure module (gate.ts, settle.ts, transitions.ts, approvals.ts, maintenance.ts) or to
 * a storage class.
 */
import { DurableObject } from "cloudflare:workers";
import { isoTime, systemClock, type Clock } from "../clock";
import { err, ok } from "../result";
import { verifyStoredChain, type AuditDraft } from "./audit";
import { CounterLedger } from "./counters";
import { ApprovalQueue } from "./approval-queue";
import type { ApprovalError, ApprovalStatus, ApprovalVerdict, ApprovalView } from "./approvals";
import { admitRefusal, type RefusalWindow } from "./decide";
import { planGate, type GatePlan } from "./gate";
import { LogMaintenance, type ExportHeader, type LogLines } from "./maintenance";
import type {
  AuditPage,
  GateRequest,
  GateResult,
  GrantInfo,
  GrantObjectApi,
  GrantProvision,
  GrantResult,
  PolicySnapshot,
  Settlement,
  Upstream,
} from "./protocol";
import { ChainedLog } from "./log";
import type { Result } from "../result";
import { newApprovalId } from "./token";
import { draftRecord } from "./records";
import { DEFAULT_SESSION_IDLE_MS, SessionTable } from "./sessions";
import { OUTCOME_DEADLINE_MS, overdue, planSettlement } from "./settle";
import { activePolicy, infoOf, type ActivePolicy, type GrantState } from "./state";
import { GrantStorage, OUTCOME, plainFacts, type PendingRow, type RowFacts } from "./storage";
import * as transitions from "./transitions";

/** How many requests recorded as "unknown" are remembered, so a late outcome is still appended. */
const LATE_OUTCOMES_KEPT = 1000;
/** Counted events older than every window are deleted at most this often (it costs a write). */
const PRUNE_EVERY_MS = 10 * 60 * 1000;
const DAY_MS = 86_400_000;
const UNAUTHENTICATED: GateResult = { ok: false, reason: "unauthenticated" };

/**
 * One grant's Durable Object: the authority for its token, revocation, policy and upstream, its
 * exact rate counters and its append-only, hash-chained audit log. A thin shell: SQL lives in
 * storage.ts, decisions in gate.ts / decide.ts, admin transitions in transitions.ts, outcomes in
 * settle.ts; this class loads memory, runs those, and writes what they return.
 *
 * Every check-and-write runs without an await between its first read and its last write, so the
 * input gate makes check-and-reserve atomic, and the output gate holds each answer until its
 * writes are durable (docs/storage.md). The log (log.ts) is the only durable truth about calls:
 * a request's records and the quota they took land together or not at all.
 */
export class GrantObject extends DurableObject<Env> implements GrantObjectApi {
  readonly #storage: GrantStorage;
  readonly #maintenance: LogMaintenance;
  readonly #clock: Clock = systemClock;
  readonly #approvals: ApprovalQueue;
  /** Forwarded requests (by seq) that consumed an approval, until their outcome; lost on eviction (the approval then stays spent). */
  readonly #consumedBy = new Map<number, string>();
  #state: GrantState | null = null;
  #policy: ActivePolicy | null = null;
  readonly #ledger = new CounterLedger();
  readonly #pending = new Map<number, PendingRow>();
  /** Requests the alarm recorded as "unknown", oldest first; a late outcome is still appended. */
  readonly #recordedUnknown = new Map<number, PendingRow>();
  readonly #sessions: SessionTable;
  readonly #tasks = new Set<string>();
  /** Tool pinning: the server's quarantined tools, as its object last pushed them. */
  #quarantined: ReadonlySet<string> = new Set();
  readonly #log: ChainedLog;
  #alarmAt: number | null = null;
  #prunedAt = 0;
  /** Refused requests recorded per minute (memory only: after an eviction the count starts again). */
  readonly #refusals: RefusalWindow = { start: 0, recorded: 0, unreported: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new GrantStorage(ctx.storage);
    this.#log = new ChainedLog(this.#storage);
    this.#approvals = new ApprovalQueue(ctx.storage.sql, {
      clock: this.#clock,
      state: () => this.#state,
      policy: () => this.#policy?.ref ?? null,
      record: (drafts, more) =>
        this.#write(
          drafts,
          drafts.map(() => plainFacts(this.#clock())),
          more,
        ),
      wakeBy: (at) => this.#wakeBy(at),
      kv: env.RECORDS,
    });
    this.#sessions = new SessionTable(Number(env.SESSION_IDLE_MS) || DEFAULT_SESSION_IDLE_MS);
    // Checkpoints, archive, retention and export headers (docs/audit.md), lent what they need.
    this.#maintenance = new LogMaintenance(env, ctx.storage.sql, {
      state: () => this.#state,
      policy: () => this.#policy,
      head: () => this.#log.head,
      append: (draft, at, more) => (this.#write([draft], [plainFacts(at)], () => more(this.#log.nextSeq)) ? this.#log.nextSeq - 1 : null),
      oldestPending: () => this.#pending.keys().next().value ?? null,
      schedule: (at) => this.#wakeBy(at),
    });
    const now = this.#clock();
    const loaded = this.#storage.load((state) => activePolicy(state, null)?.retentionMs ?? DAY_MS, now);
    if (loaded === null) return;
    this.#adopt(loaded.state);
    this.#log.resume(loaded.head);
    for (const e of loaded.counted) this.#ledger.add(e.counter, { at: e.at, amount: e.amount, seq: e.requestSeq });
    for (const p of loaded.pending) this.#pending.set(p.seq, p);
    for (const s of loaded.sessions) this.#sessions.restore(s.id, s.lastUsed, now);
    for (const t of loaded.tasks) this.#tasks.add(t);
    this.#maintenance.load();
    void ctx.blockConcurrencyWhile(async () => {
      this.#alarmAt = await ctx.storage.getAlarm();
      this.#maintenance.resume(now);
    });
  }

  // ---- the gateway's hot path -------------------------------------------------------------

  async gate(req: GateRequest): Promise<GateResult> {
    // From here to the return there is no await: one storage step (see the class comment).
    const now = this.#clock();
    const state = this.#state;
    if (state === null) return UNAUTHENTICATED;
    // Outcomes the gateway carried along: first, so released reservations count for this request.
    for (const s of req.settlements ?? []) this.#settle(s, now);
    const plan = planGate(
      {
        state,
        policy: this.#policy,
        nextSeq: this.#log.nextSeq,
        now,
        eventsFor: this.#ledger.eventsFor,
        taskBound: (id) => this.#tasks.has(id),
        quarantined: this.#quarantined,
        sessionCheck: (id, at) => this.#sessions.check(id, at),
        approvals: { latest: this.#approvals.latest, newId: () => newApprovalId(state.grantId, now) },
      },
      req,
    );
    return this.#commitGate(plan, state, req, now);
  }

  #commitGate(plan: GatePlan, state: GrantState, req: GateRequest, now: number): GateResult {
    if (plan.kind === "refused") {
      // Recorded so auditors see token guessing against a grant, up to a bound per minute.
      const admitted = admitRefusal(this.#refusals, now);
      if (admitted.record) {
        const note = admitted.unreported > 0 ? ` (${admitted.unreported} earlier refusals were counted but not recorded one by one)` : "";
        const fields = { requestId: req.requestId, httpMethod: req.httpMethod, decision: "reject", code: "unauthenticated", message: plan.message + note };
        this.#write([draftRecord(state, isoTime(now), "decision", this.#policy?.ref ?? null, fields)], [plainFacts(now)], null);
      }
      return UNAUTHENTICATED;
    }
    if (plan.kind === "unknown_session") {
      const expired = plan.expired;
      this.#write([plan.draft], [plainFacts(now)], expired === null ? null : () => this.#storage.closeSession(expired));
      if (expired !== null) this.#sessions.close(expired);
      return { ok: false, reason: "unknown_session" };
    }
    const touch = req.sessionId !== null && this.#sessions.touch(req.sessionId, now) ? req.sessionId : null;
    const approvals = plan.approvals;
    const more = () => {
      if (touch !== null) this.#storage.touchSession(touch, now);
      this.#approvals.apply(approvals, now);
    };
    if (!this.#write(plan.drafts, plan.facts, touch === null && approvals.length === 0 ? null : more)) return { ok: false, reason: "unavailable" };
    this.#approvals.applied(approvals, now);
    for (const take of plan.takes) this.#ledger.add(take.counter, { at: now, amount: take.amount, seq: take.requestSeq });
    if (plan.pending !== null) this.#expectOutcome({ ...plan.pending, requestId: req.requestId, at: now });
    const consumed = approvals.find((c) => c.kind === "consume");
    if (consumed !== undefined && plan.pending !== null) this.#consumedBy.set(plan.pending.seq, consumed.approval.id);
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) this.#pruneCounters(now);
    return plan.result;
  }

  async bindSession(seq: number, sessionId: string): Promise<void> {
    if (this.#state === null || sessionId.length === 0 || this.#sessions.has(sessionId)) return;
    const now = this.#clock();
    this.#storage.openSession(sessionId, seq, now);
    this.#sessions.open(sessionId, now);
  }

  async bindTasks(seq: number, taskIds: string[]): Promise<void> {
    if (this.#state === null) return;
    const fresh = taskIds.filter((id) => id.length > 0 && !this.#tasks.has(id));
    this.#storage.transaction(() => {
      for (const id of fresh) this.#storage.bindTask(id, seq);
    });
    for (const id of fresh) this.#tasks.add(id);
  }

  async boundTasks(taskIds: string[]): Promise<string[]> {
    return taskIds.filter((id) => this.#tasks.has(id));
  }

  async settle(batch: Settlement | Settlement[]): Promise<void> {
    const now = this.#clock();
    for (const s of Array.isArray(batch) ? batch : [batch]) this.#settle(s, now);
  }

  #settle(s: Settlement, now: number): void {
    const state = this.#state;
    if (state === null) return;
    const pending = this.#pending.get(s.seq);
    const late = pending === undefined ? this.#recordedUnknown.get(s.seq) : undefined;
    const plan = planSettlement(state, null, pending, late, s, now, isoTime(now));
    if (plan === null) return;
    const closing = plan.sessionClosed !== null && this.#sessions.has(plan.sessionClosed) ? plan.sessionClosed : null;
    const opening = plan.sessionOpened !== null && plan.sessionOpened.length > 0 && !this.#sessions.has(plan.sessionOpened) ? plan.sessionOpened : null;
    const sessions =
      opening === null && closing === null
        ? null
        : () => {
            if (opening !== null) this.#storage.openSession(opening, s.seq, now);
            if (closing !== null) this.#storage.closeSession(closing);
          };
    if (!this.#write([plan.draft], [plan.facts], sessions)) return;
    if (pending !== undefined) this.#pending.delete(s.seq);
    else this.#recordedUnknown.delete(s.seq);
    if (plan.release !== null) this.#ledger.release(plan.release);
    const approvalId = this.#consumedBy.get(s.seq);
    this.#consumedBy.delete(s.seq);
    if (approvalId !== undefined && plan.release !== null) this.#approvals.restore(approvalId, s.requestId, now);
    if (opening !== null) this.#sessions.open(opening, now);
    if (closing !== null) this.#sessions.close(closing);
  }

  /** Records an "unknown" outcome for every request still pending after the deadline, then the log's upkeep. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const state = this.#state;
    if (state === null) return;
    const now = this.#clock();
    const { due, next } = overdue(this.#pending.values(), now);
    for (const pending of due) {
      const fields = { requestId: pending.requestId, decision: "unknown", message: "no outcome was reported", ref: pending.seq };
      const facts: RowFacts = { at: now, requestSeq: pending.seq, counted: null, flag: OUTCOME };
      if (!this.#write([draftRecord(state, isoTime(now), "outcome", null, fields)], [facts], null)) continue;
      this.#pending.delete(pending.seq);
      this.#consumedBy.delete(pending.seq);
      this.#recordedUnknown.set(pending.seq, pending);
      if (this.#recordedUnknown.size > LATE_OUTCOMES_KEPT) this.#recordedUnknown.delete(this.#recordedUnknown.keys().next().value!);
    }
    if (next !== null) this.#wakeBy(next);
    const approvalsNext = await this.#approvals.onAlarm(now);
    if (approvalsNext !== null) this.#wakeBy(approvalsNext);
    await this.#maintenance.run(now);
  }

  // ---- approvals (src/grant/approval-queue.ts) --------------------------------------------

  async approval(id: string, withValues: boolean): Promise<ApprovalView | null> {
    return this.#approvals.view(id, withValues);
  }

  async approvals(ids: string[]): Promise<ApprovalView[]> {
    return ids.flatMap((id) => this.#approvals.view(id, false) ?? []);
  }

  async decideApproval(id: string, verdict: ApprovalVerdict, by: string, reason: string | null): Promise<Result<ApprovalView, ApprovalError>> {
    return this.#approvals.decide(id, verdict, by, reason);
  }

  async awaitApproval(id: string, timeoutMs: number): Promise<ApprovalStatus | null> {
    return this.#approvals.wait(id, timeoutMs);
  }

  // ---- admin ------------------------------------------------------------------------------

  async provision(p: GrantProvision): Promise<GrantResult> {
    return this.#transition(transitions.provision(this.#state, p));
  }

  async rotate(tokenHash: string): Promise<GrantResult> {
    return this.#transition(transitions.rotate(this.#state, tokenHash, isoTime(this.#clock())));
  }

  async revoke(): Promise<GrantResult> {
    return this.#transition(transitions.revoke(this.#state, isoTime(this.#clock())));
  }

  async setLabel(label: string): Promise<GrantResult> {
    return this.#transition(transitions.setLabel(this.#state, label));
  }

  async setPolicy(policyName: string | null, snapshot: PolicySnapshot | null): Promise<GrantResult> {
    return this.#transition(transitions.setPolicy(this.#state, policyName, snapshot));
  }

  async setUpstream(upstream: Upstream): Promise<GrantResult> {
    return this.#transition(transitions.setUpstream(this.#state, upstream));
  }

  /**
   * Takes the server's quarantine (tool pinning) and records what changed; true when taken (or
   * already held). Calls to a quarantined tool are refused from the next request on.
   */
  async setQuarantine(generation: number, tools: string[], events: { action: string; message: string }[]): Promise<boolean> {
    const result = transitions.setQuarantine(this.#state, generation, tools);
    if (!result.ok) return false;
    if (result.value === null) return true;
    const state = result.value;
    const now = this.#clock();
    const drafts = events.map((e) => draftRecord(state, isoTime(now), "admin", this.#policy?.ref ?? null, { decision: e.action, message: e.message }));
    if (
      !this.#write(
        drafts,
        drafts.map(() => plainFacts(now)),
        () => this.#storage.saveState(state),
      )
    )
      return false;
    this.#adopt(state);
    return true;
  }

  async info(): Promise<GrantInfo | null> {
    return this.#state === null ? null : infoOf(this.#state);
  }

  async readAudit(after: number, limit: number): Promise<AuditPage> {
    return this.#state === null ? { records: [], next: null } : this.#storage.readPage(after, limit);
  }

  async verifyAudit(): Promise<{ ok: true; count: number } | { ok: false; brokenAt: number }> {
    return verifyStoredChain(this.#state === null ? [] : this.#storage.allRecords(), this.#maintenance.chainStart());
  }

  async auditExport(after: number, until: number | null): Promise<ExportHeader | null> {
    return this.#maintenance.exportHeader(after, until, this.#clock());
  }

  async readAuditLines(after: number, through: number, limit: number): Promise<LogLines> {
    return this.#state === null ? { lines: [], first: null, last: null } : this.#maintenance.readLines(after, through, limit);
  }

  // ---- internals --------------------------------------------------------------------------

  #transition(result: transitions.TransitionResult): GrantResult {
    if (!result.ok) return err(result.error);
    const change = result.value;
    const current = this.#state;
    if (change === null) return current === null ? err({ code: "not_provisioned" }) : ok(infoOf(current));
    if (current === null) this.#storage.migrate();
    const policy = activePolicy(change.state, this.#policy);
    const now = this.#clock();
    const draft = draftRecord(change.state, isoTime(now), "admin", policy?.ref ?? null, { decision: change.action, message: change.detail });
    const written = this.#write([draft], [plainFacts(now)], () => this.#storage.saveState(change.state));
    if (!written) throw new Error("the grant's storage refused the change");
    const before = this.#policy?.ref.sha256;
    this.#adopt(change.state);
    if (this.#policy?.ref.sha256 !== before || change.action === "set_policy") this.#approvals.policyChanged(now);
    return ok(infoOf(change.state));
  }

  /** Makes `state` the enforced state in memory; the policy is derived once per version. */
  #adopt(state: GrantState): void {
    this.#state = state;
    this.#policy = activePolicy(state, this.#policy);
    this.#quarantined = new Set(state.quarantined ?? []);
  }

  #write(drafts: AuditDraft[], facts: RowFacts[], more: (() => void) | null): boolean {
    if (!this.#log.append(drafts, facts, more, this.#state?.grantId ?? null)) return false;
    this.#maintenance.written(drafts, facts[0]?.at ?? 0);
    return true;
  }

  #expectOutcome(pending: PendingRow): void {
    this.#pending.set(pending.seq, pending);
    this.#wakeBy(pending.at + OUTCOME_DEADLINE_MS);
  }

  /** Makes sure the alarm runs by `at` (an earlier one already set stays). */
  #wakeBy(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    // Not awaited: the write joins this storage step and the output gate waits for it.
    void this.ctx.storage.setAlarm(at);
  }

  /** Forgets counted events older than every window (memory only: the log keeps them). */
  #pruneCounters(now: number): void {
    this.#prunedAt = now;
    this.#ledger.prune(now - (this.#policy?.retentionMs ?? DAY_MS));
  }
}

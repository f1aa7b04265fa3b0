import { DurableObject } from "cloudflare:workers";
import { parsePolicy, type PolicyDocument } from "../policy/schema";
import { toolVisibility } from "../policy/visibility";
import { GENESIS_HASH, sealRecordJson, ChainVerifier, type AuditDraft } from "./audit";
import { CounterLedger } from "./counters";
import { admitRefusal, decideMessage, needsVisibility, retentionSeconds, tokenHashMatches, type DecisionFields, type RefusalWindow } from "./decide";
import type {
  AuditPage,
  AuditRecord,
  GateRequest,
  GateResult,
  GrantInfo,
  GrantObjectApi,
  GrantProvision,
  MessageDecision,
  PolicySnapshot,
  Settlement,
  ToolVisibility,
  Upstream,
} from "./protocol";
import { GRANT_SCHEMA } from "./tables";

/** What the Durable Object enforces for its grant: what the admin API provisioned, plus its lifecycle; stored as one JSON row. */
interface GrantState extends GrantProvision {
  revoked: string | null;
  rotated: string | null;
}

/** The policy as enforced: the validated document and what is derived from it once per version. */
interface ActivePolicy {
  ref: { name: string; version: number };
  document: PolicyDocument;
  visibility: ToolVisibility;
  /** How long counted events must be kept: the longest window in the policy, at least a day. */
  retentionMs: number;
}

interface PendingOutcome {
  lastSeq: number;
  requestId: string;
  at: number;
}

/** A forwarded request with no settle() after this long gets an "unknown" outcome record. */
const OUTCOME_DEADLINE_MS = 2 * 60 * 1000;
/**
 * How many requests recorded as "unknown" are remembered (in memory) so that an outcome arriving
 * later, such as a tool call streaming for longer than the deadline, is still appended.
 */
const LATE_OUTCOMES_KEPT = 1000;
/** Counted events older than every window are deleted at most this often (it costs a write). */
const PRUNE_EVERY_MS = 10 * 60 * 1000;
const DAY_MS = 86_400_000;
const TOKEN_HASH = /^[0-9a-f]{64}$/;
const UNAUTHENTICATED: GateResult = { ok: false, reason: "unauthenticated" };
const FORWARD: MessageDecision = { outcome: "forward", monitored: null };
const NOTHING_VISIBLE = toolVisibility(null);

/**
 * One grant's Durable Object: the authority for its token, revocation, policy and upstream, its
 * exact rate counters and its append-only, hash-chained audit log.
 *
 * Storage layout (SQLite, see tables.ts and docs/storage.md):
 * - `grant_state`: one JSON row with everything `gate()` enforces.
 * - `audit`: one row per record, keyed by `seq`, holding the record's canonical JSON.
 * - `counter_event`: one row per (decision record, counter) a forwarded tools/call counted on.
 * - `pending`: forwarded requests still waiting for `settle()`.
 * - `session`: upstream Mcp-Session-Ids opened through this grant.
 *
 * Lifecycle: the constructor loads every table except `audit` into memory (for the log it reads
 * only the last record, to continue the chain), so `gate()` answers from memory and only writes:
 * one INSERT per audit record, one per counter event, one for a pending outcome. Every write
 * goes through to SQLite in the same synchronous step, so SQLite is the truth after eviction.
 * An alarm records an "unknown" outcome for requests never settled.
 *
 * Trade-offs:
 * - `gate()` never awaits between its first read and its last write. The input gate keeps other
 *   calls out of that step, which makes check-and-reserve atomic without a transaction, and the
 *   output gate holds the result until the writes are durable. That is why the audit hash uses
 *   node:crypto's synchronous SHA-256 instead of crypto.subtle.
 * - Counted events are kept exactly (no buckets): memory and rows grow with the number of calls
 *   within the longest window (at least a day is kept), in exchange for exact rolling windows.
 * - Sessions are deleted when closed; sessions a client abandons stay bound until the grant is
 *   deleted. Each is a short row, and an unbound id only ever yields 404.
 * - The chain detects edits and deletions inside the log; cutting records off its end is only
 *   detectable against a hash kept elsewhere (e.g. exported with each audit page).
 *
 * Admin methods throw an Error whose message starts with a code: "not_provisioned", "revoked",
 * "grant_mismatch", "server_mismatch", "policy_mismatch", "invalid_token_hash", "invalid_policy".
 */
export class GrantObject extends DurableObject<Env> implements GrantObjectApi {
  readonly #sql: SqlStorage;
  #grant: GrantState | null = null;
  #policy: ActivePolicy | null = null;
  readonly #ledger = new CounterLedger();
  readonly #pending = new Map<number, PendingOutcome>();
  /** Requests the alarm recorded as "unknown", oldest first; a late outcome is still appended. */
  readonly #recordedUnknown = new Map<number, PendingOutcome>();
  readonly #sessions = new Set<string>();
  #nextSeq = 1;
  #lastHash = GENESIS_HASH;
  #alarmAt: number | null = null;
  #prunedAt = 0;
  /** Refused requests recorded per minute (memory only: after an eviction the count starts again). */
  readonly #refusals: RefusalWindow = { start: 0, recorded: 0, unreported: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    for (const statement of GRANT_SCHEMA) this.#sql.exec(statement);

    const state = this.#sql.exec<{ state: string }>("SELECT state FROM grant_state WHERE id = 1").toArray()[0];
    if (state !== undefined) this.#adopt(JSON.parse(state.state) as GrantState);

    const last = this.#sql.exec<{ record: string }>("SELECT record FROM audit ORDER BY seq DESC LIMIT 1").toArray()[0];
    if (last !== undefined) {
      const record = JSON.parse(last.record) as AuditRecord;
      this.#nextSeq = record.seq + 1;
      this.#lastHash = record.hash;
    }
    const events = this.#sql.exec<{ decision_seq: number; counter: string; at: number; amount: number }>(
      "SELECT decision_seq, counter, at, amount FROM counter_event ORDER BY at",
    );
    for (const e of events) this.#ledger.add(e.counter, { at: e.at, amount: e.amount, seq: e.decision_seq });
    const pending = this.#sql.exec<{ seq: number; last_seq: number; request_id: string; at: number }>(
      "SELECT seq, last_seq, request_id, at FROM pending",
    );
    for (const p of pending) this.#pending.set(p.seq, { lastSeq: p.last_seq, requestId: p.request_id, at: p.at });
    for (const s of this.#sql.exec<{ id: string }>("SELECT id FROM session")) this.#sessions.add(s.id);

    void ctx.blockConcurrencyWhile(async () => {
      this.#alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- the gateway's hot path -------------------------------------------------------------

  async gate(req: GateRequest): Promise<GateResult> {
    // From here to the return there is no await: one storage step (see the class comment).
    const now = Date.now();
    const grant = this.#grant;
    if (grant === null) return UNAUTHENTICATED;
    // Outcomes the gateway carried along: first, so released reservations count for this request.
    for (const s of req.settlements ?? []) this.#settle(s);
    const time = new Date(now).toISOString();
    const policy = this.#policy;
    const policyRef = policy?.ref ?? null;

    const refusal = this.#authenticationFailure(grant, req);
    if (refusal !== null) {
      // Recorded so that auditors see token guessing against a grant (the presented hash is not),
      // up to a bound per minute so that guessing cannot flood the log.
      const admitted = admitRefusal(this.#refusals, now);
      if (admitted.record) {
        const message = admitted.unreported > 0 ? `${refusal} (${admitted.unreported} earlier refusals were counted but not recorded one by one)` : refusal;
        this.#append(this.#requestDraft(grant, req, time, policyRef, reject("unauthenticated", message)));
      }
      return UNAUTHENTICATED;
    }
    if (req.sessionId !== null && !this.#sessions.has(req.sessionId)) {
      const message = "Mcp-Session-Id was not opened through this grant, or has ended";
      this.#append(this.#requestDraft(grant, req, time, policyRef, reject("unknown_session", message)));
      return { ok: false, reason: "unknown_session" };
    }

    const seq = this.#nextSeq;
    const decisions: MessageDecision[] = [];
    if (req.messages.length === 0) {
      // GET (the server's SSE stream) and DELETE (end the session): nothing to evaluate.
      this.#append(this.#requestDraft(grant, req, time, policyRef, ALLOWED_REQUEST));
      decisions.push(FORWARD);
    }
    for (const message of req.messages) {
      const plan = decideMessage(policy?.document ?? null, message, this.#ledger.eventsFor, now);
      const decisionSeq = this.#append(this.#requestDraft(grant, req, time, policyRef, plan.audit));
      for (const take of plan.take) {
        this.#ledger.add(take.counter, { at: now, amount: take.amount, seq: decisionSeq });
        this.#sql.exec(
          "INSERT INTO counter_event (decision_seq, counter, at, amount) VALUES (?, ?, ?, ?)",
          decisionSeq,
          take.counter,
          now,
          take.amount,
        );
      }
      decisions.push(plan.decision);
    }
    if (decisions.some((d) => d.outcome === "forward")) this.#expectOutcome(seq, this.#nextSeq - 1, req.requestId, now);
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) this.#pruneCounters(now);

    return {
      ok: true,
      seq,
      grant: { id: grant.grantId, label: grant.label, serverId: grant.serverId },
      upstream: grant.upstream,
      policy: policyRef,
      visibility: needsVisibility(policy?.document ?? null, req.messages, decisions) ? (policy?.visibility ?? NOTHING_VISIBLE) : null,
      decisions,
    };
  }

  async bindSession(seq: number, sessionId: string): Promise<void> {
    if (this.#grant !== null) this.#bind(seq, sessionId);
  }

  async settle(batch: Settlement | Settlement[]): Promise<void> {
    for (const s of Array.isArray(batch) ? batch : [batch]) this.#settle(s);
  }

  #settle(s: Settlement): void {
    const grant = this.#grant;
    const late = this.#recordedUnknown.get(s.seq);
    const pending = this.#pending.get(s.seq) ?? late;
    // Unknown, already settled, or not this request's seq: nothing to do (settle is idempotent).
    if (grant === null || pending === undefined || pending.requestId !== s.requestId) return;
    if (late !== undefined) {
      this.#recordedUnknown.delete(s.seq);
    } else {
      this.#pending.delete(s.seq);
      this.#sql.exec("DELETE FROM pending WHERE seq = ?", s.seq);
    }

    let message: string | null = late === undefined ? null : "Reported after the deadline, when an unknown outcome had been recorded";
    if (!s.upstreamReceived) {
      // POLICY.md (ours): a reservation is released when the upstream never received the call.
      this.#ledger.release(s.seq, pending.lastSeq);
      this.#sql.exec("DELETE FROM counter_event WHERE decision_seq BETWEEN ? AND ?", s.seq, pending.lastSeq);
      message = [message, "The upstream never received the request; its reservations were released"].filter((m) => m !== null).join(". ");
    }
    if (s.sessionOpened !== null) this.#bind(s.seq, s.sessionOpened);
    if (s.sessionClosed !== null && this.#sessions.delete(s.sessionClosed)) {
      this.#sql.exec("DELETE FROM session WHERE id = ?", s.sessionClosed);
    }
    const failed = s.error !== null || s.status === null || s.status >= 400;
    this.#append({
      ...this.#baseDraft(grant, new Date().toISOString(), "outcome", null),
      requestId: s.requestId,
      decision: failed ? "error" : "ok",
      code: s.error,
      message,
      ref: s.seq,
      status: s.status,
      latencyMs: s.latencyMs,
    });
  }

  /** Records an "unknown" outcome for every request still pending after the deadline. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const grant = this.#grant;
    const now = Date.now();
    let next: number | null = null;
    for (const [seq, pending] of this.#pending) {
      const due = pending.at + OUTCOME_DEADLINE_MS;
      if (due > now) {
        next = next === null ? due : Math.min(next, due);
        continue;
      }
      this.#pending.delete(seq);
      this.#sql.exec("DELETE FROM pending WHERE seq = ?", seq);
      if (grant === null) continue;
      this.#recordedUnknown.set(seq, pending);
      if (this.#recordedUnknown.size > LATE_OUTCOMES_KEPT) {
        this.#recordedUnknown.delete(this.#recordedUnknown.keys().next().value!);
      }
      this.#append({
        ...this.#baseDraft(grant, new Date(now).toISOString(), "outcome", null),
        requestId: pending.requestId,
        decision: "unknown",
        message: "no outcome was reported",
        ref: seq,
      });
    }
    if (next !== null) this.#scheduleAlarm(next);
  }

  // ---- admin ------------------------------------------------------------------------------

  async provision(p: GrantProvision): Promise<GrantInfo> {
    const existing = this.#grant;
    if (existing !== null && existing.grantId !== p.grantId) {
      throw new Error(`grant_mismatch: this object holds grant ${existing.grantId}`);
    }
    if (existing?.revoked) throw new Error("revoked: a revoked grant cannot be provisioned again");
    checkTokenHash(p.tokenHash);
    if (p.upstream.serverId !== p.serverId) throw new Error("server_mismatch: the upstream belongs to another server");
    const policy = checkedSnapshot(p.policyName, p.policy);
    const grant: GrantState = {
      grantId: p.grantId,
      label: p.label,
      serverId: p.serverId,
      policyName: p.policyName,
      created: p.created,
      tokenHash: p.tokenHash,
      upstream: p.upstream,
      policy,
      revoked: null,
      rotated: existing?.rotated ?? null,
    };
    const detail = `server ${JSON.stringify(p.serverId)}, ${describePolicy(p.policyName, policy)}`;
    return this.#saveAdmin(grant, existing === null ? "provision" : "reprovision", detail);
  }

  async rotate(tokenHash: string): Promise<GrantInfo> {
    const grant = this.#provisioned();
    if (grant.revoked !== null) throw new Error("revoked: a revoked grant cannot be rotated");
    checkTokenHash(tokenHash);
    return this.#saveAdmin({ ...grant, tokenHash, rotated: new Date().toISOString() }, "rotate", "token replaced");
  }

  async revoke(): Promise<GrantInfo> {
    const grant = this.#provisioned();
    if (grant.revoked !== null) return infoOf(grant);
    return this.#saveAdmin({ ...grant, revoked: new Date().toISOString() }, "revoke", "every later request is refused");
  }

  async setLabel(label: string): Promise<GrantInfo> {
    const grant = this.#provisioned();
    return this.#saveAdmin({ ...grant, label }, "set_label", `label ${JSON.stringify(label)}`);
  }

  async setPolicy(policyName: string | null, snapshot: PolicySnapshot | null): Promise<GrantInfo> {
    const grant = this.#provisioned();
    const policy = checkedSnapshot(policyName, snapshot);
    return this.#saveAdmin({ ...grant, policyName, policy }, "set_policy", describePolicy(policyName, policy));
  }

  async setUpstream(upstream: Upstream): Promise<GrantInfo> {
    const grant = this.#provisioned();
    if (upstream.serverId !== grant.serverId) throw new Error("server_mismatch: the upstream belongs to another server");
    // The URL can carry credentials in its query and headers are secrets: record neither.
    const detail = `server ${JSON.stringify(upstream.serverName)} version ${upstream.version}`;
    return this.#saveAdmin({ ...grant, upstream }, "set_upstream", detail);
  }

  async info(): Promise<GrantInfo | null> {
    return this.#grant === null ? null : infoOf(this.#grant);
  }

  async readAudit(after: number, limit: number): Promise<AuditPage> {
    const size = Math.min(1000, Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1)));
    const from = Number.isFinite(after) ? Math.floor(after) : 0;
    const rows = this.#sql
      .exec<{ record: string }>("SELECT record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", from, size + 1)
      .toArray();
    const records = rows.slice(0, size).map((row) => JSON.parse(row.record) as AuditRecord);
    return { records, next: rows.length > size ? (records.at(-1)?.seq ?? null) : null };
  }

  async verifyAudit(): Promise<{ ok: true; count: number } | { ok: false; brokenAt: number }> {
    const verifier = new ChainVerifier();
    for (const row of this.#sql.exec<{ seq: number; record: string }>("SELECT seq, record FROM audit ORDER BY seq")) {
      const record = JSON.parse(row.record) as AuditRecord;
      // A row moved under another key is as broken as an edited one.
      if (record.seq !== row.seq) return { ok: false, brokenAt: row.seq };
      if (!verifier.push(record)) break;
    }
    const check = verifier.result();
    return check.ok ? { ok: true, count: check.count } : check;
  }

  // ---- internals --------------------------------------------------------------------------

  #authenticationFailure(grant: GrantState, req: GateRequest): string | null {
    // Compared even for a revoked grant, so timing does not tell revoked from wrong-token.
    const tokenMatches = tokenHashMatches(req.tokenHash, grant.tokenHash);
    if (grant.revoked !== null) return "The grant is revoked";
    if (!tokenMatches) return "The presented token does not match the grant";
    if (req.route.kind === "server" && req.route.serverId !== grant.serverId) {
      return "The grant does not belong to the addressed server";
    }
    return null;
  }

  #bind(seq: number, sessionId: string): void {
    if (sessionId.length === 0 || this.#sessions.has(sessionId)) return;
    this.#sessions.add(sessionId);
    this.#sql.exec("INSERT OR REPLACE INTO session (id, opened_seq) VALUES (?, ?)", sessionId, seq);
  }

  #provisioned(): GrantState {
    if (this.#grant === null) throw new Error("not_provisioned: the grant has not been provisioned");
    return this.#grant;
  }

  /** Makes `grant` the enforced state in memory; the policy is validated once per version here. */
  #adopt(grant: GrantState): void {
    this.#grant = grant;
    const snapshot = grant.policy;
    if (snapshot === null) {
      this.#policy = null;
      return;
    }
    if (this.#policy?.ref.name === snapshot.name && this.#policy.ref.version === snapshot.version) return;
    const parsed = parsePolicy(snapshot.document);
    // A stored document that no longer validates is enforced as "no policy": deny every call.
    const document = parsed.ok ? parsed.value : null;
    this.#policy =
      document === null
        ? null
        : {
            ref: { name: snapshot.name, version: snapshot.version },
            document,
            visibility: toolVisibility(document),
            retentionMs: Math.max(retentionSeconds(document) * 1000, DAY_MS),
          };
  }

  #saveAdmin(grant: GrantState, action: string, message: string): GrantInfo {
    this.#sql.exec("INSERT OR REPLACE INTO grant_state (id, state) VALUES (1, ?)", JSON.stringify(grant));
    this.#adopt(grant);
    this.#append({
      ...this.#baseDraft(grant, new Date().toISOString(), "admin", this.#policy?.ref ?? null),
      decision: action,
      message,
    });
    return infoOf(grant);
  }

  #baseDraft(
    grant: GrantState,
    time: string,
    type: AuditRecord["type"],
    policy: AuditRecord["policy"],
  ): AuditDraft {
    return {
      seq: 0,
      time,
      type,
      requestId: null,
      grantId: grant.grantId,
      label: grant.label,
      serverId: grant.serverId,
      httpMethod: null,
      rpcMethod: null,
      rpcId: null,
      tool: null,
      policy,
      decision: "",
      code: null,
      rule: null,
      message: null,
      argKeys: null,
      ref: null,
      status: null,
      latencyMs: null,
    };
  }

  #requestDraft(
    grant: GrantState,
    req: GateRequest,
    time: string,
    policy: AuditRecord["policy"],
    fields: Partial<AuditDraft> & Pick<AuditDraft, "decision">,
  ): AuditDraft {
    return {
      ...this.#baseDraft(grant, time, "decision", policy),
      requestId: req.requestId,
      httpMethod: req.httpMethod,
      ...fields,
    };
  }

  /** Appends one record to the chain: one INSERT. Returns its seq. */
  #append(draft: AuditDraft): number {
    const seq = this.#nextSeq;
    draft.seq = seq;
    const sealed = sealRecordJson(draft, this.#lastHash);
    this.#sql.exec("INSERT INTO audit (seq, record) VALUES (?, ?)", seq, sealed.json);
    this.#nextSeq = seq + 1;
    this.#lastHash = sealed.hash;
    return seq;
  }

  #expectOutcome(seq: number, lastSeq: number, requestId: string, now: number): void {
    this.#pending.set(seq, { lastSeq, requestId, at: now });
    this.#sql.exec("INSERT INTO pending (seq, last_seq, request_id, at) VALUES (?, ?, ?, ?)", seq, lastSeq, requestId, now);
    if (this.#alarmAt === null) this.#scheduleAlarm(now + OUTCOME_DEADLINE_MS);
  }

  #scheduleAlarm(at: number): void {
    this.#alarmAt = at;
    // Not awaited: the write joins this storage step and the output gate waits for it.
    void this.ctx.storage.setAlarm(at);
  }

  #pruneCounters(now: number): void {
    this.#prunedAt = now;
    const cutoff = now - (this.#policy?.retentionMs ?? DAY_MS);
    this.#ledger.prune(cutoff);
    this.#sql.exec("DELETE FROM counter_event WHERE at <= ?", cutoff);
  }
}

const ALLOWED_REQUEST: Pick<DecisionFields, "decision"> = { decision: "allow" };

function reject(code: "unauthenticated" | "unknown_session", message: string): Pick<AuditDraft, "decision" | "code" | "message"> {
  return { decision: "reject", code, message };
}

function infoOf(grant: GrantState): GrantInfo {
  return {
    grantId: grant.grantId,
    label: grant.label,
    serverId: grant.serverId,
    policyName: grant.policyName,
    policyVersion: grant.policy?.version ?? null,
    created: grant.created,
    revoked: grant.revoked,
    rotated: grant.rotated,
  };
}

function checkTokenHash(tokenHash: string): void {
  if (!TOKEN_HASH.test(tokenHash)) throw new Error("invalid_token_hash: expected lowercase hex SHA-256");
}

/** The snapshot as it will be enforced: validated by the same parser that admitted it. */
function checkedSnapshot(policyName: string | null, snapshot: PolicySnapshot | null): PolicySnapshot | null {
  if (snapshot === null) return null;
  if (snapshot.name !== policyName) throw new Error("policy_mismatch: the snapshot is not a version of the named policy");
  const parsed = parsePolicy(snapshot.document);
  if (!parsed.ok) throw new Error("invalid_policy: the policy document does not validate");
  return { name: snapshot.name, version: snapshot.version, document: parsed.value };
}

function describePolicy(policyName: string | null, snapshot: PolicySnapshot | null): string {
  if (policyName === null) return "no policy; every call is denied";
  if (snapshot === null) return `policy ${JSON.stringify(policyName)} has no version; every call is denied`;
  return `policy ${JSON.stringify(policyName)} version ${snapshot.version}`;
}

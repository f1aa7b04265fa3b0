/**
 * The plan for one `gate()` call, pure: authenticate, check the session, decide every message, and
 * say which records, counter events and pending outcome to write. The Durable Object writes the
 * plan in one transaction and only then applies it to memory (src/grant/object.ts).
 */
import { isoTime } from "../clock";
import type { AuditDraft } from "./audit";
import { changed, changeRecord } from "./approval-records";
import type { ApprovalChange, StoredApproval } from "./approvals";
import { withReserved } from "./counters";
import { decideMessage, needsVisibility, tokenHashMatches, type ApprovalLookup, type DecisionContext, type DecisionFields } from "./decide";
import type { GateRequest, GateResult, MessageDecision } from "./protocol";
import { draftRecord } from "./records";
import type { SessionCheck } from "./sessions";
import type { ActivePolicy, GrantState } from "./state";
import { AWAITS_OUTCOME, plainFacts, type CountedRow, type RowFacts } from "./storage";
import { toolVisibility } from "../policy/visibility";

/** What the plan reads from the object's memory (and, for approvals, its storage). */
export interface GateView extends Omit<DecisionContext, "approvals"> {
  state: GrantState;
  policy: ActivePolicy | null;
  nextSeq: number;
  sessionCheck: (id: string, now: number) => SessionCheck;
  approvals: { latest(tool: string, argsSha256: string): StoredApproval | null; newId(): string };
}

export type GatePlan =
  /** The token or the route is wrong: the shell records it (bounded per minute) and answers 401. */
  | { kind: "refused"; message: string }
  | { kind: "unknown_session"; draft: AuditDraft; expired: string | null }
  | {
      kind: "decided";
      drafts: AuditDraft[];
      /** The log columns of each draft, same order. */
      facts: RowFacts[];
      /** The quota taken, for the counters in memory. */
      takes: CountedRow[];
      /** The request's first decision seq, when anything is forwarded (its outcome is then awaited). */
      pending: { seq: number } | null;
      /** Approval requests opened, consumed or found expired; stored with the records. */
      approvals: ApprovalChange[];
      result: Extract<GateResult, { ok: true }>;
    };

const FORWARD: MessageDecision = { outcome: "forward", monitored: null };
const NOTHING_VISIBLE = toolVisibility(null);

export function planGate(view: GateView, req: GateRequest): GatePlan {
  const { state, policy, now } = view;
  const refusal = authenticationFailure(state, req);
  if (refusal !== null) return { kind: "refused", message: refusal };
  const time = isoTime(now);
  const policyRef = policy?.ref ?? null;
  const draft = (fields: Partial<AuditDraft> & Pick<AuditDraft, "decision">): AuditDraft =>
    draftRecord(state, time, "decision", policyRef, { requestId: req.requestId, httpMethod: req.httpMethod, ...fields });

  if (req.sessionId !== null) {
    const session = view.sessionCheck(req.sessionId, now);
    if (session !== "open") {
      const message =
        session === "expired"
          ? "Mcp-Session-Id was idle for longer than the session idle limit and has ended"
          : "Mcp-Session-Id was not opened through this grant, or has ended";
      return {
        kind: "unknown_session",
        draft: draft({ decision: "reject", code: "unknown_session", message }),
        expired: session === "expired" ? req.sessionId : null,
      };
    }
  }

  const { drafts, facts, takes, decisions, approvals } = decideAll(view, req, draft);
  const first = view.nextSeq;
  const forwarded = decisions.some((d) => d.outcome === "forward");
  if (forwarded) facts[0]!.flag = AWAITS_OUTCOME;
  const visible = needsVisibility(policy?.document ?? null, req.messages, decisions);
  return {
    kind: "decided",
    drafts,
    facts,
    takes,
    pending: forwarded ? { seq: first } : null,
    approvals,
    result: {
      ok: true,
      seq: first,
      grant: { id: state.grantId, label: state.label, serverId: state.serverId },
      upstream: forwardingUpstream(state.upstream),
      policy: policyRef,
      visibility: visible ? (policy?.visibility ?? NOTHING_VISIBLE) : null,
      pinTools: policy?.document.pin_tools === true,
      decisions,
    },
  };
}

/**
 * One decision record per message (one for a GET or DELETE), with its log columns and the quota
 * it took. A batch shares its counters: each message sees what the earlier ones reserved.
 */
function decideAll(view: GateView, req: GateRequest, draft: (fields: Partial<AuditDraft> & Pick<AuditDraft, "decision">) => AuditDraft) {
  const first = view.nextSeq;
  const drafts: AuditDraft[] = [];
  const facts: RowFacts[] = [];
  const takes: CountedRow[] = [];
  const decisions: MessageDecision[] = [];
  const record = (fields: Partial<DecisionFields> & Pick<AuditDraft, "decision">, taken: [string, number][] | null): void => {
    drafts.push({ ...draft(fields), seq: first + drafts.length });
    facts.push({ at: view.now, requestSeq: first, counted: taken, flag: null });
  };
  if (req.messages.length === 0) {
    // GET (the server's SSE stream) and DELETE (end the session): nothing to evaluate.
    record({ decision: "allow" }, null);
    decisions.push(FORWARD);
  }
  const approvals: ApprovalChange[] = [];
  const context = {
    ...view,
    eventsFor: (counter: string) =>
      withReserved(
        view.eventsFor(counter),
        takes.filter((take) => take.counter === counter),
      ),
    approvals: approvalLookup(view, req, approvals),
  };
  for (const message of req.messages) {
    const plan = decideMessage(view.policy?.document ?? null, message, context);
    record(plan.audit, plan.take.length > 0 ? plan.take.map((take) => [take.counter, take.amount]) : null);
    for (const take of plan.take) takes.push({ requestSeq: first, counter: take.counter, at: view.now, amount: take.amount });
    decisions.push(plan.decision);
    approvals.push(...(plan.approvals ?? []));
  }
  // One denial keeps a whole batch from the upstream: an approval it would have used stays unused.
  if (approvals.length > 0 && decisions.some((d) => d.outcome === "deny"))
    approvals.splice(0, approvals.length, ...approvals.filter((c) => c.kind !== "consume"));
  // After the decisions, so the request's first record stays its first decision.
  for (const change of approvals) {
    drafts.push({ ...changeRecord(view.state, view.now, change), seq: first + drafts.length });
    facts.push(plainFacts(view.now));
  }
  return { drafts, facts, takes, decisions, approvals };
}

/** The approval requests as a message sees them: stored ones, with this step's own changes on top (a batch's later messages see them). */
function approvalLookup(view: GateView, req: GateRequest, changes: readonly ApprovalChange[]): ApprovalLookup {
  return {
    latest: (tool, argsSha256) => {
      const own = changes.findLast((c) => c.approval.tool === tool && c.approval.argsSha256 === argsSha256 && c.kind !== "expire");
      return own === undefined ? view.approvals.latest(tool, argsSha256) : changed(own, view.now);
    },
    newId: view.approvals.newId,
    policy: view.policy?.ref ?? null,
    origin: req.origin ?? null,
    requestId: req.requestId,
  };
}

/** The upstream as the gateway needs it to forward: the approval webhook (and its secret) stays in the object. */
function forwardingUpstream(upstream: GrantState["upstream"]): GrantState["upstream"] {
  if (upstream.approvalWebhook === undefined) return upstream;
  const { approvalWebhook: _stays, ...forwarding } = upstream;
  return forwarding;
}

/** Why the request is not the grant's own, or null. */
function authenticationFailure(grant: GrantState, req: GateRequest): string | null {
  // Compared even for a revoked grant, so timing does not tell revoked from wrong-token.
  const tokenMatches = tokenHashMatches(req.tokenHash, grant.tokenHash);
  if (grant.revoked !== null) return "The grant is revoked";
  if (!tokenMatches) return "The presented token does not match the grant";
  if (req.route.kind === "server" && req.route.serverId !== grant.serverId) {
    return "The grant does not belong to the addressed server";
  }
  return null;
}

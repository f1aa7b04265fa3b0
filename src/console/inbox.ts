/**
 * The approvals inbox's pure part (docs/console.md, "Approvals"): which requests come first, how an
 * argument value is shown to the person deciding, and what a losing decision says about the winner.
 *
 * Argument values are the agent's text, so an attacker's. Escaping for HTML is Hono JSX's job (they
 * only ever go in as text children); this module's job is that what the approver reads is what the
 * call carries: each value as JSON, with invisible format characters (bidi overrides, zero-width
 * spaces, U+2028/9) written out as `\u{…}`, so a value cannot look like another one on screen.
 */
import type { ApprovalView } from "../grant/approvals";

/** At most this many recently decided requests are listed under the pending ones. */
export const RECENT_DECIDED = 25;

export interface Inbox {
  /** Oldest expiry first: the request that times out soonest is on top. */
  pending: ApprovalView[];
  /** Most recently decided (or expired) first. */
  decided: ApprovalView[];
}

const decidedAt = (view: ApprovalView): string => view.decided ?? view.expires;

/** Pending requests first, then the most recent of the others; every list view in one pass. */
export function sortInbox(views: readonly ApprovalView[]): Inbox {
  const pending = views.filter((view) => view.status === "pending").sort((a, b) => a.expires.localeCompare(b.expires) || a.id.localeCompare(b.id));
  const decided = views
    .filter((view) => view.status !== "pending")
    .sort((a, b) => decidedAt(b).localeCompare(decidedAt(a)) || a.id.localeCompare(b.id))
    .slice(0, RECENT_DECIDED);
  return { pending, decided };
}

// Format (Cf), line and paragraph separators: characters that change how text looks without showing.
const INVISIBLE = /[\p{Cf}\u2028\u2029]/gu;

/** A value as the approver reads it: JSON (strings quoted, control characters escaped), invisibles spelled out. */
export function shownValue(value: unknown): string {
  const json = JSON.stringify(value, null, 2) ?? "null";
  return json.replace(INVISIBLE, (char) => `\\u{${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`);
}

/** The arguments as rows of name and shown value, in the call's own order. */
export function argumentRows(args: Record<string, unknown>): { name: string; value: string }[] {
  return Object.entries(args).map(([name, value]) => ({ name: shownValue(name).slice(1, -1), value: shownValue(value) }));
}

/** The admin API's 409 for a request decided first elsewhere carries that request in `details`. */
function decidedView(details: unknown): Pick<ApprovalView, "status" | "decided" | "decidedBy" | "reason" | "expires"> | null {
  if (typeof details !== "object" || details === null) return null;
  const view = details as Partial<ApprovalView>;
  if (typeof view.status !== "string" || typeof view.expires !== "string") return null;
  return { status: view.status, decided: view.decided ?? null, decidedBy: view.decidedBy ?? null, reason: view.reason ?? null, expires: view.expires };
}

/** What a losing decision tells the operator: who or what decided first, when, and why. */
export function firstDecision(error: string, details: unknown): string | null {
  const view = decidedView(details);
  if (view === null) return null;
  if (error === "approval_expired")
    return `It expired at ${view.expires}, or its policy changed since it was requested. The agent's next identical call opens a new request.`;
  if (error !== "approval_decided") return null;
  const status = view.status === "consumed" ? "approved, and used by the agent's call," : view.status;
  const by = view.decidedBy === null ? "" : ` by ${view.decidedBy}`;
  const at = view.decided === null ? "" : ` at ${view.decided}`;
  const reason = view.reason === null ? " (no reason given)" : `, reason: “${view.reason}”`;
  return `It was already ${status}${by}${at}${reason}. The first decision stands.`;
}

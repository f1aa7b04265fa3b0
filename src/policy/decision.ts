/**
 * What a policy decides, in the policy's own words: why a call is refused, and which tools a grant
 * may see. The grant's Durable Object, the gateway and the admin API all speak these types; they are
 * defined here, beside the evaluation that produces them (docs/policy.md).
 */

/** Why a message is not forwarded. Every code appears in audit records and in `_meta`. */
export type DenyCode =
  | "no_policy"
  | "hidden"
  | "invalid_name"
  | "not_permitted"
  | "require"
  | "deny_if"
  | "invalid_cost"
  | "rate_limited"
  | "invalid_message"
  /** A task request naming a task this grant did not create (answered as a task that does not exist). */
  | "unknown_task"
  /** Tool pinning: the tool's definition changed since an operator approved it. */
  | "tool_changed"
  | "unavailable"
  /** Monitor mode: the call would have needed a person's approval (docs/approvals.md). */
  | "approval_required"
  /** An approval request is open and undecided: call again with the same arguments once approved. */
  | "approval_pending"
  | "approval_rejected"
  /** The approval request expired before anyone decided (or the policy changed); the next call opens a new one. */
  | "approval_expired"
  /** The arguments are too large to be shown to an approver. */
  | "approval_too_large";

/** The approval request a denial concerns. */
export interface ApprovalNotice {
  id: string;
  /** ISO time at which the request expires. */
  expiresAt: string;
  /** An earlier request for the same call that expired, when this one replaced it. */
  replaced?: string;
}

/** A refusal: its code, the rule that fired (a JSON pointer into the policy), and the agent-facing text. */
export interface Denial {
  code: DenyCode;
  /** JSON pointer into the policy document, e.g. /tools/create_refund/deny_if/0, or null. */
  rule: string | null;
  message: string;
  /** Seconds until a call would be allowed again (rate_limited), or a suggested wait (approval_pending). */
  retryAfter?: number;
  /** The approval request, for the approval_… codes. */
  approval?: ApprovalNotice;
}

/** Which tools a grant may see in tools/list (and call at all). */
export interface ToolVisibility {
  default: "allow" | "deny";
  /** Exact names under `hide`, or ["*"]. */
  hide: string[];
  /** Exact names under `tools`. */
  listed: string[];
}

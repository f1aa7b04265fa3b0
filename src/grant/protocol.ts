/**
 * The contract between the Worker (gateway and admin API) and a grant's Durable Object.
 *
 * The grant's Durable Object is the authority for everything that must change instantly: the token
 * hash, revocation, the current policy version (with its document) and the upstream configuration.
 * KV holds the same records for listing and for the admin API, but the hot path never reads KV: one
 * `gate()` call per request authenticates, evaluates, reserves quota and makes the decision record
 * durable; the outcome is recorded after the response (docs/storage.md).
 */
import type { ExportHeader } from "../audit/export";
import type { Denial, ToolVisibility } from "../policy/decision";
import type { LimitRequest } from "../policy/evaluate";
import type { PolicyDocument } from "../policy/schema";
import type { Result } from "../result";
import type { LogLines } from "./maintenance-storage";
import type { ApprovalError, ApprovalRef, ApprovalStatus, ApprovalVerdict, ApprovalView } from "./approvals";

/** Where and how to reach a server's upstream. `headers` are secrets: never logged or returned by the API. */
export interface Upstream {
  serverId: string;
  serverName: string;
  url: string;
  headers: Record<string, string>;
  /** Bumped on every change of the server record; a grant never goes back to an older one. */
  version: number;
  /** Where new approval requests are POSTed, and the key that signs them (a secret); absent: none. */
  approvalWebhook?: { url: string; secret: string } | null;
}

/** One immutable policy version. */
export interface PolicySnapshot {
  name: string;
  version: number;
  /** SHA-256 (hex) of the document's canonical JSON: names exactly one document, whatever its version number. */
  sha256: string;
  document: PolicyDocument;
}

/** How audit records and the admin API name the policy a decision was made under. */
export interface PolicyRef {
  name: string;
  version: number;
  sha256: string;
}

/** Everything a grant's Durable Object needs to enforce; pushed by the admin API. */
export interface GrantProvision {
  grantId: string;
  label: string;
  serverId: string;
  /** The policy name attached to the grant (null: no policy, every call is denied). */
  policyName: string | null;
  /** ISO time. */
  created: string;
  /** SHA-256 of the token, lowercase hex. */
  tokenHash: string;
  upstream: Upstream;
  /** The latest version of `policyName` on `serverId`, or null if there is none. */
  policy: PolicySnapshot | null;
}

export interface GrantInfo {
  grantId: string;
  label: string;
  serverId: string;
  policyName: string | null;
  policyVersion: number | null;
  policySha256: string | null;
  /** The server record version whose upstream the grant enforces. */
  upstreamVersion: number;
  created: string;
  /** ISO time of revocation, or null. */
  revoked: string | null;
  /** ISO time of the last rotation, or null. */
  rotated: string | null;
}

/** Why an admin change was refused; the admin API maps each to its HTTP status. */
export type GrantError =
  | { code: "not_provisioned" }
  | { code: "revoked"; revoked: string }
  | { code: "grant_mismatch"; holds: string }
  | { code: "server_mismatch" }
  | { code: "policy_mismatch" }
  | { code: "invalid_token_hash" }
  | { code: "invalid_policy" };

/** What the gateway tells the grant's Durable Object about one JSON-RPC message. */
export type MessageSummary =
  /**
   * A request. For tools/call, `tool` is params.name and `args` params.arguments (absent: {}).
   * For tasks/get, tasks/result and tasks/cancel, `taskId` is params.taskId.
   */
  | { kind: "request"; method: string; id: string | number; tool?: string; args?: Record<string, unknown>; taskId?: string }
  | { kind: "notification"; method: string }
  | { kind: "response"; id: string | number }
  /** Rejected by the gateway's wire checks before any policy; recorded, never forwarded. */
  | { kind: "invalid"; code: number; reason: string };

export interface GateRequest {
  /** One per HTTP request; the same id appears in the audit record and in the outcome. */
  requestId: string;
  /** SHA-256 (lowercase hex) of the presented bearer token. */
  tokenHash: string;
  /**
   * How the request addressed the gateway: `/mcp/<grant-id>` or, for PolicyLayer
   * compatibility, `/mcp/<server-id>`; in the second case the grant must belong to that server.
   */
  route: { kind: "grant" } | { kind: "server"; serverId: string };
  httpMethod: string;
  /** The Mcp-Session-Id header, if any. */
  sessionId: string | null;
  /** Empty for GET and DELETE; one for a normal POST; several for a 2025-03-26 batch. */
  messages: MessageSummary[];
  /** The gateway's origin, for the link in an approval request a call opens. */
  origin?: string;
  /**
   * Outcomes of earlier requests of this grant that this Worker isolate has not delivered yet
   * (src/grant/outbox.ts): carrying them here saves a second round trip and a second storage
   * commit per call. Applied before this request's own decisions.
   */
  settlements?: Settlement[];
}

export type MessageDecision =
  | {
      outcome: "forward";
      /** Non-null when the message passed a policy in monitor mode that would have denied it. */
      monitored: null | Denial;
      /**
       * Forward in place of the named target a stand-in that does not exist upstream, and relay
       * what the upstream answers: a hidden tool under `default: "allow"` ("tool"), or a task of
       * another grant ("task"), is then answered exactly as a missing one (docs/policy.md).
       */
      conceal?: "tool" | "task";
      /** Server-wide limits the call must also fit, counted by the server's Durable Object before forwarding. */
      server?: LimitRequest[];
    }
  | ({ outcome: "deny" } & Denial);

export type GateResult =
  /** 401 with no detail: unknown grant, wrong token, revoked, or a server URL the grant does not belong to. */
  | { ok: false; reason: "unauthenticated" }
  /** 404: the Mcp-Session-Id was not opened by this grant, has ended, or has been idle too long. */
  | { ok: false; reason: "unknown_session" }
  /** The decision records could not be stored: nothing may be forwarded (fail closed). */
  | { ok: false; reason: "unavailable" }
  | {
      ok: true;
      /** Sequence number of the first decision record written for this request. */
      seq: number;
      grant: { id: string; label: string; serverId: string };
      upstream: Upstream;
      policy: PolicyRef | null;
      /** Present when any message is tools/list, or the policy is null (nothing visible). */
      visibility: ToolVisibility | null;
      /** The policy pins tool definitions: every tools/list answer is checked against the server's pins. */
      pinTools: boolean;
      /** One per `messages` element, same order; one `forward` for GET and DELETE. */
      decisions: MessageDecision[];
    };

/** The outcome of a forwarded (or attempted) request, recorded after the response. */
export interface Settlement {
  requestId: string;
  /** The `seq` returned by gate(). */
  seq: number;
  /** Upstream HTTP status, or null if no response came. */
  status: number | null;
  latencyMs: number;
  /**
   * False only when the upstream provably never received the request: the last byte of its body
   * never left the gateway (connection refused, DNS or TLS failure). Reservations are then released.
   */
  upstreamReceived: boolean;
  /** A short error name such as "upstream_unreachable", "upstream_timeout", "upstream_auth", "upstream_invalid"; never a secret. */
  error: string | null;
  /** The Mcp-Session-Id the upstream returned on initialize: from now on bound to this grant. */
  sessionOpened: string | null;
  /** A session the client ended with DELETE (2xx). */
  sessionClosed: string | null;
}

export interface AuditPage {
  records: AuditRecord[];
  /** Pass as `after` to get the next page; null when there is no more. */
  next: number | null;
}

/**
 * One append-only audit record. Never updated; deleted only by retention, once archived and covered
 * by a signed checkpoint (docs/audit.md).
 */
export interface AuditRecord {
  seq: number;
  /** ISO time. */
  time: string;
  /** checkpoint, archived and pruned records are the log's own upkeep (src/grant/maintenance.ts). */
  type: "decision" | "outcome" | "admin" | "approval" | "checkpoint" | "archived" | "pruned";
  requestId: string | null;
  grantId: string;
  label: string;
  serverId: string;
  httpMethod: string | null;
  /** Agent-controlled text fields are length-bounded (src/grant/records.ts). */
  rpcMethod: string | null;
  rpcId: string | number | null;
  tool: string | null;
  policy: PolicyRef | null;
  /**
   * decision records: "allow" | "deny" | "monitor_deny" | "reject"; outcome records: "ok" | "error" | "unknown"; admin: the action;
   * approval records: "requested" | "approved" | "rejected" | "expired" | "consumed" | "restored".
   */
  decision: string;
  code: string | null;
  rule: string | null;
  message: string | null;
  /** Sorted argument keys of a tools/call; never values. */
  argKeys: string[] | null;
  /** outcome records: the decision record's seq; checkpoint and pruned records: the record they are about; archived: the object's last record. */
  ref: number | null;
  /** Approval records, and the decision of a call that needs or consumed an approval; absent elsewhere. */
  approval?: ApprovalRef;
  status: number | null;
  latencyMs: number | null;
  /** SHA-256 hex of the previous record's hash and this record's canonical JSON (hash chain). */
  prevHash: string;
  hash: string;
  /** checkpoint and pruned records only: the hash of record `ref`. Absent from every other record. */
  headHash?: string;
  /** checkpoint records only: the Ed25519 signature (base64url) of the checkpoint statement (docs/audit.md). */
  signature?: { keyId: string; value: string };
  /** archived records only: the archive object holding records `first`..`ref`, and its SHA-256. */
  archive?: { key: string; first: number; sha256: string; bytes: number };
}

export type GrantResult = Result<GrantInfo, GrantError>;

/**
 * The RPC surface of `GrantObject` (src/grant/object.ts implements it).
 * Admin methods are called by the admin API; `gate`, `bindSession`, `bindTasks`, `boundTasks` and
 * `settle` by the gateway.
 */
export interface GrantObjectApi {
  /** Create the grant, or replace its whole enforcement state. Appends an admin audit record. */
  provision(p: GrantProvision): Promise<GrantResult>;
  /** Replace the token hash; the old token stops working on the very next request. Fails on a revoked grant. */
  rotate(tokenHash: string): Promise<GrantResult>;
  /** Revoke for good: every later request is unauthenticated. Idempotent. */
  revoke(): Promise<GrantResult>;
  setLabel(label: string): Promise<GrantResult>;
  /**
   * Attach a policy name and its latest version (null snapshot: that policy has no version, deny
   * every call). A version older than the one held for the same name is ignored, so two saves
   * racing each other cannot roll a grant back.
   */
  setPolicy(policyName: string | null, snapshot: PolicySnapshot | null): Promise<GrantResult>;
  /** Take a server's new upstream; an older version than the one held is ignored. */
  setUpstream(upstream: Upstream): Promise<GrantResult>;
  /** null when the grant was never provisioned. */
  info(): Promise<GrantInfo | null>;
  /** Records with seq > after, oldest first, at most `limit` (1..1000). */
  readAudit(after: number, limit: number): Promise<AuditPage>;
  /** Recompute the hash chain (from where retention left it); the first broken seq if any. */
  verifyAudit(): Promise<{ ok: true; count: number } | { ok: false; brokenAt: number }>;
  /** The signed header of an export of records after `after` up to `until` (docs/audit.md); null when never provisioned. */
  auditExport(after: number, until: number | null): Promise<ExportHeader | null>;
  /** Stored records after `after` up to `through`, at most `limit` (1..1000), exactly as stored. */
  readAuditLines(after: number, through: number, limit: number): Promise<LogLines>;

  /** The hot path: authenticate, evaluate, reserve, and make the decision record(s) durable, in one step. */
  gate(req: GateRequest): Promise<GateResult>;
  /** Bind an upstream-minted Mcp-Session-Id to this grant; awaited before the initialize response is returned. */
  bindSession(seq: number, sessionId: string): Promise<void>;
  /** Bind task ids the upstream created for this grant; awaited before the answer naming them is relayed. */
  bindTasks(seq: number, taskIds: string[]): Promise<void>;
  /** Which of `taskIds` belong to this grant (tasks/list answers are filtered to them). */
  boundTasks(taskIds: string[]): Promise<string[]>;
  /** Record outcomes after the response; releases reservations when the upstream never received the call. */
  settle(batch: Settlement | Settlement[]): Promise<void>;

  /** One approval request (with its argument values while pending), or null. */
  approval(id: string, withValues: boolean): Promise<ApprovalView | null>;
  /** Several, for listing; unknown ids are left out. */
  approvals(ids: string[]): Promise<ApprovalView[]>;
  /** Approve or reject; the first decision wins. Appends the audit record. */
  decideApproval(id: string, verdict: ApprovalVerdict, by: string, reason: string | null): Promise<Result<ApprovalView, ApprovalError>>;
  /** The request's status once it is no longer pending, or "pending" after `timeoutMs`; null for an unknown id. */
  awaitApproval(id: string, timeoutMs: number): Promise<ApprovalStatus | null>;
}

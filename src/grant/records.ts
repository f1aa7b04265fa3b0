/**
 * Building audit records: the defaults every record starts from, and the bounds on what an agent
 * controls. Pure; the Durable Object adds seq and chains them (audit.ts).
 *
 * Every field an agent controls (method, id, tool name, argument names) is length-bounded: a value
 * past the bound is cut, marked, and followed by the SHA-256 of the original, so one request cannot
 * make a record too large to store (SQLite refuses rows past its size limit, and a refused write
 * would leave a request unrecorded) while the record still identifies exactly what was sent.
 */
import { sha256Hex } from "../digest";
import type { AuditDraft } from "./audit";
import type { AuditRecord, PolicyRef } from "./protocol";

/** Characters kept of one agent-controlled text field. */
export const MAX_FIELD_CHARS = 256;
/** Argument names kept per record, each bounded like a text field. */
export const MAX_ARG_KEYS = 64;

/** `value`, or its first MAX_FIELD_CHARS characters plus a marker with its length and SHA-256. */
export function boundedText(value: string, max = MAX_FIELD_CHARS): string {
  if (value.length <= max) return value;
  // Never cut a surrogate pair in half: the record would then hold a lone surrogate.
  const cut = isHighSurrogate(value.charCodeAt(max - 1)) ? max - 1 : max;
  return `${value.slice(0, cut)}…[truncated: ${value.length} characters, sha256 ${sha256Hex(value)}]`;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/** Sorted top-level argument names of a tools/call, bounded: what was passed, never its values. */
export function argKeysOf(args: Record<string, unknown> | undefined): string[] {
  const keys = args === undefined ? [] : Object.keys(args).sort();
  if (keys.length <= MAX_ARG_KEYS) return keys.map((key) => boundedText(key));
  const kept = keys.slice(0, MAX_ARG_KEYS).map((key) => boundedText(key));
  kept.push(`…[${keys.length - MAX_ARG_KEYS} more argument names, sha256 of all ${sha256Hex(JSON.stringify(keys))}]`);
  return kept;
}

/** An id as recorded: numbers as they are, strings bounded. */
export const boundedId = (id: string | number | null): string | number | null => (typeof id === "string" ? boundedText(id) : id);

/** Who a record is about: the grant's identity at the time of writing. */
export interface RecordSubject {
  grantId: string;
  label: string;
  serverId: string;
}

/** A record with every field at its default; callers override what they know. */
export function draftRecord(
  subject: RecordSubject,
  time: string,
  type: AuditRecord["type"],
  policy: PolicyRef | null,
  fields: Partial<AuditDraft> & Pick<AuditDraft, "decision">,
): AuditDraft {
  return {
    seq: 0,
    time,
    type,
    requestId: null,
    grantId: subject.grantId,
    label: subject.label,
    serverId: subject.serverId,
    httpMethod: null,
    rpcMethod: null,
    rpcId: null,
    tool: null,
    policy,
    code: null,
    rule: null,
    message: null,
    argKeys: null,
    ref: null,
    status: null,
    latencyMs: null,
    ...fields,
  };
}

/**
 * What a streaming JSON validator (src/mcp/json-stream.ts) keeps of a document it does not hold:
 * a skeleton. A `CaptureSpec` names the members to keep, level by level; everything else is left
 * out, and containers below the named levels become empty placeholders of the same type (`{}`,
 * `[]`). Numbers, booleans and null are kept as they are; strings are kept only where the spec
 * says `exact`, else replaced by "" (the type is what matters there). Pure.
 *
 * The skeleton is what src/mcp/jsonrpc.ts's classifyMessage needs to decide on a message (its
 * top-level members, the type of result and params, params.name and params.arguments,
 * error.code and error.message) without the megabytes of a large result.
 */

export interface CaptureSpec {
  /** A string value is kept as it is (up to the validator's bound), not replaced by "". */
  readonly exact?: boolean;
  /** Members of an object to capture, by key; others are left out unless `keepKeys`. */
  readonly members?: ReadonlyMap<string, CaptureSpec>;
  /** Every key of the object appears in the skeleton; those not in `members` with the value null. */
  readonly keepKeys?: boolean;
  /** How to capture every element of an array. */
  readonly elements?: CaptureSpec;
}

/** A kept string longer than the validator's bound: not a string, so it matches no id or method. */
export const TOO_LONG: unique symbol = Symbol("string too long to keep");

/** A captured container and the spec of its members. */
export interface CaptureTarget {
  spec: CaptureSpec;
  value: Record<string, unknown> | unknown[];
}

/** Whether a container of this kind captured under `spec` keeps any of its members. */
export function capturesMembers(spec: CaptureSpec, object: boolean): boolean {
  return object ? spec.members !== undefined || spec.keepKeys === true : spec.elements !== undefined;
}

/** Places a value into a captured container: a member (an own data property, even "__proto__") or the next element. */
export function placeCaptured(target: CaptureTarget, key: string, value: unknown): void {
  if (Array.isArray(target.value)) target.value.push(value);
  else Object.defineProperty(target.value, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The spec for the value of member `key` of a captured object: its own spec, or null when it is
 * not captured. A kept key that is not captured is placed with the value null at once.
 */
export function memberSpec(target: CaptureTarget, key: string): CaptureSpec | null {
  const spec = target.spec.members?.get(key);
  if (spec !== undefined) return spec;
  if (target.spec.keepKeys) placeCaptured(target, key, null);
  return null;
}

const TYPE_ONLY: CaptureSpec = {};
const EXACT: CaptureSpec = { exact: true };

/**
 * One JSON-RPC message: its top-level members (every key, so unknown ones are still refused),
 * jsonrpc, id and method exactly, params.name and params.arguments by type (tools/call requires
 * them), result.task.taskId exactly (tasks are bound to the grant before the answer naming them
 * is released), error.code exactly and error.message by type.
 */
const MESSAGE: CaptureSpec = {
  keepKeys: true,
  members: new Map<string, CaptureSpec>([
    ["jsonrpc", EXACT],
    ["id", EXACT],
    ["method", EXACT],
    [
      "params",
      {
        members: new Map([
          ["name", TYPE_ONLY],
          ["arguments", TYPE_ONLY],
        ]),
      },
    ],
    ["result", { members: new Map([["task", { members: new Map([["taskId", EXACT]]) }]]) }],
    [
      "error",
      {
        members: new Map([
          ["code", EXACT],
          ["message", TYPE_ONLY],
        ]),
      },
    ],
  ]),
};

/** What the upstream sends back: one message, or an array (a batch answer) of them. */
export const JSON_RPC_SKELETON: CaptureSpec = { ...MESSAGE, elements: MESSAGE };

/**
 * Reading admin request bodies and parameters: JSON only, validated with zod, every failure a 400 that
 * names the field by JSON pointer (RFC 6901), like policy errors do.
 *
 * Bodies are parsed by the same strict parser as MCP bodies (src/mcp/json.ts), not `JSON.parse`:
 * `JSON.parse` lets the last of two duplicate keys win, so `{"tools":{"pay":{"deny_if":[…]},"pay":{}}}`
 * would save a policy whose rule silently disappeared. Any body the operator could have meant two
 * ways is refused. The size limit counts bytes as they arrive, whether or not a Content-Length
 * was sent, so a body of multibyte characters cannot be three times the limit.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { decodeUtf8, readBodyBytes } from "../http";
import { parseStrictJson } from "../mcp/json";
import { pointer } from "../policy/schema";
import { AdminError } from "./errors";

/** Policies are the largest bodies; far below KV's 25 MiB value limit. In bytes, as sent. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface FieldError {
  /** JSON pointer into the body, "" for the body itself. */
  path: string;
  message: string;
}

const pointerOf = (path: readonly PropertyKey[]): string => pointer(path.filter((segment): segment is string | number => typeof segment !== "symbol"));

/** One FieldError per problem; unknown fields are named one by one. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: pointerOf([...issue.path, key]), message: "unknown field" }));
    }
    if (issue.code === "invalid_key") {
      // A record key that failed: say why, not just "Invalid key in record".
      return fieldErrors(issue.issues).map((inner) => ({ path: pointerOf(issue.path), message: `name ${inner.message}` }));
    }
    return [{ path: pointerOf(issue.path), message: issue.message }];
  });
}

export const describeFieldErrors = (errors: readonly FieldError[]): string => errors.map((error) => `${error.path || "(body)"}: ${error.message}`).join("; ");

/**
 * The parsed JSON body: 413 `body_too_large` past MAX_BODY_BYTES, 400 `invalid_json` when it is not
 * UTF-8 or not JSON the strict parser accepts (a duplicate key, keys differing only in case, a lone
 * surrogate…). The message says why and where, never quoting the body: it may hold credentials.
 */
export async function readJson(c: Context, whenEmpty?: unknown): Promise<unknown> {
  const bytes = await readBodyBytes(c.req.raw, MAX_BODY_BYTES);
  if (bytes === null) throw tooLarge();
  // Only routes whose body is optional pass `whenEmpty`; elsewhere an empty body is invalid JSON.
  if (bytes.byteLength === 0 && whenEmpty !== undefined) return whenEmpty;
  const text = decodeUtf8(bytes);
  if (text === null) throw new AdminError(400, "invalid_json", "The request body is not valid UTF-8");
  const parsed = parseStrictJson(text);
  if (parsed.ok) return parsed.value;
  const { code, message, offset } = parsed.error;
  const at = offset === undefined ? "" : ` (at character ${offset})`;
  throw new AdminError(400, "invalid_json", `The request body is not valid JSON: ${message}${at}`, { reason: code, offset });
}

const tooLarge = (): AdminError => new AdminError(413, "body_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes`);

/** Validate a value (a parsed body, a route parameter) or throw a 400 that lists every failing field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, code = "invalid_body"): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = fieldErrors(parsed.error.issues);
  throw new AdminError(400, code, describeFieldErrors(details), details);
}

export async function readBody<S extends z.ZodType>(c: Context, schema: S, whenEmpty?: unknown): Promise<z.output<S>> {
  return validate(schema, await readJson(c, whenEmpty));
}

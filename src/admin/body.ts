/**
 * Reading admin request bodies and parameters: JSON only, validated with zod, every failure a 400 that
 * names the field by JSON pointer (RFC 6901), like policy errors do.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { pointer } from "../policy/schema";
import { AdminError } from "./errors";

/** Policies are the largest bodies; far below KV's 25 MiB value limit. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface FieldError {
  /** JSON pointer into the body, "" for the body itself. */
  path: string;
  message: string;
}

const pointerOf = (path: readonly PropertyKey[]): string =>
  pointer(path.filter((segment): segment is string | number => typeof segment !== "symbol"));

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

export const describeFieldErrors = (errors: readonly FieldError[]): string =>
  errors.map((error) => `${error.path || "(body)"}: ${error.message}`).join("; ");

/** The parsed JSON body; 400 `invalid_json` when it does not parse, 413 when it is too large. */
export async function readJson(c: Context): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw tooLarge();
  try {
    return JSON.parse(text);
  } catch {
    throw new AdminError(400, "invalid_json", "The request body is not valid JSON");
  }
}

const tooLarge = (): AdminError =>
  new AdminError(413, "body_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes`);

/** Validate a value (a parsed body, a route parameter) or throw a 400 that lists every failing field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, code = "invalid_body"): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = fieldErrors(parsed.error.issues);
  throw new AdminError(400, code, describeFieldErrors(details), details);
}

export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return validate(schema, await readJson(c));
}

/**
 * The admin API's one error builder: every failure is `{ error, message }` (+ `details`), thrown as an
 * `AdminError` anywhere in a route and turned into a Response here, in one place.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CorruptRecordError } from "../store/kv";

export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

export class AdminError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(status, { message });
  }

  get body(): ErrorBody {
    return this.details === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, details: this.details };
  }
}

export const notFound = (what: string, id: string): AdminError => new AdminError(404, `${what}_not_found`, `No ${what} ${JSON.stringify(id)}`);

/** The admin sub-app's onError: known failures keep their status, everything else is a bare 500. */
export function renderAdminError(error: Error, c: Context): Response {
  if (error instanceof AdminError) return c.json(error.body, error.status);
  if (error instanceof CorruptRecordError) {
    // Fail closed: never a half-result built around a record that does not parse.
    console.error("corrupt KV record", error.key);
    return c.json({ error: "corrupt_record", message: `The stored record ${error.key} is corrupt; the request was not served` }, 500);
  }
  // Never echo the error itself: it may carry upstream headers.
  console.error("admin API error", error.name);
  return c.json({ error: "internal", message: "Internal error" }, 500);
}

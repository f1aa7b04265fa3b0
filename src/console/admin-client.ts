/**
 * How console pages reach the admin API: in-process, through the admin API's own Hono app, with the
 * configured ADMIN_TOKEN as the bearer, never over the network and never from the browser.
 *
 * Why through the API rather than calling store functions: every validation, error code, ordering
 * rule (a grant's Durable Object before KV, pushes to live grants) and future route (approvals) is
 * then the API's, and the console cannot drift from it or skip a check. The admin guard stays the
 * single authority for admin actions; the console's session only decides who may ask. The token
 * lives in the Worker's env, goes into a Request object that never leaves the isolate, and is never
 * rendered or logged.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { admin } from "../admin/routes";
import type { ErrorBody } from "../admin/errors";
import { err, ok, type Result } from "../result";
import { adminTokenOf, ConsoleRefusal, originOf, type ConsoleEnv } from "./guard";

/** The admin API as mounted by the Worker, so URLs (and the grant URLs it builds) are the real ones. */
const adminApi = new Hono<{ Bindings: Env }>().route("/admin", admin);

export interface AdminFailure extends ErrorBody {
  status: number;
}

export type AdminAnswer<T> = Result<T, AdminFailure>;

// biome-ignore lint/suspicious/noExplicitAny: an untyped call is JSON whose shape the page checks where it reads it.
export type AdminCall = <T = any>(method: string, path: string, body?: unknown) => Promise<AdminAnswer<T>>;

function executionContext(c: Context): Context["executionCtx"] | undefined {
  try {
    return c.executionCtx;
  } catch {
    // app.request() in tests has none; no admin route needs one.
    return undefined;
  }
}

/** An admin API caller bound to this request's env and origin. */
export function adminFor(c: Context<ConsoleEnv>): AdminCall {
  return async function callAdmin(method, path, body) {
    const headers = new Headers({ authorization: `Bearer ${adminTokenOf(c.env)}` });
    let payload: string | undefined;
    if (body !== undefined) {
      headers.set("content-type", "application/json");
      // A builder document arrives as the operator's own text: send it as typed, so the API's strict
      // parser judges exactly what they wrote (duplicate keys included).
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const url = new URL(`/admin${path}`, originOf(c));
    // Segments come from forms (a tool name, a policy name). "." or ".." would be resolved away and
    // move the call, with the admin token, to another admin route: fail closed instead.
    if (url.pathname !== `/admin${path.split("?")[0]}`) throw new ConsoleRefusal(400, "This names something the admin API cannot address in a URL path.");
    const request = new Request(url, { method, headers, body: payload });
    const response = await adminApi.fetch(request, c.env, executionContext(c));
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    if (response.ok) return ok(json as never);
    const failure = (json ?? {}) as Partial<ErrorBody>;
    return err({
      status: response.status,
      error: failure.error ?? "internal",
      message: failure.message ?? `The admin API answered ${response.status}`,
      ...(failure.details === undefined ? {} : { details: failure.details }),
    });
  };
}

/** The value of a successful call, or the failure thrown as a page-level error (rendered by routes.tsx). */
export class AdminCallFailed extends Error {
  constructor(readonly failure: AdminFailure) {
    super(failure.message);
  }
}

export function valueOrThrow<T>(answer: AdminAnswer<T>): T {
  if (!answer.ok) throw new AdminCallFailed(answer.error);
  return answer.value;
}

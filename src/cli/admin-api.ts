/**
 * The admin API over HTTP (README, "Admin API"): JSON in, JSON out, the admin token as a bearer
 * token. An answer that is not 2xx becomes a `GatewayRefusal` carrying the gateway's own `error`
 * code, message and details; a gateway that cannot be reached is a plain error (exit 1).
 *
 * The token goes in the Authorization header and nowhere else: not in a URL, not in a trace line,
 * not in an error. Redirects are not followed: a redirect would carry the request, and perhaps the
 * token, somewhere the operator did not name; the error says where it pointed instead.
 */
import { CliFailure, EXIT, GatewayRefusal } from "./failure";
import type { Connection } from "./config";

export interface AdminApi {
  /** The gateway URL, without `/admin`. */
  url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** `text` is sent as it is: `policy push` sends the file's own bytes, which the gateway parses. */
  put<T>(path: string, body: { json: unknown } | { text: string }): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
  /** A GET whose answer is not JSON (`audit export`'s NDJSON): its bytes, exactly as sent. */
  download(path: string): Promise<ReadableStream<Uint8Array>>;
}

export interface AdminApiOptions {
  userAgent: string;
  /** `--verbose`: one line per request and answer; method, path, status and time only. */
  trace?: (line: string) => void;
  timeoutMs?: number;
}

/** Path segments from operators' input (ids, names, tool names) are always encoded. */
export const segment = (value: string | number): string => encodeURIComponent(String(value));

export function adminApi(connection: Connection, options: AdminApiOptions): AdminApi {
  const timeoutMs = options.timeoutMs ?? 30_000;

  const send = (method: string, path: string, body?: { json: unknown } | { text: string }) => sendRequest(connection, options, timeoutMs, method, path, body);

  async function request<T>(method: string, path: string, body?: { json: unknown } | { text: string }): Promise<T> {
    const { response, settled } = await send(method, path, body);
    const text = await response.text().catch(() => "");
    settled();
    const json = parseJson(text);
    if (json === undefined) {
      throw new CliFailure(EXIT.errors, `The gateway answered ${method} /admin${path} with something that is not JSON (HTTP ${response.status})`, "not_json");
    }
    return json as T;
  }

  return {
    url: connection.url,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body === undefined ? undefined : { json: body }),
    put: (path, body) => request("PUT", path, body),
    patch: (path, body) => request("PATCH", path, { json: body }),
    delete: (path) => request("DELETE", path),
    async download(path) {
      const { response, settled } = await send("GET", path);
      // A long export may take longer than the timeout to stream: the timeout covers the wait for an answer.
      settled();
      if (response.body === null) throw new CliFailure(EXIT.errors, `The gateway answered GET /admin${path} without a body`, "no_body");
      return response.body;
    },
  };
}

/**
 * One request, up to its answer's headers: a redirect or a refusal is thrown here. `settled` ends
 * the timeout; JSON answers call it once the body is read, a download once the headers are in.
 */
async function sendRequest(
  connection: Connection,
  options: AdminApiOptions,
  timeoutMs: number,
  method: string,
  path: string,
  body?: { json: unknown } | { text: string },
): Promise<{ response: Response; settled: () => void }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${connection.token}`,
    accept: "application/json",
    "user-agent": options.userAgent,
  };
  let payload: string | undefined;
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = "text" in body ? body.text : JSON.stringify(body.json);
  }
  const started = Date.now();
  options.trace?.(`→ ${method} /admin${path}`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
  const settled = () => clearTimeout(timer);
  let response: Response;
  try {
    response = await fetch(`${connection.url}/admin${path}`, { method, headers, body: payload, redirect: "manual", signal: controller.signal });
  } catch (error) {
    settled();
    throw unreachable(connection.url, error, timeoutMs);
  }
  options.trace?.(`← ${response.status} ${method} /admin${path} in ${Date.now() - started} ms`);
  if (response.status >= 300 && response.status < 400) {
    settled();
    const location = response.headers.get("location");
    throw new CliFailure(
      EXIT.errors,
      `The gateway at ${connection.url} redirected ${method} /admin${path} (${response.status}${location ? ` to ${location}` : ""}); use the URL it redirects to`,
      "redirect",
    );
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    settled();
    throw refusal(response.status, parseJson(text));
  }
  return { response, settled };
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function refusal(status: number, body: unknown): GatewayRefusal {
  if (typeof body === "object" && body !== null) {
    const { error, message, details } = body as Record<string, unknown>;
    if (typeof error === "string" && typeof message === "string") return new GatewayRefusal(status, error, message, details);
  }
  // Not the admin API's shape: a proxy, a Cloudflare error page, a wrong URL.
  return new GatewayRefusal(status, `http_${status}`, `HTTP ${status} without an admin API error body; is the URL the gateway's?`);
}

function unreachable(url: string, error: unknown, timeoutMs: number): CliFailure {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new CliFailure(EXIT.errors, `The gateway at ${url} did not answer within ${timeoutMs / 1000} s`, "timeout");
  }
  // undici puts the reason (ECONNREFUSED, ENOTFOUND, a TLS error) in `cause`.
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : "unknown error");
  return new CliFailure(EXIT.errors, `Cannot reach the gateway at ${url}: ${reason}`, "unreachable");
}

/**
 * Discovery: fetch an upstream's tool definitions, as an MCP client would, from inside the Worker.
 *
 * Both protocol eras (docs/catalogue.md, "Discovery"):
 *   - 2026-07-28, stateless: `server/discover` with the per-request `_meta` envelope; if the answer
 *     offers "2026-07-28", every `tools/list` carries the envelope and the routing headers.
 *   - Legacy (2025-03-26 … 2025-11-25): any other answer to the probe (a JSON-RPC error, a 4xx, a
 *     result without that version) falls back to `initialize`, `notifications/initialized`, then
 *     `tools/list` with the session id the upstream minted, and a DELETE that ends the session.
 * Every `tools/list` page is followed (`nextCursor`).
 *
 * Bounds and refusals, each a named error:
 *   - the whole discovery has one deadline (10 s): `timeout`;
 *   - a connection that fails: `unreachable`;
 *   - any redirect (`redirect: "manual"`): `redirect` — the server's credential headers must never
 *     follow a redirect to another origin;
 *   - 401 or 403: `unauthorized` (the challenge is not followed: the gateway's credentials for an
 *     upstream are the server's configured headers, nothing else);
 *   - 5xx, or a JSON-RPC error answering initialize or tools/list: `upstream_error`;
 *   - an answer that is not MCP (wrong content type, not strict JSON, not a JSON-RPC response to
 *     the request sent): `not_mcp`;
 *   - a response over 4 MiB, all pages together over 8 MiB, more than 100 pages or 2,000 tools:
 *     `too_large`;
 *   - a tool definition that does not validate, or a name listed twice: `invalid_tools`.
 * Answers are parsed with the gateway's strict JSON parser; SSE with eventsource-parser.
 * Messages never quote upstream bodies or header values. Requests go through `sendUpstream`
 * (src/upstream.ts), like every request the gateway makes to an upstream.
 *
 * Longer than 300 lines because it is one conversation with an upstream, in two eras, with its
 * bounds: split, the pieces would only make sense read together.
 */
import { createParser } from "eventsource-parser";
import { err, ok, type Result } from "../result";
import { isJsonObject, parseStrictJson } from "../mcp/json";
import { sendUpstream } from "../upstream";
import { ToolDefinition } from "./definition";

export const MODERN_PROTOCOL_VERSION = "2026-07-28";
/** The newest legacy revision; the upstream answers with the one it speaks. */
export const LEGACY_PROTOCOL_VERSION = "2025-11-25";

export type DiscoveryErrorCode = "unreachable" | "timeout" | "redirect" | "unauthorized" | "upstream_error" | "not_mcp" | "too_large" | "invalid_tools";

export interface DiscoveryError {
  code: DiscoveryErrorCode;
  message: string;
}

export interface DiscoveredTools {
  /** The protocol revision the tools were listed with. */
  protocolVersion: string;
  tools: ToolDefinition[];
}

export interface DiscoveryLimits {
  timeoutMs: number;
  maxResponseBytes: number;
  maxTotalBytes: number;
  maxPages: number;
  maxTools: number;
}

export const defaultDiscoveryLimits: DiscoveryLimits = Object.freeze({
  timeoutMs: 10_000,
  maxResponseBytes: 4 * 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024,
  maxPages: 100,
  maxTools: 2_000,
});

export interface UpstreamTarget {
  url: string;
  /** The server's credential headers (secrets). */
  headers: Record<string, string>;
}

const CLIENT_INFO = { name: "mcp-policy-gateway-catalogue", version: "1.0.0" };

/** Thrown inside one discovery and caught at its top: carries the named error out of the steps. */
class Stop {
  constructor(readonly error: DiscoveryError) {}
}

function stop(code: DiscoveryErrorCode, message: string): never {
  throw new Stop({ code, message });
}

/** Visible ASCII (Streamable HTTP, "Session Management"); anything else is never echoed back. */
const SESSION_ID = /^[\x21-\x7e]{1,512}$/;

interface Reply {
  status: number;
  headers: Headers;
  /** The JSON-RPC response to the request, or null (202, or a body with no answer in it). */
  message: Record<string, unknown> | null;
}

export async function discoverTools(
  target: UpstreamTarget,
  limits: DiscoveryLimits = defaultDiscoveryLimits,
): Promise<Result<DiscoveredTools, DiscoveryError>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort("discovery_timeout"), limits.timeoutMs);
  const session = new DiscoverySession(target, limits, controller.signal);
  try {
    return ok(await session.run());
  } catch (thrown) {
    if (thrown instanceof Stop) return err(thrown.error);
    if (controller.signal.aborted) return err({ code: "timeout", message: `The upstream did not finish answering within ${limits.timeoutMs / 1000} s` });
    throw thrown;
  } finally {
    clearTimeout(timer);
    controller.abort("discovery_done");
  }
}

class DiscoverySession {
  private nextId = 1;
  private totalBytes = 0;

  constructor(
    private readonly target: UpstreamTarget,
    private readonly limits: DiscoveryLimits,
    private readonly signal: AbortSignal,
  ) {}

  async run(): Promise<DiscoveredTools> {
    if (await this.speaksModernEra()) {
      const meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
        "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        "io.modelcontextprotocol/clientCapabilities": {},
      };
      const tools = await this.listAllTools((cursor) => ({
        params: { ...(cursor === undefined ? {} : { cursor }), _meta: meta },
        headers: { "mcp-protocol-version": MODERN_PROTOCOL_VERSION, "mcp-method": "tools/list" },
      }));
      return { protocolVersion: MODERN_PROTOCOL_VERSION, tools };
    }
    return this.legacy();
  }

  /** The 2026-07-28 probe: true when the upstream offers that revision; false means "legacy". */
  private async speaksModernEra(): Promise<boolean> {
    const reply = await this.post(
      "server/discover",
      {
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
          "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      },
      { "mcp-protocol-version": MODERN_PROTOCOL_VERSION, "mcp-method": "server/discover" },
      { tolerateClientErrors: true },
    );
    const result = reply.message?.result;
    if (!isJsonObject(result)) return false;
    const versions = result.supportedVersions;
    return Array.isArray(versions) && versions.includes(MODERN_PROTOCOL_VERSION);
  }

  private async legacy(): Promise<DiscoveredTools> {
    const init = await this.post("initialize", { protocolVersion: LEGACY_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO }, {});
    const result = this.resultOf(init, "initialize");
    const protocolVersion = result.protocolVersion;
    if (typeof protocolVersion !== "string" || !/^[\x21-\x7e]{1,64}$/.test(protocolVersion)) {
      stop("not_mcp", "The upstream's initialize result has no protocolVersion");
    }
    const version = protocolVersion;
    const sessionId = init.headers.get("mcp-session-id");
    if (sessionId !== null && !SESSION_ID.test(sessionId)) stop("not_mcp", "The upstream sent a session id that is not visible ASCII");
    const headers: Record<string, string> = { "mcp-protocol-version": version };
    if (sessionId !== null) headers["mcp-session-id"] = sessionId;
    try {
      await this.notify("notifications/initialized", headers);
      const tools = await this.listAllTools((cursor) => ({ params: cursor === undefined ? {} : { cursor }, headers }));
      return { protocolVersion: version, tools };
    } finally {
      if (sessionId !== null) await this.endSession(headers);
    }
  }

  private async listAllTools(
    request: (cursor: string | undefined) => { params: Record<string, unknown>; headers: Record<string, string> },
  ): Promise<ToolDefinition[]> {
    const tools: ToolDefinition[] = [];
    const names = new Set<string>();
    const cursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      if (page > this.limits.maxPages) stop("too_large", `tools/list has more than ${this.limits.maxPages} pages`);
      const { params, headers } = request(cursor);
      const result = this.resultOf(await this.post("tools/list", params, headers), "tools/list");
      const listed = result.tools;
      if (!Array.isArray(listed)) stop("not_mcp", "A tools/list result has no tools list");
      for (const [index, raw] of listed.entries()) {
        const parsed = ToolDefinition.safeParse(raw);
        if (!parsed.success) {
          const path = parsed.error.issues[0]?.path.join(".") ?? "";
          stop("invalid_tools", `Tool ${index} of tools/list page ${page} is not a valid tool definition${path === "" ? "" : ` (at ${path})`}`);
        }
        const tool = parsed.data;
        if (names.has(tool.name)) stop("invalid_tools", `The upstream lists the tool ${JSON.stringify(tool.name)} twice`);
        names.add(tool.name);
        tools.push(tool);
        if (tools.length > this.limits.maxTools) stop("too_large", `The upstream lists more than ${this.limits.maxTools} tools`);
      }
      const next = result.nextCursor;
      if (next === undefined || next === null) return tools;
      if (typeof next !== "string") stop("not_mcp", "A tools/list result has a nextCursor that is not a string");
      if (cursors.has(next)) stop("not_mcp", "tools/list returned a cursor it had returned before");
      cursors.add(next);
      cursor = next;
    }
  }

  /** The `result` of a reply, or the named error for everything else. */
  private resultOf(reply: Reply, method: string): Record<string, unknown> {
    const message = reply.message;
    if (message === null) stop("not_mcp", `The upstream did not answer ${method}`);
    const error = message.error;
    if (isJsonObject(error)) {
      const code = typeof error.code === "number" ? ` ${error.code}` : "";
      stop("upstream_error", `The upstream answered ${method} with JSON-RPC error${code}`);
    }
    const result = message.result;
    if (!isJsonObject(result)) stop("not_mcp", `The upstream's answer to ${method} has no result object`);
    return result;
  }

  private async post(
    method: string,
    params: Record<string, unknown>,
    extraHeaders: Record<string, string>,
    options: { tolerateClientErrors?: boolean } = {},
  ): Promise<Reply> {
    const id = this.nextId++;
    const response = await this.send("POST", extraHeaders, JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    const status = response.status;
    if (options.tolerateClientErrors && status >= 400 && status < 500 && status !== 401 && status !== 403) {
      await response.body?.cancel();
      return { status, headers: response.headers, message: null };
    }
    this.checkStatus(response, method);
    return { status, headers: response.headers, message: await this.readAnswer(response, id, method) };
  }

  private async notify(method: string, headers: Record<string, string>): Promise<void> {
    const response = await this.send("POST", headers, JSON.stringify({ jsonrpc: "2.0", method }));
    this.checkStatus(response, method);
    await response.body?.cancel();
  }

  /** DELETE ends the legacy session the discovery opened; its answer does not matter. */
  private async endSession(headers: Record<string, string>): Promise<void> {
    try {
      const response = await this.send("DELETE", headers, undefined);
      await response.body?.cancel();
    } catch {
      // The tools are listed already; a session the upstream keeps is its own to expire.
    }
  }

  private async send(method: "POST" | "DELETE", extraHeaders: Record<string, string>, body: string | undefined): Promise<Response> {
    const headers = new Headers({ accept: "application/json, text/event-stream", ...extraHeaders });
    if (body !== undefined) headers.set("content-type", "application/json");
    // The server's credentials last, as the gateway adds them (src/gateway/forward.ts). Their names
    // never collide with the MCP headers above: the server schema reserves those.
    for (const [name, value] of Object.entries(this.target.headers)) headers.set(name, value);
    const sent = await sendUpstream(this.target.url, { method, headers, body }, this.signal);
    if (sent.ok) return sent.value;
    // The deadline is reported as a timeout at the top.
    if (this.signal.aborted) throw this.signal.reason;
    return stop("unreachable", "The upstream could not be reached (connection failed)");
  }

  private checkStatus(response: Response, method: string): void {
    const status = response.status;
    if (status >= 300 && status < 400) stop("redirect", `The upstream answered ${method} with a redirect (HTTP ${status}); redirects are not followed`);
    if (status === 401 || status === 403) stop("unauthorized", `The upstream refused the server's credentials (HTTP ${status})`);
    if (status >= 500) stop("upstream_error", `The upstream answered ${method} with HTTP ${status}`);
    if (status >= 400) stop("not_mcp", `The upstream answered ${method} with HTTP ${status}`);
  }

  /** The JSON-RPC response with `id` in a JSON or SSE body; null for a body-less 202. */
  private async readAnswer(response: Response, id: number, method: string): Promise<Record<string, unknown> | null> {
    if (response.status === 202 || response.body === null) return null;
    const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type === "application/json") {
      const text = await this.readText(response.body, null);
      return this.answerIn(text, id, method);
    }
    if (type === "text/event-stream") {
      let answer: Record<string, unknown> | null = null;
      const parser = createParser({
        onEvent: (event) => {
          if (answer === null) answer = this.answerInEvent(event.data, id);
        },
      });
      await this.readText(response.body, (chunk) => {
        parser.feed(chunk);
        return answer !== null;
      });
      if (answer === null) stop("not_mcp", `The upstream's event stream ended without answering ${method}`);
      return answer;
    }
    await response.body.cancel();
    return stop("not_mcp", `The upstream answered ${method} with content type ${JSON.stringify(type.slice(0, 64))}, not JSON or SSE`);
  }

  private answerIn(text: string, id: number, method: string): Record<string, unknown> {
    const parsed = parseStrictJson(text);
    if (!parsed.ok) stop("not_mcp", `The upstream's answer to ${method} is not valid JSON (${parsed.error.code})`);
    if (!isResponseTo(parsed.value, id)) stop("not_mcp", `The upstream's answer to ${method} is not a JSON-RPC response to it`);
    return parsed.value;
  }

  /** An SSE event's data when it is the response to `id`; other events (progress, logs) are skipped. */
  private answerInEvent(data: string, id: number): Record<string, unknown> | null {
    const parsed = parseStrictJson(data);
    return parsed.ok && isResponseTo(parsed.value, id) ? parsed.value : null;
  }

  /**
   * Reads a body as UTF-8 within the size bounds. With `onChunk`, each decoded chunk is handed
   * over and reading stops (the stream is cancelled) once it returns true.
   */
  private async readText(body: ReadableStream<Uint8Array>, onChunk: ((chunk: string) => boolean) | null): Promise<string> {
    const reader = body.getReader();
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
    let text = "";
    let bytes = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        this.totalBytes += value.byteLength;
        if (bytes > this.limits.maxResponseBytes) stop("too_large", `An upstream response is larger than ${this.limits.maxResponseBytes} bytes`);
        if (this.totalBytes > this.limits.maxTotalBytes)
          stop("too_large", `The upstream's answers together are larger than ${this.limits.maxTotalBytes} bytes`);
        let chunk: string;
        try {
          chunk = decoder.decode(value, { stream: true });
        } catch {
          return stop("not_mcp", "An upstream response is not valid UTF-8");
        }
        if (onChunk === null) text += chunk;
        else if (onChunk(chunk)) return text;
      }
      if (onChunk === null) text += decoder.decode();
      return text;
    } catch (thrown) {
      if (thrown instanceof Stop) throw thrown;
      if (this.signal.aborted) throw thrown;
      return stop("unreachable", "The connection to the upstream broke while it was answering");
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}

function isResponseTo(value: unknown, id: number): value is Record<string, unknown> {
  return isJsonObject(value) && value.jsonrpc === "2.0" && value.id === id && ("result" in value || "error" in value);
}

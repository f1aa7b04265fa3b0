/**
 * MCP 2026-07-28 routing headers: `Mcp-Method` and `Mcp-Name` repeat what the body says so that
 * intermediaries can route without parsing. The gateway still decides from the body (docs/mcp.md,
 * "Two eras"), and refuses a request whose headers disagree with it: an upstream or a load
 * balancer that trusted the header would otherwise act on a different call than the one evaluated.
 */
import { err, ok, type Result } from "../result";
import type { JsonRpcMessage } from "./jsonrpc";

/** Methods whose `Mcp-Name` header names their target, and where the body carries it. */
const NAMED_TARGET: Readonly<Record<string, "name" | "uri">> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
};

/** The value of `Mcp-Name` for a message: its named target, if its method has one. */
export function routingTarget(message: JsonRpcMessage): string | undefined {
  if (message.kind === "response") return undefined;
  const field = NAMED_TARGET[message.method];
  const params = message.params;
  const target = field !== undefined && params !== undefined && !Array.isArray(params) ? params[field] : undefined;
  return typeof target === "string" ? target : undefined;
}

/** A header value as MCP sends it: visible ASCII as is, anything else as `=?base64?…?=` of its UTF-8. */
export function encodeHeaderValue(value: string): string {
  if (/^[\x21-\x7e]*$/.test(value) && !value.startsWith("=?base64?")) return value;
  let binary = "";
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte);
  return `=?base64?${btoa(binary)}?=`;
}

/** A header value, decoded from the `=?base64?…?=` form used for non-ASCII values. Null if malformed. */
export function decodeHeaderValue(value: string): string | null {
  const encoded = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(value);
  if (encoded === null) return value;
  try {
    const binary = atob(encoded[1] ?? "");
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Checks `Mcp-Method` and `Mcp-Name` (when present) against the parsed message.
 * The error is the message for a 400 with JSON-RPC code -32020.
 */
export function checkRoutingHeaders(headers: { method: string | null; name: string | null }, message: JsonRpcMessage): Result<null, string> {
  if (message.kind === "response") {
    if (headers.method !== null || headers.name !== null) return err("Mcp-Method and Mcp-Name are not sent with a response");
    return ok(null);
  }
  if (headers.method !== null && decodeHeaderValue(headers.method) !== message.method) {
    return err("Mcp-Method header does not match the body's method");
  }
  if (headers.name !== null) {
    const target = routingTarget(message);
    if (target === undefined || decodeHeaderValue(headers.name) !== target) {
      return err("Mcp-Name header does not match the body's target");
    }
  }
  return ok(null);
}

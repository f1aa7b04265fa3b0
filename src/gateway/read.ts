/**
 * Step 2 (docs/architecture.md): read what the agent sent. Headers that change how a body is read
 * are refused or consumed here, so the upstream decodes exactly the value the gateway evaluates:
 * a POST must be `application/json` in UTF-8 (its only parameter may be `charset=utf-8`), with no
 * Content-Encoding. Then the body: size limit (413), strict UTF-8, strict JSON and JSON-RPC,
 * batches only in 2025-03-26, and 2026-07-28 routing headers that agree with the body. The MCP
 * headers that travel on are validated here too; forward.ts builds the upstream's header set from
 * them and nothing else.
 */
import { decodeUtf8, readBodyBytes } from "../http";
import { parseBody, RpcErrorCode, type ParsedBody } from "../mcp/jsonrpc";
import { parseMediaType } from "../mcp/media-type";
import { BATCH_REVISION } from "../mcp/revision";
import { checkRoutingHeaders } from "../mcp/routing-headers";
import { err, ok, type Result } from "../result";
import type { GatewayRejection } from "./rejection";

/** The agent's MCP headers that the upstream may see, each validated. */
export interface McpHeaders {
  accept: string | null;
  sessionId: string | null;
  protocolVersion: string | null;
  lastEventId: string | null;
  /** 2026-07-28 routing headers, as sent; they agree with the body (checked). */
  method: string | null;
  name: string | null;
}

export interface McpRequest {
  httpMethod: string;
  /** The parsed POST body; null for GET and DELETE. */
  body: ParsedBody | null;
  headers: McpHeaders;
}

/** Visible ASCII, as MCP requires of session ids; also enough for event ids and the other headers. */
const VISIBLE_ASCII = /^[\x21-\x7e]{1,1024}$/;
const HEADER_TEXT = /^[\x20-\x7e]{0,1024}$/;
const REVISION = /^\d{4}-\d{2}-\d{2}$/;

/** The validated MCP headers, or why one is malformed. */
function mcpHeaders(headers: Headers): Result<McpHeaders, GatewayRejection> {
  const read = (name: string, shape: RegExp): string | null | undefined => {
    const value = headers.get(name);
    if (value === null) return null;
    return shape.test(value) ? value : undefined;
  };
  const values = {
    accept: read("accept", HEADER_TEXT),
    sessionId: read("mcp-session-id", VISIBLE_ASCII),
    protocolVersion: read("mcp-protocol-version", REVISION),
    lastEventId: read("last-event-id", HEADER_TEXT),
    method: read("mcp-method", VISIBLE_ASCII),
    name: read("mcp-name", VISIBLE_ASCII),
  };
  for (const [field, value] of Object.entries(values)) {
    if (value === undefined) return err({ kind: "invalid_header", message: `The ${field} header is malformed` });
  }
  return ok(values as McpHeaders);
}

/** Why the body's encoding headers are refused, or null: JSON in UTF-8, nothing else. */
function encodingProblem(headers: Headers): string | null {
  const encoding = headers.get("content-encoding");
  if (encoding !== null && encoding.trim().toLowerCase() !== "identity") return "Content-Encoding is not accepted; send the JSON body uncompressed";
  const type = parseMediaType(headers.get("content-type"));
  if (type === null || type.type !== "application/json") return "Content-Type must be application/json";
  for (const [name, value] of type.parameters) {
    if (name !== "charset" || value.toLowerCase() !== "utf-8") return "Content-Type may carry only charset=utf-8; the body must be UTF-8 JSON";
  }
  return null;
}

export async function readRequest(request: Request, maxBodyBytes: number): Promise<Result<McpRequest, GatewayRejection>> {
  const headers = mcpHeaders(request.headers);
  if (!headers.ok) return headers;
  if (request.method !== "POST") return ok({ httpMethod: request.method, body: null, headers: headers.value });
  const problem = encodingProblem(request.headers);
  if (problem !== null) return err({ kind: "unsupported_media_type", message: problem });
  const body = await readBody(request, maxBodyBytes);
  if (!body.ok) return body;
  if (body.value.kind === "batch" && headers.value.protocolVersion !== BATCH_REVISION) {
    return err({
      kind: "invalid_message",
      id: null,
      code: RpcErrorCode.InvalidRequest,
      message: "JSON-RPC batches are only accepted in protocol version 2025-03-26",
    });
  }
  const routing = { method: headers.value.method, name: headers.value.name };
  if (routing.method !== null || routing.name !== null) {
    if (body.value.kind === "batch") return err({ kind: "header_mismatch", message: "Mcp-Method and Mcp-Name cannot describe a batch" });
    const checked = checkRoutingHeaders(routing, body.value.message);
    if (!checked.ok) return err({ kind: "header_mismatch", message: checked.error });
  }
  return ok({ httpMethod: "POST", body: body.value, headers: headers.value });
}

async function readBody(request: Request, limit: number): Promise<Result<ParsedBody, GatewayRejection>> {
  const bytes = await readBodyBytes(request, limit);
  if (bytes === null) return err({ kind: "body_too_large", limit });
  const text = decodeUtf8(bytes);
  if (text === null) return err({ kind: "invalid_message", id: null, code: RpcErrorCode.ParseError, message: "Request body is not valid UTF-8" });
  const parsed = parseBody(text);
  if (!parsed.ok) return err({ kind: "invalid_message", ...parsed.error });
  return parsed;
}

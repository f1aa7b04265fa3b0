/**
 * Session rules, pure (docs/mcp.md, "Sessions"): a session id the upstream mints on `initialize` is
 * bound to the grant before the agent sees it, and a successful DELETE ends it for the grant too.
 */
import type { JsonRpcMessage } from "../mcp/jsonrpc";

export interface SessionChange {
  /** Bind this upstream-minted id to the grant (awaited before the answer is returned). */
  open: string | null;
  /** Forget this id (recorded with the outcome, at once). */
  close: string | null;
}

export function sessionChange(
  httpMethod: string,
  messages: readonly JsonRpcMessage[],
  requestSessionId: string | null,
  response: { ok: boolean; sessionId: string | null },
): SessionChange {
  const isInitialize = messages.some((m) => m.kind === "request" && m.method === "initialize");
  return {
    open: isInitialize && response.ok && response.sessionId !== null && response.sessionId !== "" ? response.sessionId : null,
    close: httpMethod === "DELETE" && response.ok ? requestSessionId : null,
  };
}

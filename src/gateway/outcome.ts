/**
 * Step 7 (docs/architecture.md): what the upstream's answer means, as a pure table. Given how the
 * upstream call ended (no answer, or a status and headers), say what the agent gets and what the
 * outcome record says. Never relayed: an auth challenge (the client would fetch upstream-audience
 * tokens and hand them to the gateway, docs/mcp.md "Authorization"), a redirect (never followed),
 * a server error.
 */
import type { Settlement } from "../grant/protocol";
import type { JsonRpcId } from "../mcp/jsonrpc";
import type { UpstreamFailure } from "../upstream";
import type { GatewayRejection } from "./rejection";

export type UpstreamAttempt = { kind: "failed"; failure: UpstreamFailure } | { kind: "answered"; status: number; headers: Headers };

export type OutcomeStep =
  /** The agent went away: nothing to answer; the outcome is recorded. */
  | { kind: "cancelled"; patch: Partial<Settlement> }
  | { kind: "reject"; rejection: GatewayRejection; patch: Partial<Settlement> }
  | { kind: "relay"; patch: Partial<Settlement> };

export function upstreamOutcome(attempt: UpstreamAttempt, id: JsonRpcId | null, server: string): OutcomeStep {
  if (attempt.kind === "failed") {
    const { error, received } = attempt.failure;
    const patch = { error, upstreamReceived: received };
    switch (error) {
      case "client_cancelled":
        return { kind: "cancelled", patch };
      case "upstream_timeout":
        return { kind: "reject", rejection: { kind: "upstream_timeout", id, server }, patch };
      case "upstream_unreachable":
        return { kind: "reject", rejection: { kind: "upstream_unreachable", id, server }, patch };
      case "upstream_connection_lost":
        return { kind: "reject", rejection: { kind: "upstream_invalid", id, server }, patch };
    }
  }
  const { status, headers } = attempt;
  if (status === 401 || (status === 403 && headers.has("www-authenticate"))) {
    return { kind: "reject", rejection: { kind: "upstream_auth", id, server }, patch: { status, error: "upstream_auth" } };
  }
  if (status >= 300 && status < 400) {
    return { kind: "reject", rejection: { kind: "upstream_redirect", id, server, status }, patch: { status, error: "upstream_redirect" } };
  }
  if (status >= 500) return { kind: "reject", rejection: { kind: "upstream_failed", id, server, status }, patch: { status, error: "upstream_error" } };
  return { kind: "relay", patch: { status } };
}

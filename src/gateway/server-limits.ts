/**
 * Server-wide limits (docs/policy.md, "Server-wide limits"): a call whose policy has `scope:
 * "server"` limits is counted by the server's Durable Object after its grant's object allowed it
 * (and reserved the grant's own limits), and before it is forwarded. All or nothing: if the server
 * refuses, the grant's reservation is released too and the call is answered as rate-limited;
 * if the upstream later provably never received the call, both are released. A server object that
 * does not answer fails closed. Calls without such limits never touch the server's object.
 */
import type { GateResult, Settlement } from "../grant/protocol";
import type { JsonRpcMessage } from "../mcp/jsonrpc";
import type { LimitRequest } from "../policy/evaluate";
import type { ServerObject } from "../server/object";
import { deniedResponse } from "./answer";
import { failClosed } from "./rejection";
import type { Exchange } from "./route";

export function serverStub(env: Env, serverId: string): DurableObjectStub<ServerObject> {
  return env.SERVERS.get(env.SERVERS.idFromName(serverId));
}

/** The server-wide limits of each message, or null when the request has none. */
function serverLimits(gated: Extract<GateResult, { ok: true }>): LimitRequest[][] | null {
  const perMessage = gated.decisions.map((d) => (d.outcome === "forward" ? (d.server ?? []) : []));
  return perMessage.some((limits) => limits.length > 0) ? perMessage : null;
}

/**
 * Reserves the request's server-wide limits. Null when it may go on (with `deliver` now also
 * releasing them if the upstream never received the call); otherwise the answer to send.
 */
export async function reserveServerLimits(
  x: Exchange,
  messages: readonly JsonRpcMessage[],
  release: (patch: Partial<Settlement>) => void,
): Promise<Response | null> {
  const limits = serverLimits(x.gated);
  if (limits === null) return null;
  const stub = serverStub(x.c.env, x.gated.grant.serverId);
  const reservation = await stub.reserveServerLimits(x.context.requestId, limits).catch(() => null);
  if (reservation === null) {
    release({ upstreamReceived: false, error: "unavailable" });
    return failClosed(x.request, x.context);
  }
  const deliver = x.deliver;
  x.deliver = (settlement) => {
    deliver(settlement);
    if (!settlement.upstreamReceived) x.c.executionCtx.waitUntil(stub.releaseServerLimits(x.context.requestId).catch(() => {}));
  };
  if (reservation.ok) return null;
  // The grant's own reservation is released: a call the server refuses keeps nothing anywhere.
  release({ upstreamReceived: false, error: "rate_limited_server" });
  const denial = { outcome: "deny" as const, code: "rate_limited" as const, rule: reservation.rule, message: reservation.message };
  const decisions = x.gated.decisions.map((d, i) =>
    i === reservation.index ? (reservation.retryAfter === null ? denial : { ...denial, retryAfter: reservation.retryAfter }) : d,
  );
  return deniedResponse(x.request, messages, decisions, x.gated.visibility?.default ?? null);
}

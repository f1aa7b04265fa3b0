/**
 * The forwarded path of a request (docs/architecture.md, steps 4–7): send the gateway's own
 * request upstream, map how that ended, bind a new session, relay the shaped answer, and record
 * the outcome once. The agent disconnecting aborts the upstream call and, in the legacy era, tells
 * the upstream with `notifications/cancelled`.
 */
import { isJsonObject } from "../mcp/json";
import type { JsonRpcId, JsonRpcMessage } from "../mcp/jsonrpc";
import { messagesOf, serializeBody } from "../mcp/jsonrpc";
import { isStateless, revisionOf } from "../mcp/revision";
import { isToolVisible } from "../policy/visibility";
import { concealTarget, type StandIns } from "./conceal";
import { sendUpstream, type UpstreamAbort } from "../upstream";
import { cancelUpstream, upstreamHeaders } from "./forward";
import { upstreamOutcome } from "./outcome";
import { failClosed, renderRejection } from "./rejection";
import { relayResponse } from "./respond";
import { reviewAnswer, type Review } from "./review";
import { reserveServerLimits, serverStub } from "./server-limits";
import type { Exchange } from "./route";
import { sessionChange } from "./session";
import { OutcomeRecorder } from "./settlement";
import type { GatewaySettings } from "./settings";

export async function relayForwarded(x: Exchange, settings: GatewaySettings): Promise<Response> {
  const { request, gated } = x;
  const messages = request.body === null ? [] : messagesOf(request.body);
  const ids = requestIdsOf(messages);
  const standIns: StandIns = new Map();
  const recorder = new OutcomeRecorder(
    { requestId: x.context.requestId, seq: gated.seq, status: null, upstreamReceived: true, error: null, sessionOpened: null, sessionClosed: null },
    x.started,
    x.clock,
    // Late-bound: a step may wrap the delivery (server-wide limits release their quota with it).
    (settlement) => x.deliver(settlement),
  );
  const refused = await reserveServerLimits(x, messages, (patch) => recorder.settle(patch));
  if (refused !== null) return refused;
  const answered = { value: false };
  const sent = await send(x, settings, messages, ids, standIns, recorder, answered);

  const answerId = ids.first;
  const upstream = gated.upstream;
  const step = upstreamOutcome(
    sent.ok ? { kind: "answered", status: sent.value.status, headers: sent.value.headers } : { kind: "failed", failure: sent.error },
    answerId,
    upstream.serverName,
  );
  if (step.kind !== "relay" || !sent.ok) {
    if (sent.ok) await sent.value.body?.cancel();
    recorder.settle(step.patch);
    return step.kind === "reject" ? renderRejection(step.rejection, x.context) : new Response(null, { status: 499 });
  }
  const response = sent.value;
  recorder.note(step.patch);
  const bound = await bindSession(x, messages, response, recorder);
  if (bound !== null) return bound;
  return relayAnswer(x, settings, response, { ids, standIns, recorder, answered });
}

/** Relays the upstream's answer, shaped and reviewed; records the outcome once it has passed whole. */
async function relayAnswer(
  x: Exchange,
  settings: GatewaySettings,
  response: Response,
  { ids, standIns, recorder, answered }: { ids: ReturnType<typeof requestIdsOf>; standIns: StandIns; recorder: OutcomeRecorder; answered: { value: boolean } },
): Promise<Response> {
  const { request, gated } = x;
  const upstream = gated.upstream;
  const answerId = ids.first;
  const visibility = gated.visibility;
  const review = reviewOf(x, ids);
  const relayed = await relayResponse(response, {
    shaping: {
      toolsListIds: new Set(ids.toolsList.keys()),
      isToolVisible: (name) => visibility !== null && isToolVisible(visibility, name),
      requestIds: request.httpMethod === "GET" ? null : ids.all,
      standIns,
    },
    // A review that cannot be done (the server's object did not answer) fails the answer closed.
    review: (shaped) => reviewAnswer(shaped, review).catch(() => Promise.reject(new ReviewUnavailable())),
    mustHold: ids.taskList.size > 0,
    bindTasks: (taskIds) => review.tasks.bind(taskIds).catch(() => Promise.reject(new ReviewUnavailable())),
    maxResponseBytes: settings.maxResponseBytes,
    onComplete: (unanswered, failure) => {
      answered.value = true;
      recorder.settle(failure !== undefined ? { error: failure } : unanswered.length > 0 ? { error: "upstream_truncated" } : {});
    },
  }).catch((error: unknown) => {
    if (error instanceof ReviewUnavailable) return { ok: false as const, error: "policy_unavailable" as const };
    throw error;
  });
  if (!relayed.ok && relayed.error === "policy_unavailable") {
    recorder.settle({ error: "unavailable" });
    return failClosed(request, x.context);
  }
  if (!relayed.ok) {
    recorder.settle({ error: relayed.error });
    const fault = { id: answerId, server: upstream.serverName };
    return renderRejection(
      relayed.error === "response_too_large" ? { kind: relayed.error, limit: settings.maxResponseBytes, ...fault } : { kind: relayed.error, ...fault },
      x.context,
    );
  }
  // A GET stream lives as long as the session: its outcome is the upstream's answer to opening it.
  if (request.httpMethod === "GET") recorder.settle();
  return relayed.value;
}

/**
 * Sends the gateway's own request: stand-ins for concealed targets, the gateway's header set and
 * body, a bound on the time to response headers, and cancellation when the agent goes away.
 */
async function send(
  x: Exchange,
  settings: GatewaySettings,
  messages: readonly JsonRpcMessage[],
  ids: ReturnType<typeof requestIdsOf>,
  standIns: StandIns,
  recorder: OutcomeRecorder,
  answered: { value: boolean },
) {
  const { request, gated } = x;
  const forwarded = messages.map((m, i) => {
    const decision = gated.decisions[i];
    return decision?.outcome === "forward" && decision.conceal !== undefined && m.kind === "request" ? concealTarget(m, decision.conceal, standIns) : m;
  });
  const upstream = gated.upstream;
  const headers = upstreamHeaders(request.headers, upstream, request.httpMethod, forwarded.length === 1 ? forwarded[0]! : null);
  const body =
    request.body === null
      ? undefined
      : serializeBody(request.body.kind === "single" ? { kind: "single", message: forwarded[0]! } : { kind: "batch", messages: forwarded });
  const revision = revisionOf(messages[0] ?? null, request.headers.protocolVersion);
  const abort = new AbortController();
  x.c.req.raw.signal.addEventListener("abort", () => {
    abort.abort("client_cancelled" satisfies UpstreamAbort);
    if (answered.value) return;
    recorder.settle({ error: "client_cancelled" });
    // In 2026-07-28 closing the stream is the cancellation, which the aborted fetch already did.
    if (!isStateless(revision)) x.c.executionCtx.waitUntil(cancelUpstream(upstream, request.headers, [...ids.all]));
  });
  // The timeout bounds the time to response headers only: a long-lived SSE stream is not cut off.
  const timer = setTimeout(() => abort.abort("upstream_timeout" satisfies UpstreamAbort), settings.upstreamTimeoutMs);
  const sent = await sendUpstream(upstream.url, { method: request.httpMethod, headers, body }, abort.signal);
  clearTimeout(timer);
  return sent;
}

/**
 * Binds a session the upstream minted before the agent can use it (another grant presenting the id
 * then gets 404), and notes a session the agent ended. A failed bind fails closed: the answer is
 * withheld.
 */
async function bindSession(x: Exchange, messages: readonly JsonRpcMessage[], response: Response, recorder: OutcomeRecorder): Promise<Response | null> {
  const { request, gated } = x;
  const session = sessionChange(request.httpMethod, messages, request.headers.sessionId, {
    ok: response.ok,
    sessionId: response.headers.get("mcp-session-id"),
  });
  if (session.close !== null) recorder.note({ sessionClosed: session.close });
  if (session.open === null) return null;
  recorder.note({ sessionOpened: session.open });
  try {
    await x.stub.bindSession(gated.seq, session.open);
    return null;
  } catch {
    await response.body?.cancel();
    recorder.settle({ error: "unavailable" });
    return failClosed(request, x.context);
  }
}

class ReviewUnavailable extends Error {}

/** What to check in the answers: tasks, and tool listings against the server's pins when the policy pins tools. */
function reviewOf(x: Exchange, ids: ReturnType<typeof requestIdsOf>): Review {
  const { gated, stub } = x;
  const server = gated.pinTools ? serverStub(x.c.env, gated.grant.serverId) : null;
  return {
    taskListIds: ids.taskList,
    replay: x.request.httpMethod === "GET",
    tasks: { bind: (taskIds) => stub.bindTasks(gated.seq, taskIds), bound: (taskIds) => stub.boundTasks(taskIds) },
    pins:
      server === null
        ? null
        : {
            toolsList: ids.toolsList,
            observe: async (listing, complete) => (await server.observeListing(gated.grant.serverId, listing, complete)).hidden,
          },
  };
}

/**
 * The ids of the forwarded requests: all of them, the first, and those whose answers are
 * reviewed (tools/list, with whether it asked for the first page; tasks/list).
 */
function requestIdsOf(messages: readonly JsonRpcMessage[]) {
  const all = new Set<JsonRpcId>();
  const toolsList = new Map<JsonRpcId, boolean>();
  const taskList = new Set<JsonRpcId>();
  let first: JsonRpcId | null = null;
  for (const m of messages) {
    if (m.kind !== "request") continue;
    first ??= m.id;
    all.add(m.id);
    if (m.method === "tools/list") toolsList.set(m.id, !(isJsonObject(m.params) && m.params.cursor !== undefined));
    if (m.method === "tasks/list") taskList.add(m.id);
  }
  return { all, first, toolsList, taskList };
}

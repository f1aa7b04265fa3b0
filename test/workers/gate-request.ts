// A gate() request as the gateway sends it to a grant's Durable Object (src/gateway/gate.ts): the
// token's hash, a fresh request id, a POST outside any session. Tests add what they need.
import type { GateRequest, MessageSummary } from "../../src/grant/protocol";
import { hashToken } from "../../src/grant/token";

let requests = 0;

export function gateRequestFor(token: string, messages: MessageSummary[], extra: Partial<GateRequest> = {}): GateRequest {
  return { requestId: `req-${++requests}`, tokenHash: hashToken(token), route: { kind: "grant" }, httpMethod: "POST", sessionId: null, messages, ...extra };
}

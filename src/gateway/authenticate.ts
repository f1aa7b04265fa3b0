/**
 * Step 1 of a request (docs/architecture.md): the HTTP method, the browser Origin (DNS rebinding),
 * and the bearer token's shape and grant id. Pure. A grant id without the gateway's MAC is refused
 * here, before any Durable Object is addressed; the token itself is checked by the grant's object.
 */
import type { GateRequest } from "../grant/protocol";
import { hashToken, isGenuineGrantId, parseGrantToken } from "../grant/token";
import { bearerToken } from "../http";
import { err, ok, type Result } from "../result";
import type { GatewayRejection } from "./rejection";
import type { GatewaySettings } from "./settings";

/** The methods of MCP Streamable HTTP. HEAD is refused: it would reach the upstream as a GET. */
const MCP_METHODS: ReadonlySet<string> = new Set(["POST", "GET", "DELETE"]);

export interface Caller {
  grantId: string;
  /** SHA-256 of the presented token: the grant's object compares it with the one it holds. */
  tokenHash: string;
  route: GateRequest["route"];
}

/** A token this isolate already read: its grant id (MAC checked) and its hash. */
interface KnownToken {
  grantId: string;
  tokenHash: string;
}

/**
 * Tokens whose grant id carried a genuine MAC, so the MAC and the hash are computed once per
 * isolate, not once per request. Only genuine ids get in, so strangers cannot fill it; it is
 * bounded all the same. Whether the token itself is right is still decided by the grant's object
 * on every request.
 */
const knownTokens = new Map<string, KnownToken>();
const KNOWN_TOKENS_KEPT = 10_000;

export function authenticate(request: Request, routeId: string, settings: GatewaySettings): Result<Caller, GatewayRejection> {
  if (!MCP_METHODS.has(request.method)) return err({ kind: "method_not_allowed" });
  const origin = request.headers.get("origin");
  // Non-browser clients send no Origin; a browser's must be allowed explicitly.
  if (origin !== null && !settings.allowedOrigins.has(origin)) return err({ kind: "origin_forbidden" });
  const secret = settings.grantIdSecret;
  if (secret === null) return err({ kind: "not_configured", what: "GRANT_ID_SECRET" });
  const bearer = bearerToken(request.headers.get("authorization"));
  if (bearer === null) return err({ kind: "unauthenticated" });
  const known = knownTokens.get(`${secret}\n${bearer}`) ?? readToken(bearer, secret);
  if (known === null) return err({ kind: "unauthenticated" });
  const route: GateRequest["route"] = routeId === known.grantId ? { kind: "grant" } : { kind: "server", serverId: routeId };
  return ok({ grantId: known.grantId, tokenHash: known.tokenHash, route });
}

function readToken(bearer: string, secret: string): KnownToken | null {
  const token = parseGrantToken(bearer);
  if (token === null || !isGenuineGrantId(token.grantId, secret)) return null;
  const known = { grantId: token.grantId, tokenHash: hashToken(bearer) };
  if (knownTokens.size >= KNOWN_TOKENS_KEPT) knownTokens.clear();
  knownTokens.set(`${secret}\n${bearer}`, known);
  return known;
}

/**
 * The gateway's settings, read from the Worker's vars and secrets (wrangler.toml documents each)
 * once per environment object rather than on every request.
 */
export interface GatewaySettings {
  /** Browser origins allowed to call /mcp/*; requests without Origin are always allowed. */
  allowedOrigins: ReadonlySet<string>;
  maxBodyBytes: number;
  /** Bound on the time to the upstream's response headers. */
  upstreamTimeoutMs: number;
  /** Bound on waiting for the grant's Durable Object before failing closed. */
  gateTimeoutMs: number;
  /** Largest upstream answer passed on (docs/performance.md). */
  maxResponseBytes: number;
  /** The key that MACs grant ids (src/grant/token.ts); null when unset, and then nothing is forwarded. */
  grantIdSecret: string | null;
  /** How long a call waiting for a person's approval is held open; 0: answer "pending" at once. */
  approvalHoldMs: number;
  /** How often a held call's client gets a progress notification. */
  approvalProgressMs: number;
}

const cache = new WeakMap<object, GatewaySettings>();

const positive = (value: string | undefined, fallback: number): number => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

const nonNegative = (value: string | undefined, fallback: number): number => {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isFinite(n) && n >= 0 ? n : fallback;
};

export function gatewaySettings(env: Env): GatewaySettings {
  let settings = cache.get(env);
  if (settings === undefined) {
    settings = {
      allowedOrigins: new Set(
        (env.ALLOWED_ORIGINS ?? "")
          .split(",")
          .map((o) => o.trim())
          .filter((o) => o !== ""),
      ),
      maxBodyBytes: positive(env.MAX_BODY_BYTES, 4 * 1024 * 1024),
      upstreamTimeoutMs: positive(env.UPSTREAM_TIMEOUT_MS, 30_000),
      gateTimeoutMs: positive(env.GATE_TIMEOUT_MS, 10_000),
      maxResponseBytes: positive(env.MAX_RESPONSE_BYTES, 64 * 1024 * 1024),
      grantIdSecret: env.GRANT_ID_SECRET ? env.GRANT_ID_SECRET : null,
      // Below the MCP SDKs' 60 s default request timeout, so the client is still there to be answered.
      approvalHoldMs: nonNegative(env.APPROVAL_HOLD_MS, 45_000),
      approvalProgressMs: positive(env.APPROVAL_PROGRESS_MS, 10_000),
    };
    cache.set(env, settings);
  }
  return settings;
}

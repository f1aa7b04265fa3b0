/**
 * Telling people that a call waits for them: the webhook a server may name (docs/approvals.md,
 * "Notification"). The body is JSON with a Slack-compatible `text`, the request's tool, grant and
 * argument values, and a link to it; `X-Signature` is the HMAC-SHA256 (hex) of the exact body
 * under the server's webhook secret, so a receiver can tell the gateway's requests from forgeries.
 *
 * Delivery runs from the grant object's alarm, never from a call's gate() step: a webhook that is
 * slow, failing or redirecting never blocks or allows a call. Failed deliveries are retried with
 * backoff while the request is pending, and logged as one JSON line (no URL, no values).
 */
import { isoTime } from "../clock";
import { hmacSha256Hex } from "../digest";
import type { StoredApproval } from "./approvals";
import type { RecordSubject } from "./records";

/** Waits before each retry: the first follows at once, then 10 s, 1 min, 5 min, 15 min, 1 h. */
const RETRY_DELAYS_MS = [10_000, 60_000, 300_000, 900_000, 3_600_000];
/** One delivery attempt may take this long. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Argument text in the Slack `text`; the full values are in `approval.arguments`. */
const TEXT_ARGUMENT_CHARS = 1500;

/** When to try again after `attempts` failed attempts; null: give up. */
export function retryAt(attempts: number, now: number, expires: number): number | null {
  const delay = RETRY_DELAYS_MS[attempts - 1];
  if (delay === undefined || now + delay >= expires) return null;
  return now + delay;
}

/** Slack's `text` escapes only these three (its "mrkdwn" control characters). */
const slackEscape = (text: string): string => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** The JSON body POSTed for a new request; built only while the request holds its values. */
export function webhookBody(a: StoredApproval, grant: RecordSubject): string {
  const values = a.args ?? "{}";
  const shown = values.length > TEXT_ARGUMENT_CHARS ? `${values.slice(0, TEXT_ARGUMENT_CHARS)}… (${values.length} characters)` : values;
  const lines = [
    `Approval needed: ${a.tool} for grant ${grant.label} (server ${grant.serverId})`,
    `Arguments: ${shown}`,
    `Expires ${isoTime(a.expires)}. Request ${a.id}${a.link === null ? "" : `: ${a.link}`}`,
  ];
  return JSON.stringify({
    text: slackEscape(lines.join("\n")),
    approval: {
      id: a.id,
      link: a.link,
      grant: { id: grant.grantId, label: grant.label },
      serverId: grant.serverId,
      tool: a.tool,
      arguments: JSON.parse(values) as unknown,
      argsSha256: a.argsSha256,
      policy: a.policy,
      rule: a.rule,
      requested: isoTime(a.requested),
      expires: isoTime(a.expires),
    },
  });
}

export const webhookSignature = (secret: string, body: string): string => hmacSha256Hex(secret, body);

/**
 * One POST: `redirect: "manual"` (a redirect is a failure, never followed) and a bounded time.
 * Returns the HTTP status, or null when no answer came.
 */
export async function postWebhook(url: string, secret: string, body: string): Promise<number | null> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": webhookSignature(secret, body), "user-agent": "mcp-policy-gateway" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return null;
  }
}

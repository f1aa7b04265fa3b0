/**
 * The gateway's own audit keys, read from its configuration: the secret AUDIT_SIGNING_KEY (parsed
 * once per isolate) and the variable AUDIT_PUBLIC_KEYS_RETIRED. The grant objects sign with the
 * first; /.well-known/mcp-policy-gateway/audit-keys publishes the public halves of both
 * (docs/audit.md, "Keys and rotation").
 */
import { err, ok, type Result } from "../result";
import { parseSigningKey, publishedKeys, retiredKeys, type AuditSigner, type PublishedKey } from "./keys";

const parsed = new Map<string, Promise<Result<AuditSigner, string>>>();

/**
 * The signer, null when AUDIT_SIGNING_KEY is not set (nothing is signed: no checkpoints, unsigned
 * exports), or an error when it is set but unusable.
 */
export async function auditSigner(env: Env): Promise<Result<AuditSigner | null, string>> {
  const secret = env.AUDIT_SIGNING_KEY;
  if (secret === undefined || secret.trim() === "") return ok(null);
  let signer = parsed.get(secret);
  if (signer === undefined) {
    signer = parseSigningKey(secret);
    parsed.clear(); // one key is configured at a time; a rotated secret replaces the old entry
    parsed.set(secret, signer);
  }
  return signer;
}

/** Whether AUDIT_SIGNING_KEY is set (checked without parsing it, on the hot path). */
export const signingConfigured = (env: Env): boolean => (env.AUDIT_SIGNING_KEY ?? "").trim() !== "";

/** The JWK Set of /.well-known/mcp-policy-gateway/audit-keys, or why the active key is unusable. */
export async function auditKeyDocument(env: Env): Promise<Result<{ keys: PublishedKey[] }, string>> {
  const signer = await auditSigner(env);
  if (!signer.ok) return err(signer.error);
  return ok({ keys: publishedKeys(signer.value?.x ?? null, retiredKeys(env.AUDIT_PUBLIC_KEYS_RETIRED)) });
}

/** One JSON line in the Worker's log when the configured key cannot be used; never the key itself. */
export function logKeyProblem(problem: string, grantId: string | null): void {
  console.error(JSON.stringify({ event: "audit_signing_key_invalid", grant: grantId, problem }));
}

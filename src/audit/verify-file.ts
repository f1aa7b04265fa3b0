/**
 * `verify-audit <export.ndjson> --key <public key>` for Node: reads the file line by line and the
 * key from a file or the argument itself, then runs the pure check (verify.ts). Used by
 * scripts/verify-audit.mjs; the CLI can call it as it is. Nothing the Worker runs imports it.
 */
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parsePublicKeys } from "./keys";
import { verifyExport, type VerifyReport } from "./verify";

export { describeReport } from "./verify";

/** 0: signed and intact; 1: failed, or not signed; 2: the command was used wrongly. */
export const VERIFY_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type VerifyFileResult = { kind: "report"; report: VerifyReport; exitCode: 0 | 1 } | { kind: "usage"; message: string; exitCode: 2 };

/**
 * `key` is the public key itself (the JWK Set of /.well-known/mcp-policy-gateway/audit-keys, one
 * JWK, or the base64url key) or the path of a file holding it.
 */
export async function verifyAuditFile(path: string, key: string): Promise<VerifyFileResult> {
  if (!existsSync(path)) return { kind: "usage", message: `no such file: ${path}`, exitCode: VERIFY_EXIT.usage };
  const keyText = existsSync(key) ? readFileSync(key, "utf8") : key;
  const keys = await parsePublicKeys(keyText);
  if (!keys.ok) return { kind: "usage", message: `--key: ${keys.error}`, exitCode: VERIFY_EXIT.usage };
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  const report = await verifyExport(lines, keys.value);
  return { kind: "report", report, exitCode: report.status === "ok" ? VERIFY_EXIT.ok : VERIFY_EXIT.failed };
}

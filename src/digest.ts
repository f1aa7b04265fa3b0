/**
 * The one place that hashes and MACs. Synchronous (node:crypto under `nodejs_compat`), because the
 * grant's Durable Object hashes inside a storage step that must not await (docs/storage.md), and
 * because crypto.subtle's promise and byte-to-hex loop cost more than the hash itself on the hot path.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** SHA-256 of UTF-8 text (or bytes), lowercase hex. */
export function sha256Hex(input: string | Uint8Array): string {
  return createHash("sha256").update(input).digest("hex");
}

/** HMAC-SHA256 of UTF-8 text under `key`, lowercase hex. */
export function hmacSha256Hex(key: string, text: string): string {
  return createHmac("sha256", key).update(text, "utf8").digest("hex");
}

/**
 * Compares two strings in time that depends only on their lengths' maximum, never on where they
 * differ: for secrets and digests an attacker may be guessing byte by byte.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  const length = Math.max(left.length, right.length, 1);
  const paddedLeft = Buffer.alloc(length);
  const paddedRight = Buffer.alloc(length);
  left.copy(paddedLeft);
  right.copy(paddedRight);
  return timingSafeEqual(paddedLeft, paddedRight) && left.length === right.length;
}

/**
 * Audit signing keys: Ed25519 through WebCrypto, the same code in the Worker (which signs
 * checkpoints and exports) and in the offline verifier (which checks them). No binding, no env.
 *
 * The private key is the Worker secret AUDIT_SIGNING_KEY, a JWK with both halves:
 * `{"kty":"OKP","crv":"Ed25519","d":"…","x":"…"}` (scripts/audit-keygen.mjs prints one). WebCrypto
 * cannot derive a public key from a private one, so `x` is required, and a key whose halves do not
 * belong together is refused (it signs a probe and verifies it).
 *
 * A key's id is its RFC 7638 JWK thumbprint: base64url(SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":"…"}`).
 * A verifier recomputes it from the public key, so it never has to trust an id a file claims.
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { sha256Hex } from "../digest";
import { err, ok, type Result } from "../result";

const ED25519 = { name: "Ed25519" } as const;
/** 32 bytes, base64url without padding. */
const KeyBytes = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const PrivateJwk = z.looseObject({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), d: KeyBytes, x: KeyBytes });
const PublicJwk = z.looseObject({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: KeyBytes });
const KeySetDocument = z.looseObject({ keys: z.array(PublicJwk) });

/** A public key as /.well-known/mcp-policy-gateway/audit-keys publishes it (a JWK Set member). */
export interface PublishedKey {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
  /** active: signs from now on; retired: signed earlier checkpoints, kept so they still verify. */
  status: "active" | "retired";
}

export interface AuditSigner {
  keyId: string;
  /** The public key, base64url. */
  x: string;
  /** Signs UTF-8 text; the signature as base64url. */
  sign(text: string): Promise<string>;
}

/** Verification keys by key id. */
export type AuditKeySet = ReadonlyMap<string, CryptoKey>;

/** RFC 7638 thumbprint of an Ed25519 public key. */
export function keyIdOf(x: string): string {
  return Buffer.from(sha256Hex(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`), "hex").toString("base64url");
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function importPublic(x: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x }, ED25519, false, ["verify"]);
}

/** Whether `signature` (base64url) is `key`'s signature of `text`. */
export async function verifySignature(key: CryptoKey, text: string, signature: string): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
  return crypto.subtle.verify(ED25519, key, Buffer.from(signature, "base64url"), bytes(text));
}

/** Reads AUDIT_SIGNING_KEY; an error names what is wrong, never the key. */
export async function parseSigningKey(secret: string): Promise<Result<AuditSigner, string>> {
  let json: unknown;
  try {
    json = JSON.parse(secret);
  } catch {
    return err("AUDIT_SIGNING_KEY is not JSON: it must be an Ed25519 private JWK");
  }
  const jwk = PrivateJwk.safeParse(json);
  if (!jwk.success) return err('AUDIT_SIGNING_KEY must be an Ed25519 private JWK: {"kty":"OKP","crv":"Ed25519","d":…,"x":…}');
  const { d, x } = jwk.data;
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d, x }, ED25519, false, ["sign"]);
  } catch {
    return err("AUDIT_SIGNING_KEY was refused by WebCrypto");
  }
  const sign = async (text: string) => Buffer.from(await crypto.subtle.sign(ED25519, privateKey, bytes(text))).toString("base64url");
  const probe = "mcp-policy-gateway audit key probe";
  if (!(await verifySignature(await importPublic(x), probe, await sign(probe)))) {
    return err("AUDIT_SIGNING_KEY's x is not the public half of its d");
  }
  return ok({ keyId: keyIdOf(x), x, sign });
}

/** Public keys from base64url `x` values; entries that are not 32 bytes of base64url are errors. */
export async function publicKeySet(xs: readonly string[]): Promise<Result<AuditKeySet, string>> {
  const keys = new Map<string, CryptoKey>();
  for (const x of xs) {
    if (!KeyBytes.safeParse(x).success) return err(`not an Ed25519 public key (32 bytes, base64url): ${JSON.stringify(x.slice(0, 60))}`);
    try {
      keys.set(keyIdOf(x), await importPublic(x));
    } catch {
      return err(`WebCrypto refused the public key ${JSON.stringify(x)}`);
    }
  }
  return ok(keys);
}

/**
 * The keys a verifier is given, in any of the forms an auditor is likely to hold: the JWK Set the
 * gateway publishes, one public JWK, or the bare base64url public key.
 */
export async function parsePublicKeys(text: string): Promise<Result<AuditKeySet, string>> {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return publicKeySet(trimmed.split(/[\s,]+/).filter((x) => x !== ""));
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return err("the key is neither JSON nor a base64url public key");
  }
  const set = KeySetDocument.safeParse(json);
  if (set.success) return publicKeySet(set.data.keys.map((key) => key.x));
  const single = PublicJwk.safeParse(json);
  if (single.success) return publicKeySet([single.data.x]);
  return err('the key JSON is neither a JWK Set ({"keys":[…]}) nor an Ed25519 JWK');
}

/** Retired public keys from AUDIT_PUBLIC_KEYS_RETIRED: base64url `x` values, comma or space separated. */
export const retiredKeys = (value: string | undefined): string[] => (value ?? "").split(/[\s,]+/).filter((x) => x !== "");

/** The JWK Set to publish: the active key (if any) first, then the retired ones. */
export function publishedKeys(active: string | null, retired: readonly string[]): PublishedKey[] {
  const entry = (x: string, status: PublishedKey["status"]): PublishedKey => ({
    kty: "OKP",
    crv: "Ed25519",
    x,
    kid: keyIdOf(x),
    alg: "EdDSA",
    use: "sig",
    status,
  });
  const keys = active === null ? [] : [entry(active, "active")];
  for (const x of retired) if (x !== active && KeyBytes.safeParse(x).success) keys.push(entry(x, "retired"));
  return keys;
}

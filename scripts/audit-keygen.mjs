#!/usr/bin/env node
// Prints a new Ed25519 key pair for signing the audit log (docs/audit.md, "Keys and rotation"):
//
//   node scripts/audit-keygen.mjs
//
// The first line is the private JWK: the value of the secret AUDIT_SIGNING_KEY
// (`wrangler secret put AUDIT_SIGNING_KEY`, or .dev.vars). The second is the public key (base64url):
// what an auditor verifies with, and what goes into AUDIT_PUBLIC_KEYS_RETIRED once the key is rotated.
import { webcrypto } from "node:crypto";
import { pathToFileURL } from "node:url";

/** A new key pair: the private JWK as JSON text, and the public key's base64url `x`. */
export async function auditKeyPair() {
  const pair = await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const { kty, crv, d, x } = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  return { privateJwk: JSON.stringify({ kty, crv, d, x }), publicKey: x };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { privateJwk, publicKey } = await auditKeyPair();
  console.log(privateJwk);
  console.log(publicKey);
}

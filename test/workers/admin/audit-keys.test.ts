// The public key set (/.well-known/mcp-policy-gateway/audit-keys) under each configuration: an
// active key, retired keys kept for rotation, no key, and a key that cannot be used.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/app";
import { keyIdOf } from "../../../src/audit/keys";
import { ALLOW_ALL, ADMIN_TOKEN, createGrant, createServer, savePolicy, uniqueServerId } from "./admin-client";

async function newKey(): Promise<{ jwk: string; x: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const { kty, crv, d, x } = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { jwk: JSON.stringify({ kty, crv, d, x }), x: x! };
}

async function get(path: string, vars: Partial<Env>, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`https://gw.test${path}`, { headers }), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("/.well-known/mcp-policy-gateway/audit-keys", () => {
  it("publishes the active key first, then the retired ones, each with its RFC 7638 key id", async () => {
    const [active, old1, old2] = [await newKey(), await newKey(), await newKey()];
    const response = await get("/.well-known/mcp-policy-gateway/audit-keys", {
      AUDIT_SIGNING_KEY: active.jwk,
      AUDIT_PUBLIC_KEYS_RETIRED: `${old1.x}, ${old2.x}`,
    });
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: { x: string; kid: string; status: string }[] };
    expect(keys.map((k) => [k.x, k.kid, k.status])).toEqual([
      [active.x, keyIdOf(active.x), "active"],
      [old1.x, keyIdOf(old1.x), "retired"],
      [old2.x, keyIdOf(old2.x), "retired"],
    ]);
  });

  it("without a signing key lists only retired keys; with an unusable one answers 503", async () => {
    const old = await newKey();
    const none = await get("/.well-known/mcp-policy-gateway/audit-keys", { AUDIT_SIGNING_KEY: undefined, AUDIT_PUBLIC_KEYS_RETIRED: old.x });
    expect(((await none.json()) as { keys: { status: string }[] }).keys.map((k) => k.status)).toEqual(["retired"]);
    const broken = await get("/.well-known/mcp-policy-gateway/audit-keys", { AUDIT_SIGNING_KEY: '{"kty":"OKP"}' });
    expect(broken.status).toBe(503);
    const text = await broken.text();
    expect(JSON.parse(text)).toMatchObject({ error: "audit_key_invalid" });
    expect(text).not.toContain("OKP");
  });

  it("an export is refused with 503 audit_key_invalid while the key cannot be used, and is unsigned without one", async () => {
    const server = uniqueServerId("keys");
    await createServer(server);
    await savePolicy(server, "open", ALLOW_ALL);
    const { id } = await createGrant(server, "open");
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const refused = await get(`/admin/grants/${id}/audit/export`, { AUDIT_SIGNING_KEY: "not json" }, auth);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: "audit_key_invalid" });
    const unsigned = await get(`/admin/grants/${id}/audit/export`, { AUDIT_SIGNING_KEY: undefined }, auth);
    expect(unsigned.status).toBe(200);
    const [header, record] = (await unsigned.text())
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(header).toMatchObject({ grantId: id, start: { seq: 0 }, end: { seq: 1 }, keyId: null, signature: null });
    expect(record).toMatchObject({ seq: 1, type: "admin", decision: "provision" });
  });
});

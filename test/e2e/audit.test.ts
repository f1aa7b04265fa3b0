// End to end: an outside auditor's view of the audit log. The real SDK client calls through the
// gateway (workerd via Miniflare, with its R2 archive); the export comes from the admin API, the key
// from the public well-known URL, and scripts/verify-audit.mjs checks the file, then every tampered
// copy of it. Retention runs for real, with a retention of 8.64 s (0.0001 days), and a checkpoint
// every 100 records (AUDIT_CHECKPOINT_EVERY) keeps the run short; test/workers/grant covers 1,000.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, root, startGateway } from "../support/workerd.mjs";
import { startSdkServer } from "../support/upstreams.mjs";

type Gateway = Awaited<ReturnType<typeof startGateway>>;
type Grant = { id: string; token: string; url: string };

const VARS = { AUDIT_RETENTION_DAYS: "0.0001", AUDIT_CHECKPOINT_EVERY: "100" };
const run = promisify(execFile);
let upstream: Awaited<ReturnType<typeof startSdkServer>>;
let archived: Gateway; // with the R2 archive from wrangler.toml
let unarchived: Gateway; // the same, without AUDIT_ARCHIVE
let grant: Grant;
let grantWithoutArchive: Grant;
let dir: string;

async function newGrant(gateway: Gateway): Promise<Grant> {
  const admin = adminClient(gateway.origin, gateway.adminToken);
  const server = await admin("POST", "/servers", { name: "audited", url: upstream.url });
  await admin("PUT", `/servers/${server.id}/policies/open`, { version: "1", default: "allow" });
  const created = await admin("POST", "/grants", { label: "audited-agent", serverId: server.id, policyName: "open" });
  return { id: created.grant.id, token: created.token, url: created.url };
}

/** `calls` echo calls through the real SDK client, ten at a time: two records each. */
async function callTools(target: Grant, calls: number): Promise<void> {
  const client = new Client({ name: "audit-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers: { Authorization: `Bearer ${target.token}` } } }));
  for (let done = 0; done < calls; done += 10) {
    await Promise.all(Array.from({ length: Math.min(10, calls - done) }, (_, i) => client.callTool({ name: "echo", arguments: { message: `m${done + i}` } })));
  }
  await client.close();
}

async function exportText(gateway: Gateway, grantId: string, query = ""): Promise<string> {
  const res = await fetch(`${gateway.origin}/admin/grants/${grantId}/audit/export${query}`, { headers: { authorization: `Bearer ${gateway.adminToken}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
  return res.text();
}

const lines = (text: string): string[] => text.trimEnd().split("\n");
const parsed = (text: string) => lines(text).map((line) => JSON.parse(line));

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs the repo's verifier on `text` with `key`; its exit code and output. */
async function verify(name: string, text: string, key: string): Promise<{ code: number; out: string }> {
  const file = join(dir, `${name}.ndjson`);
  const keyFile = join(dir, `${name}.key.json`);
  await writeFile(file, text);
  await writeFile(keyFile, key);
  try {
    const { stdout } = await run(process.execPath, [join(root, "scripts/verify-audit.mjs"), file, "--key", keyFile]);
    return { code: 0, out: stdout };
  } catch (error: any) {
    return { code: error.code, out: `${error.stdout}${error.stderr}` };
  }
}

let published: string;
let exported: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpg-audit-e2e-"));
  upstream = await startSdkServer({ json: true });
  [archived, unarchived] = await Promise.all([startGateway({ vars: VARS }), startGateway({ vars: VARS, archive: false })]);
  [grant, grantWithoutArchive] = await Promise.all([newGrant(archived), newGrant(unarchived)]);
  // 60 calls: over 100 records, so the first checkpoint falls due; then a few more after it.
  await Promise.all([callTools(grant, 60), callTools(grantWithoutArchive, 60)]);
  await until("the first checkpoint", async () => (parsed(await exportText(archived, grant.id)).some((r) => r.type === "checkpoint") ? true : null));
  await callTools(grant, 3);
  published = await (await fetch(`${archived.origin}/.well-known/mcp-policy-gateway/audit-keys`)).text();
  exported = await exportText(archived, grant.id);
});
afterAll(async () => {
  await Promise.all([archived?.dispose(), unarchived?.dispose()]);
  await upstream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("keys", () => {
  it("publishes the signing key's public half with its key id, without authentication", async () => {
    const res = await fetch(`${archived.origin}/.well-known/mcp-policy-gateway/audit-keys`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const { keys } = JSON.parse(published);
    expect(keys).toEqual([
      { kty: "OKP", crv: "Ed25519", x: archived.auditPublicKey, kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), alg: "EdDSA", use: "sig", status: "active" },
    ]);
    const header = JSON.parse(lines(exported)[0]!);
    expect(header.keyId).toBe(keys[0].kid);
  });
});

describe("an export verifies with the public key alone, and every tampering is detected", () => {
  it("the real export verifies", async () => {
    const result = await verify("intact", exported, published);
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toMatch(/^OK: the export is signed and its chain is intact/);
    expect(result.out).toMatch(/[1-9]\d* signed checkpoints; records up to seq \d+ are covered by one/);
  });

  it("an edited record fails", async () => {
    const edited = lines(exported);
    const i = edited.findIndex((line) => line.includes('"tool":"echo"'));
    edited[i] = edited[i]!.replace('"tool":"echo"', '"tool":"delete_everything"');
    const result = await verify("edited", edited.join("\n"), published);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/FAILED at line \d+: record \d+ was changed: its hash does not match its content/);
  });

  it("a removed record fails", async () => {
    const seq = JSON.parse(lines(exported)[20]!).seq;
    const removed = lines(exported).filter((_, i) => i !== 20);
    const result = await verify("removed", removed.join("\n"), published);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`seq ${seq + 1} follows seq ${seq - 1}: records were removed, added or reordered`);
  });

  it("reordered records fail", async () => {
    const reordered = lines(exported);
    const seq = JSON.parse(reordered[10]!).seq;
    [reordered[10], reordered[11]] = [reordered[11]!, reordered[10]!];
    const result = await verify("reordered", reordered.join("\n"), published);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`seq ${seq + 1} follows seq ${seq - 1}`);
  });

  it("a log cut after its last checkpoint fails", async () => {
    const all = lines(exported);
    const lastCheckpoint = all.findLastIndex((line) => line.includes('"type":"checkpoint"'));
    expect(all.length - 1 - lastCheckpoint).toBeGreaterThan(3); // records follow the checkpoint
    const result = await verify("cut", all.slice(0, lastCheckpoint + 2).join("\n"), published);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/the file ends at seq \d+ but its header says \d+: records were cut off/);
  });

  it("another key fails", async () => {
    const result = await verify("wrong-key", exported, unarchived.auditPublicKey);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/which is not among the keys given/);
  });

  it("?after=&until= exports a stretch, extended to the checkpoint that covers it", async () => {
    // On the gateway without an archive, where retention never removes the stretch asked for.
    const text = await exportText(unarchived, grantWithoutArchive.id, "?after=5&until=10");
    const header = JSON.parse(lines(text)[0]!);
    const covering = parsed(await exportText(unarchived, grantWithoutArchive.id)).find((r) => r.type === "checkpoint" && r.ref >= 10);
    expect([header.start.seq, header.end.seq]).toEqual([5, covering.seq]);
    const keys = await (await fetch(`${unarchived.origin}/.well-known/mcp-policy-gateway/audit-keys`)).text();
    expect((await verify("stretch", text, keys)).code).toBe(0);
    const backwards = await fetch(`${unarchived.origin}/admin/grants/${grantWithoutArchive.id}/audit/export?after=10&until=5`, {
      headers: { authorization: `Bearer ${unarchived.adminToken}` },
    });
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as any).error).toBe("invalid_query");
  });
});

describe("archive and retention", () => {
  it("the archive holds the sealed records in signed objects under the documented keys", async () => {
    const bucket = await archived.archive();
    const objects = await until("an archive object", async () => {
      const listed = await bucket.list({ prefix: `audit/${grant.id}/` });
      return listed.objects.length > 0 ? listed.objects : null;
    });
    expect(objects[0]!.key).toMatch(new RegExp(`^audit/${grant.id}/000000000001-\\d{12}\\.ndjson$`));
    const body = await (await bucket.get(objects[0]!.key))!.text();
    const records = parsed(body).slice(1);
    expect(records.at(-1)).toMatchObject({ type: "checkpoint" });
    expect((await verify("archive-object", body, published)).code).toBe(0);
    const note = parsed(exported).find((r) => r.type === "archived");
    expect(note.archive).toEqual({ key: objects[0]!.key, first: 1, sha256: createHash("sha256").update(body).digest("hex"), bytes: Buffer.byteLength(body) });
  });

  it("retention prunes what is archived and signed; the export then starts at the pruned record and still verifies", async () => {
    const pruned = await until("pruning", async () => {
      const text = await exportText(archived, grant.id);
      return JSON.parse(lines(text)[0]!).start.seq > 0 ? text : null;
    });
    const header = JSON.parse(lines(pruned)[0]!);
    const marker = parsed(pruned).find((r) => r.type === "pruned" && r.ref === header.start.seq);
    expect(marker).toMatchObject({ decision: "deleted", headHash: header.start.hash });
    const archivedThrough = Math.max(
      ...parsed(pruned)
        .filter((r) => r.type === "archived")
        .map((r) => r.ref),
    );
    expect(header.start.seq).toBeLessThanOrEqual(archivedThrough);
    const result = await verify("pruned", pruned, published);
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toMatch(new RegExp(`the chain before seq ${header.start.seq + 1} is not in this file`));
    const admin = adminClient(archived.origin, archived.adminToken);
    expect(await admin("GET", `/grants/${grant.id}/audit/verify`)).toMatchObject({ ok: true });
  });

  it("without an archive nothing is pruned, though the records are as old and as signed", async () => {
    const text = await exportText(unarchived, grantWithoutArchive.id);
    const records = parsed(text);
    expect(records[0].start.seq).toBe(0);
    expect(records.some((r) => r.type === "checkpoint")).toBe(true);
    expect(Date.now() - Date.parse(records[1].time)).toBeGreaterThan(0.0001 * 86_400_000);
  });
});

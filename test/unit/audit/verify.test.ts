// The offline verifier (src/audit/verify.ts) against exports built here with the real chain and
// real Ed25519 keys: every way of tampering with a file, and with a stored log before it was exported.
import { beforeAll, describe, expect, it } from "vitest";
import { checkpointStatement, EXPORT_FORMAT, exportStatement, headerLine, type ExportHeader } from "../../../src/audit/export";
import { parsePublicKeys, parseSigningKey, publicKeySet, type AuditKeySet, type AuditSigner } from "../../../src/audit/keys";
import { verifyExport } from "../../../src/audit/verify";
import { GENESIS_HASH, sealRecordJson, type AuditDraft } from "../../../src/grant/audit";
import { draftRecord } from "../../../src/grant/records";

const GRANT = "g0123456789abcdef0123456789abcdef";
const newPair = async () => (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
const jwkOf = async (key: CryptoKey) => (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
const subject = { grantId: GRANT, label: "agent", serverId: "srv" };

async function newSigner(): Promise<{ signer: AuditSigner; keys: AuditKeySet }> {
  const { kty, crv, d, x } = await jwkOf((await newPair()).privateKey);
  const signer = await parseSigningKey(JSON.stringify({ kty, crv, d, x }));
  if (!signer.ok) throw new Error(signer.error);
  const keys = await publicKeySet([x!]);
  if (!keys.ok) throw new Error(keys.error);
  return { signer: signer.value, keys: keys.value };
}

const decision = (i: number): AuditDraft =>
  draftRecord(subject, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), "decision", null, {
    decision: "allow",
    tool: "echo",
    argKeys: ["message"],
    requestId: `r${i}`,
  });

/** A log of `count` decisions with a checkpoint after every `every`, as stored lines. */
async function storedLog(signer: AuditSigner, count: number, every: number): Promise<string[]> {
  const lines: string[] = [];
  let hash = GENESIS_HASH;
  let written = 0;
  const append = (draft: AuditDraft) => {
    const sealed = sealRecordJson({ ...draft, seq: lines.length + 1 }, hash);
    hash = sealed.hash;
    lines.push(sealed.json);
  };
  while (written < count) {
    append(decision(written++));
    if (written % every !== 0) continue;
    const time = new Date(Date.UTC(2026, 0, 1, 1, 0, written)).toISOString();
    const claim = { grantId: GRANT, seq: lines.length, headHash: hash, time, keyId: signer.keyId };
    const value = await signer.sign(checkpointStatement(claim));
    append(draftRecord(subject, time, "checkpoint", null, { decision: "signed", ref: claim.seq, headHash: hash, signature: { keyId: signer.keyId, value } }));
  }
  return lines;
}

/** An export file of `lines` (records after `after`), with its header signed by `signer` (null: unsigned). */
async function exportFile(lines: string[], signer: AuditSigner | null, after = 0): Promise<string[]> {
  const records = lines.slice(after);
  const first = JSON.parse(records[0]!);
  const last = JSON.parse(records.at(-1)!);
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    grantId: GRANT,
    after,
    until: null,
    start: { seq: after, hash: first.prevHash },
    end: { seq: last.seq, hash: last.hash },
    time: "2026-01-02T00:00:00.000Z",
    keyId: signer?.keyId ?? null,
    signature: null,
  };
  if (signer !== null) header.signature = await signer.sign(exportStatement(header));
  return [headerLine(header), ...records];
}

let gateway: { signer: AuditSigner; keys: AuditKeySet };
let log: string[];
let file: string[];

beforeAll(async () => {
  gateway = await newSigner();
  log = await storedLog(gateway.signer, 25, 10); // seqs 1..27: checkpoints at 11 and 22
  file = await exportFile(log, gateway.signer);
});

const failure = async (lines: string[], keys = gateway.keys) => {
  const report = await verifyExport(lines, keys);
  expect(report.status).toBe("failed");
  return report.status === "failed" ? report.reason : "";
};

describe("verifyExport", () => {
  it("accepts an intact signed export and says what checkpoints cover", async () => {
    expect(await verifyExport(file, gateway.keys)).toEqual({
      status: "ok",
      grantId: GRANT,
      start: 0,
      end: 27,
      records: 27,
      checkpoints: 2,
      coveredThrough: 21,
      keyIds: [gateway.signer.keyId],
    });
  });

  it("accepts an export that starts mid-log", async () => {
    const report = await verifyExport(await exportFile(log, gateway.signer, 5), gateway.keys);
    expect(report).toMatchObject({ status: "ok", start: 5, end: 27, records: 22, checkpoints: 2 });
  });

  it("detects an edited record", async () => {
    const edited = [...file];
    edited[4] = edited[4]!.replace('"tool":"echo"', '"tool":"drop_database"');
    expect(await failure(edited)).toBe("record 4 was changed: its hash does not match its content");
  });

  it("detects a removed record", async () => {
    expect(await failure(file.filter((_, i) => i !== 7))).toMatch(/^seq 8 follows seq 6: records were removed/);
  });

  it("detects reordered records", async () => {
    const reordered = [...file];
    [reordered[3], reordered[4]] = [reordered[4]!, reordered[3]!];
    expect(await failure(reordered)).toMatch(/^seq 4 follows seq 2/);
  });

  it("detects a file cut after its last checkpoint, and one cut before it", async () => {
    expect(await failure(file.slice(0, -3))).toBe("the file ends at seq 24 but its header says 27: records were cut off");
    expect(await failure(file.slice(0, 20))).toMatch(/^the file ends at seq 19/);
  });

  it("detects records added after the end the header states", async () => {
    const longer = await storedLog(gateway.signer, 26, 10);
    expect(await failure([...file, longer.at(-1)!])).toMatch(/^record 28 is past the end/);
  });

  it("detects a stored log rewritten after its checkpoint, even when the export is signed afterwards", async () => {
    // Someone with access to storage (not to the key) edits record 3 and re-chains everything after
    // it; the gateway then honestly signs an export of what it holds.
    const rewritten: string[] = [];
    let hash = GENESIS_HASH;
    for (const line of log) {
      const { hash: _old, prevHash: _prev, ...draft } = JSON.parse(line);
      if (draft.seq === 3) draft.tool = "drop_database";
      const sealed = sealRecordJson(draft, hash);
      hash = sealed.hash;
      rewritten.push(sealed.json);
    }
    expect(await failure(await exportFile(rewritten, gateway.signer))).toBe(
      "checkpoint 11 signed another hash for record 10: the log was changed after it was signed",
    );
  });

  it("fails with another key, and names the key it needed", async () => {
    const other = await newSigner();
    expect(await failure(file, other.keys)).toBe(`the export is signed by key ${gateway.signer.keyId}, which is not among the keys given`);
  });

  it("detects a forged header signature and a forged checkpoint signature", async () => {
    const header = JSON.parse(file[0]!);
    header.end.seq = 26;
    expect(await failure([JSON.stringify(header), ...file.slice(1, -1)])).toBe("the header's signature does not verify");
    const other = await newSigner();
    const both = new Map([...gateway.keys, ...other.keys]);
    const forged = [...log];
    const checkpoint = JSON.parse(forged[10]!);
    const value = await other.signer.sign(
      checkpointStatement({ grantId: GRANT, seq: 10, headHash: checkpoint.headHash, time: checkpoint.time, keyId: gateway.signer.keyId }),
    );
    const { hash: _h, prevHash, ...draft } = { ...checkpoint, signature: { keyId: gateway.signer.keyId, value } };
    forged[10] = sealRecordJson(draft, prevHash).json;
    // Re-chained by hand so only the signature is wrong.
    let hash = JSON.parse(forged[10]!).hash;
    for (let i = 11; i < forged.length; i++) {
      const { hash: _x, prevHash: _p, ...rest } = JSON.parse(forged[i]!);
      const sealed = sealRecordJson(rest, hash);
      hash = sealed.hash;
      forged[i] = sealed.json;
    }
    expect(await failure(await exportFile(forged, gateway.signer), both)).toBe("checkpoint 11's signature does not verify");
  });

  it("reports an unsigned export as unsigned, never ok", async () => {
    const report = await verifyExport(await exportFile(log, null), gateway.keys);
    expect(report).toMatchObject({ status: "unsigned", records: 27, checkpoints: 2 });
  });

  it("refuses what is not an export", async () => {
    expect(await failure([])).toBe("the file is empty");
    expect(await failure(["{}", ...file.slice(1)])).toBe("the first line is not an audit export header");
    expect(await failure([file[0]!, "not json"])).toBe("a record line is not JSON");
  });
});

describe("parsePublicKeys", () => {
  it("takes the published JWK Set, one JWK, or the bare key; refuses anything else", async () => {
    const { x } = await jwkOf((await newPair()).publicKey);
    for (const text of [
      JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", x, kid: "k", status: "active" }] }),
      JSON.stringify({ kty: "OKP", crv: "Ed25519", x }),
      x!,
    ]) {
      const keys = await parsePublicKeys(text);
      expect(keys.ok && keys.value.size).toBe(1);
    }
    expect((await parsePublicKeys("not a key")).ok).toBe(false);
    expect((await parsePublicKeys('{"kty":"RSA"}')).ok).toBe(false);
  });

  it("refuses a signing key whose public half does not match", async () => {
    const a = await jwkOf((await newPair()).privateKey);
    const b = await jwkOf((await newPair()).privateKey);
    // Node's WebCrypto refuses the pair at import; a runtime that does not is caught by the probe signature.
    const mismatched = await parseSigningKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", d: a.d, x: b.x }));
    expect(mismatched.ok).toBe(false);
    expect(!mismatched.ok && mismatched.error).toMatch(/^AUDIT_SIGNING_KEY('s x is not the public half of its d| was refused by WebCrypto)$/);
    expect((await parseSigningKey("nope")).ok).toBe(false);
  });
});

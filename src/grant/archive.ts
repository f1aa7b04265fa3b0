/**
 * The audit archive (docs/audit.md, "Archive"): copies a grant's log into the optional R2 bucket
 * AUDIT_ARCHIVE, in objects that end at a checkpoint, once that checkpoint is sealed.
 *
 * Each object is an export file (src/audit/export.ts): a signed header, then records `first`..`last`
 * exactly as stored, under `audit/<grantId>/<first>-<last>.ndjson` (12-digit numbers). After the
 * put succeeds the object appends an `archived` record naming the key and the object's SHA-256; the
 * next object starts after it. Writing is idempotent: the header's time is its last record's time
 * and Ed25519 signatures are deterministic, so a retried put writes the same bytes to the same key.
 * A failed put is logged as one JSON line and retried by the alarm; gate() never waits for it.
 *
 * Only a log that grew for a long stretch without checkpoints (before a signing key was set) has a
 * stretch longer than one object holds; it is split at MAX_OBJECT_RECORDS / MAX_OBJECT_BYTES, and only
 * the last part ends at the checkpoint.
 */
import { isoTime } from "../clock";
import { sha256Hex } from "../digest";
import { archiveObjectKey, EXPORT_FORMAT, exportStatement, headerLine, type ExportHeader } from "../audit/export";
import type { AuditSigner } from "../audit/keys";
import type { AuditRecord } from "./protocol";
import { draftRecord } from "./records";
import type { UpkeepHost } from "./maintenance";
import type { MaintenanceStorage } from "./maintenance-storage";

export const MAX_OBJECT_RECORDS = 5000;
const MAX_OBJECT_BYTES = 8 * 1024 * 1024;
/** Objects written per alarm run; a backlog continues on the next run, straight away. */
const OBJECTS_PER_RUN = 8;
const PAGE = 500;

export type ArchiveProgress = { archivedThrough: number; outcome: "done" | "more" | "failed" };

interface ArchiveObject {
  key: string;
  first: number;
  last: number;
  body: Uint8Array;
  sha256: string;
}

/** Reads records `after + 1` up to `through` (fewer past the byte bound) and signs them as one object. */
async function buildObject(store: MaintenanceStorage, signer: AuditSigner, grantId: string, after: number, through: number): Promise<ArchiveObject | null> {
  const lines: string[] = [];
  let bytes = 0;
  let last = after;
  while (last < through && bytes < MAX_OBJECT_BYTES) {
    const page = store.readLines(last, through, PAGE);
    if (page.last === null || page.first !== last + 1) return null; // a gap: never archive a broken stretch
    for (const line of page.lines) bytes += line.length + 1;
    lines.push(...page.lines);
    last = page.last;
  }
  const first = JSON.parse(lines[0]!) as AuditRecord;
  const final = JSON.parse(lines.at(-1)!) as AuditRecord;
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    grantId,
    after,
    until: last,
    start: { seq: after, hash: first.prevHash },
    end: { seq: last, hash: final.hash },
    time: final.time,
    keyId: signer.keyId,
    signature: null,
  };
  header.signature = await signer.sign(exportStatement(header));
  const body = new TextEncoder().encode(`${headerLine(header)}\n${lines.join("\n")}\n`);
  return { key: archiveObjectKey(grantId, after + 1, last), first: after + 1, last, body, sha256: sha256Hex(body) };
}

/** Writes one object and appends its `archived` record; false when either failed. */
async function writeObject(host: UpkeepHost, store: MaintenanceStorage, bucket: R2Bucket, object: ArchiveObject, now: number): Promise<boolean> {
  const state = host.state();
  if (state === null) return false;
  try {
    await bucket.put(object.key, object.body, {
      sha256: object.sha256,
      httpMetadata: { contentType: "application/x-ndjson" },
      customMetadata: { grantId: state.grantId, first: String(object.first), last: String(object.last) },
    });
  } catch (error) {
    console.error(
      JSON.stringify({ event: "audit_archive_failed", grant: state.grantId, key: object.key, error: error instanceof Error ? error.name : "unknown" }),
    );
    return false;
  }
  const archive = { key: object.key, first: object.first, sha256: object.sha256, bytes: object.body.byteLength };
  const draft = draftRecord(state, isoTime(now), "archived", null, { decision: "written", ref: object.last, archive });
  return host.append(draft, now, (seq) => store.mark("archived", seq)) !== null;
}

/**
 * Archives what is sealed and not yet archived: records after `archivedThrough` up to the latest
 * checkpoint record `sealedThrough`, one object per checkpoint.
 */
export async function archiveSealed(
  host: UpkeepHost,
  store: MaintenanceStorage,
  bucket: R2Bucket,
  signer: AuditSigner,
  progress: { archivedThrough: number; sealedThrough: number },
  now: number,
): Promise<ArchiveProgress> {
  let archivedThrough = progress.archivedThrough;
  const state = host.state();
  if (state === null) return { archivedThrough, outcome: "failed" };
  for (let written = 0; written < OBJECTS_PER_RUN; written++) {
    if (archivedThrough >= progress.sealedThrough) return { archivedThrough, outcome: "done" };
    const checkpoint = store.checkpointAfter(archivedThrough, MAX_OBJECT_RECORDS);
    const through = Math.min(checkpoint ?? archivedThrough + MAX_OBJECT_RECORDS, progress.sealedThrough);
    const object = await buildObject(store, signer, state.grantId, archivedThrough, through);
    if (object === null || !(await writeObject(host, store, bucket, object, now))) return { archivedThrough, outcome: "failed" };
    archivedThrough = object.last;
  }
  return { archivedThrough, outcome: archivedThrough >= progress.sealedThrough ? "done" : "more" };
}

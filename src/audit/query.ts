/**
 * Reading a grant's audit log the way an operator asks for it: newest first, filtered by decision,
 * tool and time, and counted per hour. The grant's Durable Object only answers "records after seq N,
 * at most 1,000" (`readAudit`), so everything here is built on that one read, passed in as
 * `ReadAudit`: no env, no Durable Object, testable over an array.
 *
 * Bounds: a filtered page reads at most `scanBudget` records; when the budget runs out before the page
 * is full, `next` still points on, so paging continues where the scan stopped. Nothing is skipped.
 *
 * Time: a record's `time` is the grant's Durable Object clock when it was appended, so times rise
 * with `seq`. Searches for a time use that order only to choose where to start reading; every record
 * read is checked against the filter again.
 */
import { isoTime } from "../clock";
import type { AuditPage, AuditRecord } from "../grant/protocol";

export type ReadAudit = (after: number, limit: number) => Promise<AuditPage>;

/** The Durable Object's largest page. */
export const READ_PAGE = 1000;

export interface AuditFilter {
  type?: AuditRecord["type"];
  decision?: string;
  code?: string;
  tool?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}

export function matchesFilter(record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.type !== undefined && record.type !== filter.type) return false;
  if (filter.decision !== undefined && record.decision !== filter.decision) return false;
  if (filter.code !== undefined && record.code !== filter.code) return false;
  if (filter.tool !== undefined && record.tool !== filter.tool) return false;
  const time = Date.parse(record.time);
  if (filter.since !== undefined && !(time >= filter.since)) return false;
  if (filter.until !== undefined && !(time < filter.until)) return false;
  return true;
}

/** The highest seq in the log (0 when empty): O(log n) one-record reads. */
export async function lastSeq(read: ReadAudit): Promise<number> {
  const any = async (after: number) => (await read(after, 1)).records.length > 0;
  if (!(await any(0))) return 0;
  // Invariant: a record exists after `low`; none after `high`.
  let low = 0;
  let high = 1;
  while (await any(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > READ_PAGE) {
    const middle = Math.floor((low + high) / 2);
    if (await any(middle)) low = middle;
    else high = middle;
  }
  const page = await read(low, READ_PAGE);
  return page.records.at(-1)?.seq ?? low;
}

/** The records with low < seq <= high, oldest first, in reads of at most READ_PAGE. */
async function recordsBetween(read: ReadAudit, low: number, high: number): Promise<AuditRecord[]> {
  const page = await read(low, Math.min(READ_PAGE, high - low));
  return page.records.filter((record) => record.seq <= high);
}

/**
 * The seq just before the first record at or after `time` (so reading "after" it starts there),
 * searching between 0 and `last`. Binary search over one-record reads.
 */
export async function seqBefore(read: ReadAudit, last: number, time: number): Promise<number> {
  let low = 0; // every record with seq <= low is before `time` (vacuously for 0)
  let high = last + 1; // the first record with seq >= high, if any, is at or after `time`
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const record = (await read(middle - 1, 1)).records[0];
    if (record === undefined || Date.parse(record.time) >= time) high = middle;
    else low = middle;
  }
  return low;
}

export interface FilteredPage {
  records: AuditRecord[];
  /** Oldest-first pages: pass as `after`; newest-first pages: pass as `before`. Null at the end. */
  next: number | null;
}

/** Oldest first, from `after`: what `GET …/audit?after=` has always returned, now filtered. */
export async function pageForward(read: ReadAudit, filter: AuditFilter, after: number, limit: number, scanBudget: number): Promise<FilteredPage> {
  let from = after;
  if (filter.since !== undefined) from = Math.max(from, await seqBefore(read, await lastSeq(read), filter.since));
  const records: AuditRecord[] = [];
  let scanned = 0;
  for (;;) {
    const page = await read(from, READ_PAGE);
    for (const record of page.records) {
      from = record.seq;
      scanned++;
      if (filter.until !== undefined && Date.parse(record.time) >= filter.until) return { records, next: null };
      if (matchesFilter(record, filter)) records.push(record);
      if (records.length === limit || scanned >= scanBudget) return { records, next: page.next === null && record === page.records.at(-1) ? null : record.seq };
    }
    if (page.next === null) return { records, next: null };
  }
}

/** Newest first, from just before `before` (the end of the log when null). */
export async function pageBackward(read: ReadAudit, filter: AuditFilter, before: number | null, limit: number, scanBudget: number): Promise<FilteredPage> {
  let high = before === null ? await lastSeq(read) : before - 1;
  if (filter.until !== undefined) high = Math.min(high, await seqBefore(read, high, filter.until));
  const records: AuditRecord[] = [];
  let scanned = 0;
  while (high > 0) {
    const low = Math.max(0, high - READ_PAGE);
    const chunk = await recordsBetween(read, low, high);
    for (let index = chunk.length - 1; index >= 0; index--) {
      const record = chunk[index] as AuditRecord;
      scanned++;
      if (filter.since !== undefined && Date.parse(record.time) < filter.since) return { records, next: null };
      if (matchesFilter(record, filter)) records.push(record);
      const more = record.seq > 1;
      if (records.length === limit || scanned >= scanBudget) return { records, next: more ? record.seq : null };
    }
    high = low;
  }
  return { records, next: null };
}

export interface HourCount {
  /** ISO time the hour starts. */
  start: string;
  allowed: number;
  denied: number;
  rateLimited: number;
}

export interface HourlyCounts {
  hours: HourCount[];
  /** False when the scan budget ran out; `countedFrom` then says where counting stopped. */
  complete: boolean;
  /** ISO time of the oldest record counted (null when none was). */
  countedFrom: string | null;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * tools/call decisions per hour for the `hours` hours up to the one containing `now` (the current
 * hour is the last). Allowed counts calls that were forwarded, including monitor-mode would-be
 * denials; rate-limited counts denials with code `rate_limited`; denied counts every other denial.
 * Reads from the newest record back, so if the budget runs out, the recent hours are the complete ones.
 */
export async function hourlyCounts(read: ReadAudit, now: number, hours: number, scanBudget: number): Promise<HourlyCounts> {
  const firstHour = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
  const counts: HourCount[] = Array.from({ length: hours }, (_, index) => ({
    start: isoTime(firstHour + index * HOUR_MS),
    allowed: 0,
    denied: 0,
    rateLimited: 0,
  }));
  let high = await lastSeq(read);
  let scanned = 0;
  let countedFrom: string | null = null;
  while (high > 0) {
    const low = Math.max(0, high - READ_PAGE);
    const chunk = await recordsBetween(read, low, high);
    for (let index = chunk.length - 1; index >= 0; index--) {
      const record = chunk[index] as AuditRecord;
      const time = Date.parse(record.time);
      if (time < firstHour) return { hours: counts, complete: true, countedFrom };
      if (scanned >= scanBudget) return { hours: counts, complete: false, countedFrom };
      scanned++;
      countedFrom = record.time;
      const hour = counts[Math.floor((time - firstHour) / HOUR_MS)];
      if (hour === undefined || record.type !== "decision" || record.rpcMethod !== "tools/call") continue;
      if (record.decision === "allow" || record.decision === "monitor_deny") hour.allowed++;
      else if (record.decision === "deny" && record.code === "rate_limited") hour.rateLimited++;
      else if (record.decision === "deny") hour.denied++;
    }
    high = low;
  }
  return { hours: counts, complete: true, countedFrom };
}

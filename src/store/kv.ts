/**
 * Reading and listing KV records, failing closed.
 *
 * Every value read from KV goes through a zod schema: a record that does not parse (hand-edited,
 * written by an older version, truncated) raises `CorruptRecordError`, which the admin API turns into
 * a 500. A listing never skips a bad record and returns the rest: half a list of grants would hide
 * exactly the grant someone is looking for.
 */
import type { z } from "zod";

export class CorruptRecordError extends Error {
  override readonly name = "CorruptRecordError";
  /** The KV key is safe to show: keys hold ids and names, never secrets. */
  constructor(readonly key: string) {
    super(`KV record ${key} is corrupt`);
  }
}

export async function readRecord<S extends z.ZodType>(kv: KVNamespace, key: string, schema: S): Promise<z.output<S> | null> {
  const text = await kv.get(key, "text");
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CorruptRecordError(key);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CorruptRecordError(key);
  return parsed.data;
}

export async function writeRecord(kv: KVNamespace, key: string, value: unknown): Promise<void> {
  await kv.put(key, JSON.stringify(value));
}

/** Every key under `prefix`, in KV's lexicographic order, across as many list pages as it takes. */
export async function listKeys(kv: KVNamespace, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await kv.list(cursor === undefined ? { prefix } : { prefix, cursor });
    for (const key of page.keys) keys.push(key.name);
    if (page.list_complete) return keys;
    cursor = page.cursor;
  }
}

/** Read every record under `prefix`; a key deleted between list and get is skipped, a corrupt one throws. */
export async function readAll<S extends z.ZodType>(kv: KVNamespace, prefix: string, schema: S): Promise<z.output<S>[]> {
  const keys = await listKeys(kv, prefix);
  const records: (z.output<S> | null)[] = await Promise.all(keys.map((key) => readRecord(kv, key, schema)));
  return records.filter((record): record is z.output<S> => record !== null);
}

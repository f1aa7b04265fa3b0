/**
 * Canonical JSON: one text per value, so equal values hash equally (audit records, policy
 * documents, tool definitions). Keys are sorted by UTF-16 code units, recursively; no whitespace;
 * members whose value is undefined are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    // JSON.stringify(undefined) is undefined; inside arrays JSON writes null for it.
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = sortedKeys(object);
  let out = "{";
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    out += `${(out.length === 1 ? "" : ",") + quotedKey(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

// Records repeat the same few keys; quoting each once saves most of the serialization time.
const QUOTED_KEYS = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (QUOTED_KEYS.size < 256) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

/** Keys in code-unit order; records are built with sorted keys, so usually no sort is needed. */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
}

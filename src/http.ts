/**
 * HTTP request primitives shared by the gateway and the admin API: the bearer credential and a
 * body read with a byte limit.
 */

/** The credentials of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is case-insensitive). */
export function bearerToken(authorization: string | null | undefined): string | null {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? "");
  return match?.[1] ?? null;
}

/**
 * The body of a request (or an upstream's response), or null when it is larger than `limit` bytes. Counted in bytes as they arrive,
 * so a body without Content-Length (chunked) cannot exceed the limit either. The runtime enforces a
 * declared Content-Length (a shorter or longer body is an error), so a body that declared one
 * within the limit is read in one native call.
 */
export async function readBodyBytes(message: Request | Response, limit: number): Promise<Uint8Array | null> {
  const declared = message.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await message.body?.cancel();
    return null;
  }
  if (message.body === null) return new Uint8Array();
  if (declared !== null) return new Uint8Array(await message.arrayBuffer());
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return joinBytes(chunks, size);
}

/** The chunks as one array of `size` bytes (their total length). */
export function joinBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Strict UTF-8 (a bad sequence is an error, never U+FFFD), so the text evaluated is the bytes sent. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Byte arrays read in chunks, joined.
 *
 * @module
 */

/** The chunks as one array of `size` bytes (their total length). */
export function concatBytes(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Messages over a byte stream (a child process's stdin and stdout): each
 * frame is a little-endian u32 length, then JSON in which every
 * `Uint8Array` is replaced by `{"$bin": i}`, then those byte arrays, each
 * with its own u32 length. Structured clone is not available across
 * processes, and base64 would add a third to Python's 30 MB snapshot.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Largest frame accepted from the other side. */
const MAX_FRAME_BYTES = 1 << 30;

/** One message as a frame. */
export function encodeFrame(message: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = encoder.encode(JSON.stringify(message, (_key, value) => {
    if (value instanceof Uint8Array) {
      blobs.push(value);
      return { $bin: blobs.length - 1 };
    }
    return value;
  }));
  const size = 4 + json.length + blobs.reduce((n, b) => n + 4 + b.length, 0);
  const frame = new Uint8Array(4 + size);
  const view = new DataView(frame.buffer);
  view.setUint32(0, size, true);
  view.setUint32(4, json.length, true);
  frame.set(json, 8);
  let at = 8 + json.length;
  for (const blob of blobs) {
    view.setUint32(at, blob.length, true);
    frame.set(blob, at + 4);
    at += 4 + blob.length;
  }
  return frame;
}

function decodeFrame(frame: Uint8Array): unknown {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const jsonLength = view.getUint32(0, true);
  if (4 + jsonLength > frame.length) throw new Error("malformed frame");
  const blobs: Uint8Array[] = [];
  for (let at = 4 + jsonLength; at < frame.length;) {
    const length = view.getUint32(at, true);
    if (at + 4 + length > frame.length) throw new Error("malformed frame");
    blobs.push(frame.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return JSON.parse(decoder.decode(frame.subarray(4, 4 + jsonLength)), (_key, value) => {
    if (value && typeof value === "object" && typeof value.$bin === "number") {
      const blob = blobs[value.$bin];
      if (!blob) throw new Error("malformed frame");
      return blob;
    }
    return value;
  });
}

/** The messages in a byte stream, in order; throws on a malformed frame. */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  // Chunks are kept in a list and joined once per frame: joining on every
  // chunk would copy a 30 MB frame hundreds of times.
  let chunks: Uint8Array[] = [];
  let buffered = 0;
  let need = -1; // bytes of the current frame, length prefix included; -1: unknown yet
  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = chunks[0];
      const part = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, part), at);
      at += part;
      if (part === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(part);
    }
    buffered -= n;
    return out;
  };
  for await (const chunk of stream) {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (need < 0) {
        if (buffered < 4) break;
        const head = take(4);
        const size = new DataView(head.buffer).getUint32(0, true);
        if (size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes is too large`);
        need = size;
      }
      if (buffered < need) break;
      const frame = take(need);
      need = -1;
      yield decodeFrame(frame);
    }
  }
  chunks = [];
}

import assert from "node:assert/strict";
import { encodeFrame, readFrames } from "./frames.ts";

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

Deno.test("frames carry JSON and byte arrays across any chunking", async () => {
  const big = new Uint8Array(30_000).map((_, i) => i % 251);
  const messages = [
    { type: "hello", report: { snapshot: big, start: "cold" } },
    { type: "output", text: "é ✓\n" },
    { nested: [new Uint8Array([1, 2, 3]), new Uint8Array(0)] },
  ];
  const parts = messages.map(encodeFrame);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  for (const chunk of [1, 7, 4096, all.length]) {
    const got = [];
    for await (const message of readFrames(streamOf(all, chunk))) got.push(message);
    assert.deepEqual(got, messages, `chunks of ${chunk}`);
  }
});

Deno.test("readFrames() refuses a frame that claims to be huge", async () => {
  const bad = new Uint8Array([255, 255, 255, 255, 0]);
  await assert.rejects(async () => {
    for await (const _ of readFrames(streamOf(bad, 5))) { /* none */ }
  }, /too large/);
});

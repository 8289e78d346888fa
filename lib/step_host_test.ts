import assert from "node:assert/strict";
import { parseWorkerMessage } from "./step_host.ts";

Deno.test("parseWorkerMessage() accepts the protocol's messages", () => {
  assert.deepEqual(parseWorkerMessage({ type: "ready" }), { type: "ready", report: undefined });
  assert.deepEqual(parseWorkerMessage({ type: "ready", report: { start: "cold" } }), {
    type: "ready",
    report: { start: "cold" },
  });
  assert.deepEqual(
    parseWorkerMessage({
      type: "done",
      id: "1",
      outcome: { kind: "result", json: "1", extra: "dropped" },
    }),
    { type: "done", id: "1", outcome: { kind: "result", json: "1" } },
  );
  assert.deepEqual(parseWorkerMessage({ type: "output", id: "1", stream: "stderr", text: "x" }), {
    type: "output",
    id: "1",
    stream: "stderr",
    text: "x",
  });
});

Deno.test("parseWorkerMessage() rejects anything malformed a step could post", () => {
  for (
    const bad of [
      null,
      "done",
      { type: "done", id: 1, outcome: { kind: "result", json: "1" } },
      { type: "done", id: "1", outcome: { kind: "result", json: { not: "text" } } },
      { type: "done", id: "1", outcome: { kind: "succeeded" } },
      { type: "output", id: "1", stream: "stdin", text: "x" },
      { type: "shutdown" },
    ]
  ) {
    assert.equal(parseWorkerMessage(bad), undefined, JSON.stringify(bad));
  }
});

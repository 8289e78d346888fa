import assert from "node:assert/strict";
import { palette, renderEvent, renderRecap } from "./render.ts";

const plain = palette(false);

Deno.test("renderEvent() explains a cold runtime start and stays quiet about a warm one", () => {
  assert.equal(
    renderEvent({ type: "runtime_started", runtime: "python", from: "cold", ms: 1920 }, plain),
    "· python started cold in 1.92s",
  );
  assert.equal(
    renderEvent(
      { type: "runtime_started", runtime: "python", from: "cold", ms: 80, note: "why" },
      plain,
    ),
    "· python started cold in 80ms (why)",
  );
  assert.equal(
    renderEvent({ type: "runtime_started", runtime: "python", from: "snapshot", ms: 250 }, plain),
    undefined,
  );
});

Deno.test("renderEvent() prefixes step output with the step name", () => {
  assert.equal(
    renderEvent({ type: "step_output", step: "a", stream: "stdout", line: "hi" }, plain),
    "[a] hi",
  );
});

Deno.test("renderRecap() names each failed step once, with the first lines of its error", () => {
  const step = { language: "python" as const, level: 1 };
  const recap = renderRecap({
    workflow: "w",
    mode: "sequential",
    strategy: "levels",
    maxParallel: 1,
    status: "failed",
    durationMs: 10,
    levels: [["a", "b", "c"]],
    steps: [
      { ...step, name: "a", status: "failed", error: "step 'a' timed out after 5s" },
      { ...step, name: "b", status: "succeeded", result: "1" },
      { ...step, name: "c", status: "failed", error: "step 'c' (python): ValueError\n  at 1" },
    ],
  }, plain);
  assert.equal(
    recap,
    "*** step 'a' failed: timed out after 5s\n*** step 'c' failed: ValueError\n      at 1",
  );
});

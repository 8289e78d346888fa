import assert from "node:assert/strict";
import { palette, renderEvent } from "./render.ts";

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

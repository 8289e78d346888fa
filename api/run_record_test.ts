import assert from "node:assert/strict";
import type { RunEvent, StepReport } from "../engine/events.ts";
import { RunRecorder } from "./run_record.ts";

/** A recorder on a clock the test moves, started. */
function recorder(options: { maxOutputChars?: number } = {}) {
  const clock = { ms: 1000 };
  const record = new RunRecorder({ now: () => clock.ms, maxOutputChars: options.maxOutputChars });
  const send = (event: RunEvent) => record.onEvent(event);
  send({
    type: "run_started",
    workflow: "w",
    mode: "parallel",
    strategy: "levels",
    maxParallel: 2,
    levels: [["a"]],
  });
  return { clock, record, send };
}

const report = (name: string, patch: Partial<StepReport>): StepReport => ({
  name,
  language: "lua",
  level: 1,
  status: "succeeded",
  ...patch,
});

Deno.test("RunRecorder keeps each attempt's wait and run on the run's clock", () => {
  const { clock, record, send } = recorder();
  send({ type: "step_started", step: "a", language: "lua", level: 1, atMs: 5 });
  send({ type: "step_running", step: "a", attempt: 1, atMs: 40 });
  clock.ms = 1000 + 90;
  send({ type: "step_finished", report: report("a", { startMs: 5 }) });
  assert.deepEqual(record.step("a").attempts, [{ startMs: 5, runningMs: 40, endMs: 90 }]);
  assert.equal(record.step("a").finishedMs, 90);
});

Deno.test("RunRecorder starts a retry's wait when the pause before it ends", () => {
  const { clock, record, send } = recorder();
  send({ type: "step_started", step: "a", language: "lua", level: 1, atMs: 0 });
  send({ type: "step_running", step: "a", attempt: 1, atMs: 10 });
  clock.ms = 1000 + 50;
  send({
    type: "step_retrying",
    step: "a",
    attempt: 1,
    attempts: 2,
    error: "boom",
    delayMs: 100,
  });
  // The pause ends at 150; the runtime is free at 170.
  send({ type: "step_running", step: "a", attempt: 2, atMs: 170 });
  clock.ms = 1000 + 200;
  send({ type: "step_finished", report: report("a", { attempts: 2, attemptErrors: ["boom"] }) });
  assert.deepEqual(record.step("a").attempts, [
    { startMs: 0, runningMs: 10, endMs: 50, error: "boom" },
    { startMs: 150, runningMs: 170, endMs: 200 },
  ]);
});

Deno.test("RunRecorder keeps a retry stopped while it waited for its runtime", () => {
  const { clock, record, send } = recorder();
  send({ type: "step_started", step: "a", language: "lua", level: 1, atMs: 0 });
  send({ type: "step_running", step: "a", attempt: 1, atMs: 0 });
  clock.ms = 1000 + 20;
  send({ type: "step_retrying", step: "a", attempt: 1, attempts: 3, error: "x", delayMs: 10 });
  clock.ms = 1000 + 60;
  send({ type: "step_finished", report: report("a", { status: "cancelled", attempts: 2 }) });
  assert.deepEqual(record.step("a").attempts.at(-1), { startMs: 30, endMs: 60 });
});

Deno.test("RunRecorder keeps no attempt for a run stopped during a retry's pause", () => {
  const { clock, record, send } = recorder();
  send({ type: "step_started", step: "a", language: "lua", level: 1, atMs: 0 });
  send({ type: "step_running", step: "a", attempt: 1, atMs: 0 });
  clock.ms = 1000 + 20;
  send({ type: "step_retrying", step: "a", attempt: 1, attempts: 3, error: "x", delayMs: 500 });
  clock.ms = 1000 + 60;
  send({ type: "step_finished", report: report("a", { status: "failed", attempts: 1 }) });
  assert.equal(record.step("a").attempts.length, 1);
});

Deno.test("RunRecorder keeps output up to its cap, with each line's attempt, and counts the rest", () => {
  const { record, send } = recorder({ maxOutputChars: 10 });
  send({ type: "step_output", step: "a", stream: "stdout", line: "early" });
  send({ type: "step_started", step: "a", language: "lua", level: 1, atMs: 0 });
  send({ type: "step_output", step: "a", stream: "stderr", line: "12345" });
  send({ type: "step_output", step: "a", stream: "stdout", line: "too long" });
  assert.deepEqual(record.step("a").output, [
    { stream: "stdout", line: "early" },
    { stream: "stderr", line: "12345", attempt: 1 },
  ]);
  assert.equal(record.step("a").droppedChars, 8);
});

Deno.test("RunRecorder marks when a skipped step was skipped, and has nothing of others", () => {
  const { clock, record, send } = recorder();
  clock.ms = 1000 + 75;
  send({ type: "step_finished", report: report("b", { status: "skipped", error: "dependency" }) });
  assert.deepEqual(record.step("b"), { attempts: [], output: [], droppedChars: 0, finishedMs: 75 });
  assert.deepEqual(record.step("never"), { attempts: [], output: [], droppedChars: 0 });
});

Deno.test("RunRecorder.dependsOn() names a step's dependencies when given the workflow", () => {
  const steps = new Map([["a", { dependsOn: [] }], ["b", { dependsOn: ["a"] }]]);
  const record = new RunRecorder({ workflow: { steps } });
  assert.deepEqual(record.dependsOn("b"), ["a"]);
  assert.equal(record.dependsOn("c"), undefined);
  assert.equal(new RunRecorder().dependsOn("b"), undefined);
});

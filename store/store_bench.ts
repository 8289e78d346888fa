/**
 * What recording a run costs, and where step output is cheaper to keep:
 * rows of the events table (what store/writer.ts does) or a file per step
 * beside the database. Each iteration records a whole run of 2,000 steps
 * with 10 lines of output each, from `begin` to `finish`, in a fresh
 * store. docs/HISTORY.md quotes the figures.
 */

import type { RunEvent, RunResult, StepReport } from "../engine/events.ts";
import { openStore } from "./store.ts";
import type { RunStart } from "./writer.ts";

const STEPS = 2000;
const LINES = 10;
const names = Array.from({ length: STEPS }, (_, i) => `s${i}`);
const start = (names: string[]): RunStart => ({
  workflow: "bench",
  settings: "{}",
  mode: "parallel",
  strategy: "levels",
  maxParallel: 4,
  levels: [names],
  steps: names.map((name) => ({ name, language: "lua", level: 1 })),
  hwfeVersion: "0.0.0",
});

function* run(names: string[], lines: number): Generator<RunEvent> {
  yield {
    type: "run_started",
    workflow: "bench",
    mode: "parallel",
    strategy: "levels",
    maxParallel: 4,
    levels: [names],
  };
  for (const step of names) {
    yield { type: "step_started", step, language: "lua", level: 1, atMs: 0 };
    yield { type: "step_running", step, attempt: 1, atMs: 1 };
    for (let i = 0; i < lines; i++) {
      yield {
        type: "step_output",
        step,
        stream: "stdout",
        line: `line ${i} of step ${step}: some words of output, as a tool prints them`,
      };
    }
    const report: StepReport = {
      name: step,
      language: "lua",
      level: 1,
      status: "succeeded",
      startMs: 0,
      durationMs: 2,
      waitedMs: 1,
      result: "1",
    };
    yield { type: "step_finished", report };
  }
}

const RESULT: RunResult = {
  workflow: "bench",
  mode: "parallel",
  strategy: "levels",
  maxParallel: 4,
  status: "succeeded",
  durationMs: 1,
  levels: [names],
  steps: [],
};

async function recordRun(
  options: { lines: number; outputInFiles?: boolean; steps?: number },
): Promise<void> {
  const steps = options.steps === undefined ? names : names.slice(0, options.steps);
  const dir = await Deno.makeTempDir({ prefix: "hwfe-store-bench-" });
  const store = openStore(dir);
  const writer = store.begin(start(steps));
  const pending = new Map<string, string[]>();
  for (const event of run(steps, options.lines)) {
    if (options.outputInFiles && event.type === "step_output") {
      let lines = pending.get(event.step);
      if (!lines) pending.set(event.step, lines = []);
      lines.push(`${event.stream} ${event.line}\n`);
      continue;
    }
    writer.onEvent(event);
    if (options.outputInFiles && event.type === "step_finished") {
      // The other choice: each step's output appended to a file of its own.
      const lines = pending.get(event.report.name);
      if (lines) {
        Deno.writeTextFileSync(`${dir}/${event.report.name}.log`, lines.join(""), { append: true });
      }
      pending.delete(event.report.name);
    }
  }
  writer.finish(RESULT);
  store.close();
  await Deno.remove(dir, { recursive: true });
}

Deno.bench("record a run of 2,000 steps without output", { group: "store" }, async () => {
  await recordRun({ lines: 0 });
});

Deno.bench("record 2,000 steps, 10 lines each, output as rows", {
  group: "store",
  baseline: true,
}, async () => {
  await recordRun({ lines: LINES });
});

Deno.bench("record 2,000 steps, 10 lines each, output in a file per step", {
  group: "store",
}, async () => {
  await recordRun({ lines: LINES, outputInFiles: true });
});

Deno.bench("record 1 step writing 200,000 lines, output as rows", {
  group: "big",
  baseline: true,
}, async () => {
  await recordRun({ lines: 200_000, steps: 1 });
});

Deno.bench("record 1 step writing 200,000 lines, output in a file", { group: "big" }, async () => {
  await recordRun({ lines: 200_000, steps: 1, outputInFiles: true });
});

/**
 * The Python runner's start-up cache, through the library: cold start,
 * snapshot written, later starts from it, and a clean fall-back to a cold
 * start when the cached file is corrupt. (Step behaviour is covered end to
 * end in tests/python_test.ts.)
 */

import assert from "node:assert/strict";
import type { RunEvent } from "../engine/events.ts";
import { runWorkflow } from "../api/run.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import { parseJson } from "../_util/json.ts";
import { StepHost, type WorkerRuntime } from "../host/pool.ts";
import { pythonRunner } from "../runners/python.ts";
import { loneStep } from "../runners/_lone_step.ts";
import type { RuntimeStart } from "../engine/runner.ts";

const { workflow } = defineWorkflow({
  name: "py",
  steps: {
    a: { language: "python", code: "import random\ndef run():\n    return random.random()\n" },
    b: { language: "python", code: "def run(inputs):\n    return len(inputs)\n" },
  },
});

async function run(cacheDir: string | false, mode: "sequential" | "parallel" = "sequential") {
  const starts: RuntimeStart[] = [];
  const warnings: string[] = [];
  const announced: string[] = [];
  const result = await runWorkflow(workflow, {
    mode,
    cacheDir,
    onEvent: (event: RunEvent) => {
      if (event.type === "runtime_started") starts.push(event);
      if (event.type === "runtime_starting") announced.push(event.runtime);
      if (event.type === "warning") warnings.push(event.message);
    },
  });
  for (const step of result.steps) assert.equal(step.status, "succeeded", step.error);
  const random = parseJson(result.steps.find((s) => s.name === "a")!.result!);
  return { starts, warnings, random, announced };
}

function snapshotFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(`${dir}/python`)].map((e) => `${dir}/python/${e.name}`);
  } catch {
    return [];
  }
}

Deno.test("Python starts cold once, then from its cached snapshot, with fresh randomness", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-pycache-" });
  try {
    const first = await run(dir);
    assert.deepEqual(first.starts.map((s) => s.from), ["cold"]);
    assert.deepEqual(first.warnings, []);
    assert.deepEqual(first.announced, ["python"], "the cold start said so before the wait");
    const files = snapshotFiles(dir);
    assert.equal(files.length, 1, "one snapshot file");
    assert.match(files[0], /pyodide-[\d.]+-[0-9a-f]{16}\.snapshot$/);

    const second = await run(dir);
    assert.deepEqual(second.starts.map((s) => s.from), ["snapshot"]);
    assert.deepEqual(second.announced, [], "a start from the snapshot is not announced");
    const third = await run(dir);
    assert.notEqual(second.random, third.random, "random is reseeded after a restore");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt snapshot falls back to a cold start and is replaced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-pycache-" });
  try {
    await run(dir);
    const [file] = snapshotFiles(dir);
    const bytes = await Deno.readFile(file);
    bytes.fill(0x5a, bytes.length / 2, bytes.length / 2 + 4096); // damage the middle
    await Deno.writeFile(file, bytes);

    const damaged = await run(dir);
    assert.deepEqual(damaged.starts.map((s) => s.from), ["cold"]);
    assert.match(damaged.starts[0].note ?? "", /checksum does not match/);
    const repaired = await run(dir);
    assert.deepEqual(repaired.starts.map((s) => s.from), ["snapshot"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unwritable cache warns; parallel workers share the first one's snapshot", async () => {
  const file = await Deno.makeTempFile({ prefix: "hwfe-pycache-" });
  try {
    const uncached = await run(`${file}/cache`, "parallel");
    assert.deepEqual(uncached.starts.map((s) => s.from).sort(), ["cold", "snapshot"]);
    assert.equal(uncached.warnings.length, 1);
    assert.match(uncached.warnings[0], /Python start-up cache not saved \(cannot write .*cache/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("Python steps are rewound on their worker; one that used the JavaScript bridge retires it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-pycache-" });
  const steps = {
    plain: "def run():\n    return 1\n",
    sleeps: "import time\ndef run():\n    time.sleep(0.001)\n    return 2\n",
    awaits: "import asyncio\nasync def run():\n    await asyncio.sleep(0.001)\n    return 3\n",
    bridge: "from pyodide.code import run_js\ndef run():\n    return run_js('4')\n",
    after: "def run():\n    return 5\n",
  };
  try {
    const { workflow } = defineWorkflow({
      name: "rewind",
      steps: Object.fromEntries(
        Object.entries(steps).map(([name, code], i, all) => [name, {
          language: "python",
          code,
          depends_on: i ? [all[i - 1][0]] : [],
        }]),
      ),
    });
    const starts: RuntimeStart[] = [];
    /** Workers started when each step finished. */
    const startedBy: Record<string, number> = {};
    const result = await runWorkflow(workflow, {
      cacheDir: dir,
      onEvent: (event: RunEvent) => {
        if (event.type === "runtime_started") starts.push(event);
        if (event.type === "step_finished") startedBy[event.report.name] = starts.length;
      },
    });
    assert.deepEqual(result.steps.map((s) => [s.name, s.status, s.result]), [
      ["plain", "succeeded", "1"],
      ["sleeps", "succeeded", "2"],
      ["awaits", "succeeded", "3"],
      ["bridge", "succeeded", "4"],
      ["after", "succeeded", "5"],
    ]);
    // One worker for the first four steps (sleeping and asyncio need no JavaScript), a new one after
    // the bridge; from then on the pool keeps a spare starting, which the run may end before.
    const { after, ...before } = startedBy;
    assert.deepEqual(before, { plain: 1, sleeps: 1, awaits: 1, bridge: 1 });
    assert.ok(after === 2 || after === 3, JSON.stringify(starts));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the worker warmed up for the run's memory limit is the one its steps use", async () => {
  const host = new StepHost(1);
  try {
    const runner = pythonRunner(host, {});
    const { workflow: one } = defineWorkflow({
      name: "one",
      steps: { s: { language: "python", code: "def run():\n    return 1\n" } },
    });
    runner.warmUp?.(1, one, 512);
    assert.equal(await runner.run(loneStep(one, "s", { memoryMb: 512 })), "1");
    // Python's pools are keyed by memory limit: a warm-up for another limit
    // would have left a second worker.
    assert.equal(host.liveWorkers({ id: "python" } as WorkerRuntime), 1);
  } finally {
    host.dispose();
  }
});

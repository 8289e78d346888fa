/**
 * Python start-up, cold and from the cached snapshot, and the cost of one
 * trivial step on a warm interpreter (issue 3's targets: a warm start well
 * under half a second; the cold start is about 1.7 s).
 *
 * Run: deno task bench
 */

import { StepHost } from "../host/pool.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import { pythonRunner } from "./python.ts";
import { loneStep } from "./_lone_step.ts";

const cacheDir = await Deno.makeTempDir({ prefix: "hwfe-bench-" });

/** Starts one Python worker and waits until it is ready; returns how it started. */
async function startPython(dir: string | undefined): Promise<string> {
  const host = new StepHost(1);
  try {
    const started = Promise.withResolvers<string>();
    const runner = pythonRunner(host, {
      cacheDir: dir,
      onRuntimeStarted: (start) => started.resolve(start.from),
    });
    runner.warmUp?.(1, defineWorkflow({ name: "none", steps: { s: { code: "" } } }).workflow);
    const from = await started.promise;
    await runner.close?.();
    return from;
  } finally {
    host.dispose();
  }
}

await startPython(cacheDir); // makes the snapshot the warm benchmark restores

Deno.bench({ name: "Python start-up, cold", group: "start", n: 3, warmup: 0 }, async () => {
  if (await startPython(undefined) !== "cold") throw new Error("expected a cold start");
});

Deno.bench({
  name: "Python start-up, from the cached snapshot",
  group: "start",
  n: 10,
  baseline: true,
}, async () => {
  if (await startPython(cacheDir) !== "snapshot") throw new Error("expected a snapshot start");
});

const host = new StepHost(1);
const runner = pythonRunner(host, { cacheDir });
const { workflow } = defineWorkflow({
  name: "bench",
  steps: { trivial: { language: "python", code: "def run(inputs):\n    return {'ok': True}\n" } },
});
const ctx = loneStep(workflow, "trivial");
await runner.run(ctx); // the worker is warm from here on

Deno.bench("a trivial Python step on a warm interpreter", async () => {
  await runner.run(ctx);
});

globalThis.addEventListener("unload", () => {
  host.dispose();
  Deno.removeSync(cacheDir, { recursive: true });
});

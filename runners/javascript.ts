/**
 * JavaScript steps: QuickJS in the step host's workers (see
 * javascript_worker.ts). TypeScript steps share those workers
 * (typescript.ts).
 *
 * @module
 */

import { npmFile } from "../_util/npm_files.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import type { JavaScriptInit } from "./javascript_worker.ts";
import { DEFAULT_STEP_MEMORY_MB, stepMemoryMb } from "../engine/runner.ts";
import { checkOnWorker, runOnWorker } from "./_worker_job.ts";
import type { CheckingRunner } from "./syntax.ts";

/** QuickJS's wasm file, which JavaScript workers read. */
export function quickjsWasmPath(): string {
  return npmFile("@jitl/quickjs-wasmfile-release-sync/wasm");
}

/**
 * The worker runtimes JavaScript and TypeScript steps run on, one per
 * memory limit: QuickJS's memory is capped per worker (a
 * `WebAssembly.Memory` with a maximum), so steps with different limits
 * need different workers.
 */
export function javascriptRuntimes(): (memoryMb: number) => WorkerRuntime {
  const quickjsWasm = quickjsWasmPath();
  const byLimit = new Map<number, WorkerRuntime>();
  return (memoryMb) => {
    const pages = Math.max(256, Math.floor(memoryMb * 16)); // 64 KiB pages; QuickJS needs 16 MiB
    let runtime = byLimit.get(pages);
    if (!runtime) {
      const init: JavaScriptInit = { quickjsWasm, memoryPages: pages };
      runtime = {
        id: pages === DEFAULT_STEP_MEMORY_MB * 16 ? "javascript" : `javascript (${memoryMb} MiB)`,
        languages: ["javascript", "typescript"],
        moduleUrl: new URL("./javascript_worker.ts", import.meta.url),
        read: [quickjsWasm],
        init: () => init,
      };
      byLimit.set(pages, runtime);
    }
    return runtime;
  };
}

/** Creates the JavaScript runner on top of a step host. */
export function javascriptRunner(
  host: StepHost,
  runtimes: (memoryMb: number) => WorkerRuntime,
): CheckingRunner {
  return {
    language: "javascript",
    warmUp: (count, _workflow, memoryMb) =>
      host.warmUp(runtimes(memoryMb ?? DEFAULT_STEP_MEMORY_MB), count),
    reportsStart: true,
    // On the worker the run warms up anyway: QuickJS is loaded once, off this thread.
    checkSyntax: (steps, _workflow, options) =>
      checkOnWorker(
        host,
        runtimes(options.memoryMb ?? DEFAULT_STEP_MEMORY_MB),
        steps,
        options.signal,
      ),
    run: (ctx) =>
      runOnWorker(host, runtimes(stepMemoryMb(ctx)), ctx, {
        env: ctx.env ?? {},
        result: ctx.step.result,
      }),
  };
}

/**
 * Lua steps: run on wasmoon in the step host's workers (see lua_worker.ts).
 *
 * @module
 */

import { luaWasmPath } from "../lua/wasmoon.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import { type Runner, stepMemoryMb } from "../engine/runner.ts";
import { runOnWorker } from "./_worker_job.ts";

/** Creates the Lua runner on top of a step host. */
export function luaRunner(host: StepHost): Runner {
  const wasmPath = luaWasmPath();
  const runtime: WorkerRuntime = {
    id: "lua",
    languages: ["lua"],
    moduleUrl: new URL("./lua_worker.ts", import.meta.url),
    read: [wasmPath],
    init: () => ({ wasmPath }),
  };
  return {
    language: "lua",
    warmUp: (count) => host.warmUp(runtime, count),
    reportsStart: true,
    run: (ctx) =>
      runOnWorker(host, runtime, ctx, { memoryMb: stepMemoryMb(ctx), env: ctx.env ?? {} }),
  };
}

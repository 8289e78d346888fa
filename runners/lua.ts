/**
 * Lua steps: run on wasmoon in the step host's workers (see lua_worker.ts).
 *
 * @module
 */

import { luaLoadedHere, luaWasmPath } from "../lua/wasmoon.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import { stepMemoryMb } from "../engine/runner.ts";
import type { Step } from "../workflow/model.ts";
import { checkOnWorker, runOnWorker } from "./_worker_job.ts";
import { luaProblems } from "./_lua_lines.ts";
import type { CheckingRunner, SyntaxProblem } from "./syntax.ts";

/**
 * Parses Lua steps with the sandbox's loader on this thread, running none:
 * what `hwfe run` does when it has just evaluated the workflow file here.
 */
export async function luaSyntax(steps: Step[]): Promise<SyntaxProblem[]> {
  const { compileLuaChunks } = await import("../lua/sandbox.ts");
  return await luaProblems(
    steps.map((step) => ({ step: step.name, code: step.code ?? "" })),
    compileLuaChunks,
  );
}

/** The workers Lua steps run on: wasmoon, which reads its `glue.wasm`. */
export function luaRuntime(): WorkerRuntime {
  const wasmPath = luaWasmPath();
  return {
    id: "lua",
    languages: ["lua"],
    moduleUrl: new URL("./lua_worker.ts", import.meta.url),
    read: [wasmPath],
    init: () => ({ wasmPath }),
  };
}

/** Creates the Lua runner on top of a step host. */
export function luaRunner(host: StepHost): CheckingRunner {
  const runtime = luaRuntime();
  return {
    language: "lua",
    warmUp: (count) => host.warmUp(runtime, count),
    reportsStart: true,
    // Here when Lua is loaded here (the workflow file was just evaluated), else on the
    // worker the run warms up anyway: loading Lua here would cost 0.1-0.2 s.
    checkSyntax: (steps, _workflow, { signal }) =>
      luaLoadedHere() ? luaSyntax(steps) : checkOnWorker(host, runtime, steps, signal),
    run: (ctx) =>
      runOnWorker(host, runtime, ctx, { memoryMb: stepMemoryMb(ctx), env: ctx.env ?? {} }),
  };
}

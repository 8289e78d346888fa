/**
 * Lua steps: run on wasmoon in the step host's workers (see lua_worker.ts).
 *
 * @module
 */

import { luaWasmPath } from "../lua/wasmoon.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import { stepMemoryMb } from "../engine/runner.ts";
import type { Step } from "../workflow/model.ts";
import { runOnWorker } from "./_worker_job.ts";
import { luaSyntaxProblem } from "./_lua_lines.ts";
import type { CheckingRunner, SyntaxProblem } from "./syntax.ts";

/**
 * Parses Lua steps with the sandbox's loader on this thread, running none:
 * wasmoon is loaded here only when no workflow file was evaluated before.
 */
export async function luaSyntax(steps: Step[]): Promise<SyntaxProblem[]> {
  const { compileLuaChunks } = await import("../lua/sandbox.ts");
  const labels = steps.map((step) => `[step ${step.name}]`);
  const errors = await compileLuaChunks(
    steps.map((step, i) => ({ chunkName: `=${labels[i]}`, code: step.code ?? "" })),
  );
  return errors.flatMap((error, i) =>
    error === undefined ? [] : [{ step: steps[i].name, ...luaSyntaxProblem(error, labels[i]) }]
  );
}

/** Creates the Lua runner on top of a step host. */
export function luaRunner(host: StepHost): CheckingRunner {
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
    checkSyntax: (steps) => luaSyntax(steps),
    run: (ctx) =>
      runOnWorker(host, runtime, ctx, { memoryMb: stepMemoryMb(ctx), env: ctx.env ?? {} }),
  };
}

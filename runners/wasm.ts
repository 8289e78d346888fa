/**
 * WebAssembly steps: the module is read here (relative to the workflow
 * file, else the working directory, as the reference engine resolved
 * paths) and run in a step-host worker with no Deno permissions at all
 * (see wasm_worker.ts for the calling conventions).
 *
 * @module
 */

import { dirname, isAbsolute, relative, resolve } from "node:path";
import { within } from "../lib/grants.ts";
import { StepError } from "../lib/errors.ts";
import type { StepHost, WorkerRuntime } from "../lib/step_host.ts";
import type { Step, Workflow } from "../lib/workflow.ts";
import type { WasmJob } from "./wasm_worker.ts";
import { type Runner, stepMemoryMb } from "./types.ts";
import { runOnWorker } from "./worker_runner.ts";

/** The paths tried for a step's `module`, in order. */
export function modulePaths(module: string, workflowFile?: string): string[] {
  if (isAbsolute(module)) return [module];
  const paths = workflowFile ? [resolve(dirname(workflowFile), module)] : [];
  const fromCwd = resolve(module);
  return paths.includes(fromCwd) ? paths : [...paths, fromCwd];
}

async function readModule(step: Step, workflow: Workflow): Promise<Uint8Array> {
  const tried = modulePaths(step.module!, workflow.file);
  for (const path of tried) {
    try {
      return await Deno.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw new StepError(
        `step '${step.name}' (wasm): cannot read module ${path}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
  }
  throw new StepError(
    `step '${step.name}' (wasm): module '${step.module}' not found (looked for ${
      tried.join(" and ")
    })`,
  );
}

/**
 * The granted directories to pre-open, each under its absolute path and,
 * inside the working directory, its relative one ("." for the directory
 * itself), so that a module finds `data/x.csv` and `/abs/data/x.csv`.
 */
export function preopenDirs(paths: string[]): { path: string; as: string[] }[] {
  const cwd = Deno.cwd();
  return [...new Set(paths)].filter((path) => {
    try {
      return Deno.statSync(path).isDirectory;
    } catch {
      return false;
    }
  }).map((path) => ({
    path,
    as: within(path, cwd) ? [path, relative(cwd, path) || "."] : [path],
  }));
}

/** Creates the WebAssembly runner on top of a step host. */
export function wasmRunner(host: StepHost): Runner {
  const runtime: WorkerRuntime = {
    id: "wasm",
    // A child process: a wasm loop cannot be interrupted, only killed.
    isolation: "process",
    moduleUrl: new URL("./wasm_worker.ts", import.meta.url),
    read: [],
  };
  return {
    language: "wasm",
    warmUp: (count) => host.warmUp(runtime, count),
    reportsStart: true,
    async run(ctx) {
      const { step, workflow } = ctx;
      const extra: WasmJob = {
        moduleName: step.module ?? `<step ${step.name}>.wat`,
        func: step.func ?? "run",
        inputCount: ctx.inputsByName.size,
        memoryMb: stepMemoryMb(ctx),
        env: ctx.env ?? {},
        preopens: ctx.access && preopenDirs([...ctx.access.read, ...ctx.access.write]),
        ...(step.module !== undefined
          ? { bytes: await readModule(step, workflow) }
          : { wat: step.code ?? "" }),
      };
      return await runOnWorker(host, runtime, ctx, extra);
    },
  };
}

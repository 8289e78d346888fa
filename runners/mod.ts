/**
 * The runner registry: an explicit map from language to runner.
 * A language of the workflow format without an entry here cannot run yet.
 *
 * @module
 */

import type { StepHost } from "../host/pool.ts";
import type { Language } from "../workflow/model.ts";
import { javascriptRunner, javascriptRuntimes } from "./javascript.ts";
import { typescriptRunner } from "./typescript.ts";
import { luaRunner } from "./lua.ts";
import { pythonChecks, pythonRunner } from "./python.ts";
import { shellChecks, shellRunner } from "./shell.ts";
import { wasmChecks, wasmRunner } from "./wasm.ts";
import type { CheckRegistry, RunnerEvents, StepChecks } from "../engine/runner.ts";
import type { CheckingRunner } from "./syntax.ts";

/** Runners by language, each of which can also parse its steps (syntax.ts). */
export type CheckingRegistry = ReadonlyMap<Language, CheckingRunner>;

/** Options of {@link createRunners}. */
export interface RunnerOptions extends RunnerEvents {
  /** hwfe's cache directory (Python's start-up snapshot); undefined: no cache. */
  cacheDir?: string;
  /** Run Python workers in child processes (default true; wasm always runs in one). */
  isolate?: boolean;
  /** The largest wasm module file read, in bytes; default 256 MiB. */
  maxModuleBytes?: number;
}

/** Creates the runners of every language this build supports. */
export function createRunners(host: StepHost, options: RunnerOptions = {}): CheckingRegistry {
  const quickjs = javascriptRuntimes(); // JavaScript and TypeScript share these workers
  return new Map<Language, CheckingRunner>([
    ["lua", luaRunner(host)],
    ["python", pythonRunner(host, options)],
    ["javascript", javascriptRunner(host, quickjs)],
    ["typescript", typescriptRunner(host, quickjs, options)],
    ["shell", shellRunner],
    ["wasm", wasmRunner(host, { maxModuleBytes: options.maxModuleBytes })],
  ]);
}

/**
 * What every language can check of a step before anything runs, without a
 * runtime: validation uses these, a run its runners (which include them).
 * Lua, JavaScript and TypeScript steps have nothing to check.
 */
export function stepChecks(options: Pick<RunnerOptions, "maxModuleBytes"> = {}): CheckRegistry {
  return new Map<Language, StepChecks>([
    ["lua", {}],
    ["python", pythonChecks],
    ["javascript", {}],
    ["typescript", {}],
    ["shell", shellChecks],
    ["wasm", wasmChecks({ maxModuleBytes: options.maxModuleBytes })],
  ]);
}

/**
 * Every worker module, as imports that are never called. They keep the
 * modules, and the npm packages those import, in the module graph of any
 * program that loads hwfe, so Deno has them in its cache before a step
 * child needs them: a child never downloads anything (host/child_process.ts).
 */
export const WORKER_MODULES: Readonly<Record<string, () => Promise<unknown>>> = {
  lua: () => import("./lua_worker.ts"),
  python: () => import("./python_worker.ts"),
  javascript: () => import("./javascript_worker.ts"),
  typescript: () => import("./typescript_worker.ts"),
  wasm: () => import("./wasm_worker.ts"),
};

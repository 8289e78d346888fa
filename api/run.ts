/**
 * One run, end to end: plan, check grants, start the step host, schedule,
 * and shut the workers down.
 *
 * @module
 */

import { defaultCacheDir } from "../_util/cache.ts";
import type { ExecutionMode, OnFailure, RunEvent, RunResult, Strategy } from "../engine/events.ts";
import { type Plan, planLevels } from "../workflow/plan.ts";
import { assertWorkerOptions } from "../host/program.ts";
import { checkRunnable, schedule } from "../engine/scheduler.ts";
import { StepHost } from "../host/pool.ts";
import type { Language, Workflow } from "../workflow/workflow.ts";
import { createRunners } from "../runners/mod.ts";
import type { Grants, RunnerRegistry } from "../engine/runner.ts";

/**
 * Options of {@link runWorkflow} and {@link streamWorkflow}: the `hwfe run`
 * flags and `[execution]` settings, for code.
 *
 * @example Parallel, with limits, grants and a deadline
 * ```ts
 * import { defineWorkflow, type RunOptions, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: {
 *     a: { code: "function run() return 1 end" },
 *     b: { code: "function run() return 2 end" },
 *   },
 * });
 * const options: RunOptions = {
 *   mode: "parallel",
 *   strategy: "eager",
 *   maxParallel: 2,
 *   stepTimeout: 60,
 *   stepMemoryMb: 256,
 *   grants: { run: false },
 *   signal: AbortSignal.timeout(30_000),
 * };
 * console.log((await runWorkflow(workflow, options)).status); // "succeeded"
 * ```
 */
export interface RunOptions {
  /** "sequential" (default) or "parallel". */
  mode?: ExecutionMode;
  /**
   * "levels" (default, as the reference engine): a level starts once the one
   * before has finished; "eager": a step starts once its own dependencies have.
   */
  strategy?: Strategy;
  /** Most steps at once in parallel mode; default 4. */
  maxParallel?: number;

  /** What a failing step does to the rest of the run; default "cancel". */
  onFailure?: OnFailure;
  /** After a failure, let independent branches finish: `onFailure: "keep_going"`. */
  keepGoing?: boolean;
  /** Timeout in seconds for steps that set none. */
  stepTimeout?: number;
  /** Largest result a step may return, in bytes of JSON; default 64 MiB. */
  maxResultBytes?: number;
  /** Memory limit in MiB for steps without `memory_mb` (in-process default: 1 GiB). */
  stepMemoryMb?: number;
  /** Most output (characters) one step may write; default 64 Mi. */
  maxOutputChars?: number;
  /** The largest wasm module file a step may name, in bytes; default 256 MiB. */
  maxModuleBytes?: number;
  /**
   * Run Python steps in child processes (the default), so that a step that
   * exhausts its JavaScript heap or is stuck in C fails alone. false: in
   * this process, about 0.25 s faster to start, but such a step aborts the
   * whole process. Without permission to start Deno, always in-process.
   */
  isolate?: boolean;
  /** What steps may do; nothing by default. */
  grants?: Partial<Grants>;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
  /** Called for every change of state. */
  onEvent?: (event: RunEvent) => void;
  /**
   * hwfe's cache directory (Python's start-up snapshot); default
   * `HWFE_CACHE_DIR` or the user cache directory; false for none.
   */
  cacheDir?: string | false;
}

/**
 * Runs a validated workflow. Throws before anything starts when a step's
 * language cannot run ({@link WorkflowError}) or a step needs a grant not
 * given ({@link PermissionError}); a failing step does not throw, it shows
 * in the result. Aborting `signal` stops the running steps and resolves
 * with status "cancelled".
 *
 * @example Results flow from step to step, across languages
 * ```ts
 * import { defineWorkflow, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   name: "polyglot",
 *   steps: {
 *     numbers: { language: "lua", code: "function run() return { 1, 2, 3 } end" },
 *     total: {
 *       language: "javascript",
 *       depends_on: ["numbers"],
 *       code: "function run(inputs) { return inputs.numbers.reduce((a, b) => a + b, 0); }",
 *     },
 *   },
 * });
 * const result = await runWorkflow(workflow, { mode: "parallel" });
 * console.log(result.steps.find((s) => s.name === "total")?.result); // "6"
 * ```
 *
 * @example Cancel a run
 * ```ts
 * import { defineWorkflow, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { spin: { code: "function run() while true do end end" } } });
 * const controller = new AbortController();
 * const running = runWorkflow(workflow, {
 *   signal: controller.signal,
 *   onEvent: (event) => event.type === "step_started" && controller.abort(),
 * });
 * console.log((await running).status); // "cancelled"
 * ```
 */
export async function runWorkflow(
  workflow: Workflow,
  options: RunOptions = {},
): Promise<RunResult> {
  const mode = options.mode ?? "sequential";
  const maxParallel = mode === "sequential" ? 1 : options.maxParallel ?? 4;
  const grants: Grants = { run: false, ...options.grants };
  assertWorkerOptions(); // a worker without it would end the whole process
  const plan = planLevels(workflow.steps.values());
  const host = new StepHost(maxParallel);
  const emit = options.onEvent ?? (() => {});
  let runners: RunnerRegistry | undefined;
  try {
    runners = createRunners(host, {
      cacheDir: options.cacheDir === false ? undefined : options.cacheDir ?? defaultCacheDir(),
      isolate: options.isolate,
      maxModuleBytes: options.maxModuleBytes,
      onWarning: (message) => emit({ type: "warning", message }),
      onRuntimeStarted: (start) => emit({ type: "runtime_started", ...start }),
    });
    checkRunnable(workflow, runners, grants);
    // Runtimes start loading now, in the background, overlapping earlier levels.
    for (const [language, count] of widestLevels(workflow, plan, maxParallel)) {
      runners.get(language)?.warmUp?.(count, workflow, options.stepMemoryMb);
    }
    return await schedule(workflow, plan, runners, {
      mode,
      strategy: options.strategy,
      maxParallel,
      onFailure: options.onFailure ?? (options.keepGoing ? "keep_going" : undefined),
      stepTimeout: options.stepTimeout,
      maxResultBytes: options.maxResultBytes,
      stepMemoryMb: options.stepMemoryMb,
      maxOutputChars: options.maxOutputChars,
      grants,
      signal: options.signal,
      onEvent: options.onEvent,
    });
  } finally {
    host.dispose();
    await Promise.all([...runners?.values() ?? []].map((runner) => runner.close?.()));
  }
}

/** For each language, the most of its steps that can run at once. */
function widestLevels(workflow: Workflow, plan: Plan, maxParallel: number): Map<Language, number> {
  const widest = new Map<Language, number>();
  for (const level of plan.levels) {
    const counts = new Map<Language, number>();
    for (const name of level) {
      const language = workflow.steps.get(name)!.language;
      counts.set(language, (counts.get(language) ?? 0) + 1);
    }
    for (const [language, count] of counts) {
      widest.set(language, Math.min(maxParallel, Math.max(count, widest.get(language) ?? 0)));
    }
  }
  return widest;
}

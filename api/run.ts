/**
 * One run, end to end: plan, check grants, start the step host, schedule,
 * and shut the workers down.
 *
 * @module
 */

import { defaultCacheDir } from "../_util/cache.ts";
import type { RunResult } from "../engine/events.ts";
import type { RunOptions } from "../engine/options.ts";
import { DEFAULT_SETTINGS, parallelism } from "../engine/settings.ts";
import { type Plan, planLevels } from "../workflow/plan.ts";
import { assertWorkerOptions } from "../host/program.ts";
import { checkRunnable, schedule } from "../engine/scheduler.ts";
import { StepHost } from "../host/pool.ts";
import type { Language, Workflow } from "../workflow/model.ts";
import { type CheckingRegistry, createRunners } from "../runners/mod.ts";
import type { Grants } from "../engine/runner.ts";
import { WorkflowProblems } from "../workflow/problems.ts";
import { checkCode } from "./check.ts";

/**
 * Runs a validated workflow. Throws before anything starts when a step's
 * language cannot run or its code does not parse ({@link WorkflowError};
 * Python's code is parsed as its steps run) or a step needs a grant not
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
  const maxParallel = parallelism(options.mode, options.maxParallel, navigator.hardwareConcurrency);
  const grants: Grants = { run: false, ...options.grants };
  assertWorkerOptions(); // a worker without it would end the whole process
  const plan = planLevels(workflow.steps.values());
  // Steps whose results are given do not run: nothing to check, parse or warm up for them.
  const given = options.reuse?.given;
  const running = given?.size ? withoutSteps(workflow, given) : workflow;
  const host = new StepHost(maxParallel);
  const emit = options.onEvent ?? (() => {});
  const cacheDir = options.cacheDir === false ? undefined : options.cacheDir ?? defaultCacheDir();
  let runners: CheckingRegistry | undefined;
  let parsed: Promise<void> | undefined;
  try {
    runners = createRunners(host, {
      cacheDir,
      isolate: options.isolate,
      maxModuleBytes: options.maxModuleBytes,
      onWarning: (message) => emit({ type: "warning", message }),
      onRuntimeStarting: (runtime) => emit({ type: "runtime_starting", runtime }),
      onRuntimeStarted: (start) => emit({ type: "runtime_started", ...start }),
    });
    checkRunnable(running, runners, grants);
    // Runtimes start loading now, in the background, overlapping the check and
    // earlier levels; Python, slow to start (and saying so), once the check has passed.
    const widest = widestLevels(running, plan, maxParallel);
    const warmUp = (python: boolean) => {
      for (const [language, count] of widest) {
        if ((language === "python") !== python) continue;
        runners?.get(language)?.warmUp?.(count, running, options.stepMemoryMb);
      }
    };
    warmUp(false);
    // Every step's code parses (but Python's, whose runtime is slow to start) before any runs.
    const code = await checkCode(running, runners, {
      cacheDir,
      memoryMb: options.stepMemoryMb,
      signal: options.signal,
    });
    parsed = code.saved;
    for (const message of code.warnings) emit({ type: "warning", message });
    if (code.problems.length) throw new WorkflowProblems(code.problems);
    warmUp(true);
    return await schedule(workflow, plan, runners, {
      ...options,
      mode: options.mode ?? DEFAULT_SETTINGS.mode,
      maxParallel,
      onFailure: options.onFailure ?? (options.keepGoing ? "keep_going" : undefined),
      grants,
    });
  } finally {
    host.dispose();
    await Promise.all([...runners?.values() ?? []].map((runner) => runner.close?.()));
    await parsed;
  }
}

/** The workflow without the steps `names` (for checks only: dependencies may dangle). */
function withoutSteps(workflow: Workflow, names: ReadonlyMap<string, unknown>): Workflow {
  const steps = new Map([...workflow.steps].filter(([name]) => !names.has(name)));
  return { ...workflow, steps };
}

/** For each language, the most of its steps that can run at once. */
function widestLevels(workflow: Workflow, plan: Plan, maxParallel: number): Map<Language, number> {
  const widest = new Map<Language, number>();
  for (const level of plan.levels) {
    const counts = new Map<Language, number>();
    for (const name of level) {
      const language = workflow.steps.get(name)?.language;
      if (language) counts.set(language, (counts.get(language) ?? 0) + 1);
    }
    for (const [language, count] of counts) {
      widest.set(language, Math.min(maxParallel, Math.max(count, widest.get(language) ?? 0)));
    }
  }
  return widest;
}

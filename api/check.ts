/**
 * The library's verbs beyond loading and running: validate a workflow,
 * plan it, and run it as a stream of events. `mod.ts` re-exports them.
 *
 * @module
 */

import type { RunEvent, RunResult } from "../engine/events.ts";
import type { Grants } from "../engine/grants.ts";
import { type Plan, planLevels } from "../workflow/plan.ts";
import type { RunOptions } from "../engine/options.ts";
import { runWorkflow } from "./run.ts";
import { checkRunnable } from "../engine/scheduler.ts";
import { StepHost } from "../host/pool.ts";
import type { Workflow } from "../workflow/workflow.ts";
import { createRunners } from "../runners/mod.ts";

/**
 * Options of {@link validateWorkflow}.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type ValidateOptions, validateWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { language: "shell", code: "true" } } });
 * const options: ValidateOptions = { grants: { run: true } };
 * validateWorkflow(workflow, options);
 * ```
 */
export interface ValidateOptions {
  /**
   * Also check that these grants cover every step (what {@link runWorkflow}
   * checks before it starts); without them only the languages are checked.
   */
  grants?: Partial<Grants>;
  /** The largest wasm module file a step may name, in bytes; default 256 MiB. */
  maxModuleBytes?: number;
}

/**
 * Checks, without running anything, that every step's language can run as
 * declared and, given `grants`, that the grants cover every step. Returns
 * the plan. Throws {@link WorkflowError} listing every step that cannot run,
 * or {@link PermissionError} naming the missing grants.
 *
 * @example Validate before running
 * ```ts
 * import { defineWorkflow, validateWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   name: "check",
 *   steps: { list: { language: "shell", code: "ls" } },
 * });
 * validateWorkflow(workflow); // the languages are fine
 * try {
 *   validateWorkflow(workflow, { grants: {} }); // but shell steps need `run`
 * } catch (error) {
 *   console.log((error as Error).message); // step 'list' (shell) needs grants: { run: true }
 * }
 * ```
 */
export function validateWorkflow(workflow: Workflow, options: ValidateOptions = {}): Plan {
  const host = new StepHost(1);
  try {
    checkRunnable(
      workflow,
      createRunners(host, { maxModuleBytes: options.maxModuleBytes }),
      options.grants && { run: false, ...options.grants },
    );
  } finally {
    host.dispose();
  }
  return planWorkflow(workflow);
}

/**
 * The workflow's dependency levels: level 1 holds the steps without
 * dependencies, and each other step is one level below its deepest
 * dependency. Names are sorted inside each level.
 *
 * @example
 * ```ts
 * import { defineWorkflow, planWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: {
 *     fetch: { code: "function run() return 1 end" },
 *     parse: { code: "function run() return 2 end" },
 *     report: { depends_on: ["fetch", "parse"], code: "function run() return 3 end" },
 *   },
 * });
 * console.log(planWorkflow(workflow).levels); // [["fetch", "parse"], ["report"]]
 * ```
 */
export function planWorkflow(workflow: Workflow): Plan {
  return planLevels(workflow.steps.values());
}

/**
 * A run in progress: iterate it for its events, in order, as they happen;
 * `result` settles when the run is over (whether or not anyone iterates).
 *
 * @example Only the result
 * ```ts
 * import { defineWorkflow, type RunStream, streamWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { code: "function run() return 1 end" } } });
 * const run: RunStream = streamWorkflow(workflow);
 * console.log((await run.result).status); // "succeeded"
 * ```
 */
export interface RunStream extends AsyncIterable<RunEvent> {
  /** The outcome; rejects as {@link runWorkflow} would throw. */
  readonly result: Promise<RunResult>;
}

/**
 * Starts a run and returns its events as an async iterable, plus the
 * result. Events are buffered, so none is lost if iteration starts late;
 * iteration ends after the last event, and throws if the run could not
 * start. Options are those of {@link runWorkflow}; an `onEvent` given
 * there is called too.
 *
 * @example Follow steps as they change state
 * ```ts
 * import { defineWorkflow, streamWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   name: "stream",
 *   steps: {
 *     a: { code: "function run() return 1 end" },
 *     b: { depends_on: ["a"], code: "function run(inputs) return inputs.a + 1 end" },
 *   },
 * });
 * const run = streamWorkflow(workflow, { mode: "parallel" });
 * for await (const event of run) {
 *   if (event.type === "step_finished") console.log(event.report.name, event.report.status);
 * }
 * console.log((await run.result).status); // "succeeded"
 * ```
 */
export function streamWorkflow(workflow: Workflow, options: RunOptions = {}): RunStream {
  const events: RunEvent[] = [];
  let changed = Promise.withResolvers<void>();
  const notify = () => {
    const settled = changed;
    changed = Promise.withResolvers<void>();
    settled.resolve();
  };
  let done = false;
  const result = runWorkflow(workflow, {
    ...options,
    onEvent: (event) => {
      options.onEvent?.(event);
      events.push(event);
      notify();
    },
  });
  result.then(() => {}, () => {}).finally(() => {
    done = true;
    notify();
  });
  return {
    result,
    async *[Symbol.asyncIterator]() {
      for (let next = 0;;) {
        if (next < events.length) {
          yield events[next++];
        } else if (done) {
          await result; // a run that could not start throws here
          return;
        } else {
          await changed.promise;
        }
      }
    },
  };
}

/**
 * A run as a stream of events: iterate them as they happen, await the result.
 *
 * @module
 */

import type { RunEvent, RunResult } from "../engine/events.ts";
import type { RunOptions } from "../engine/options.ts";
import { runWorkflow } from "./run.ts";
import type { Workflow } from "../workflow/model.ts";

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

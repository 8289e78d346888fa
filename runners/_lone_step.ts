/**
 * A context for running one step on its own, with no inputs: how the
 * runners' tests and benchmarks call a runner without the scheduler.
 *
 * @module
 */

import type { Workflow } from "../workflow/model.ts";
import type { StepContext } from "../engine/runner.ts";

/** The context of step `name` of `workflow` with no inputs; `overrides` replaces any part. */
export function loneStep(
  workflow: Workflow,
  name: string,
  overrides: Partial<StepContext> = {},
): StepContext {
  return {
    step: workflow.steps.get(name)!,
    workflow,
    inputs: "{}",
    inputsByName: new Map(),
    signal: new AbortController().signal,
    started: () => {},
    write: () => {},
    grants: { run: false },
    ...overrides,
  };
}

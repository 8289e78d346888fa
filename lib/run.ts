/**
 * One run, end to end: plan, check grants, start the step host, schedule,
 * and shut the workers down.
 *
 * @module
 */

import type { RunEvent, RunResult } from "./events.ts";
import { planLevels } from "./plan.ts";
import { checkRunnable, schedule, type ScheduleOptions } from "./scheduler.ts";
import { StepHost } from "./step_host.ts";
import type { Workflow } from "./workflow.ts";
import { createRunners } from "../runners/mod.ts";
import type { Grants } from "../runners/types.ts";

/** Options of {@link runWorkflow}. */
export interface RunOptions {
  /** "sequential" (default) or "parallel". */
  mode?: ScheduleOptions["mode"];
  /** Most steps at once in parallel mode; default 4. */
  maxParallel?: number;
  /** After a failure, let independent branches finish. */
  keepGoing?: boolean;
  /** Timeout in seconds for steps that set none. */
  stepTimeout?: number;
  /** What steps may do; nothing by default. */
  grants?: Partial<Grants>;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
  /** Called for every change of state. */
  onEvent?: (event: RunEvent) => void;
}

/**
 * Runs a validated workflow. Throws before anything starts when a step's
 * language cannot run or a step needs a grant not given (PermissionError);
 * a failing step does not throw, it shows in the result.
 */
export async function runWorkflow(
  workflow: Workflow,
  options: RunOptions = {},
): Promise<RunResult> {
  const mode = options.mode ?? "sequential";
  const maxParallel = mode === "sequential" ? 1 : options.maxParallel ?? 4;
  const grants: Grants = { run: false, ...options.grants };
  const plan = planLevels(workflow.steps.values());
  const host = new StepHost(maxParallel);
  try {
    const runners = createRunners(host);
    checkRunnable(workflow, runners, grants);
    const languages = new Set([...workflow.steps.values()].map((step) => step.language));
    for (const language of languages) runners.get(language)?.warmUp?.();
    return await schedule(workflow, plan, runners, {
      mode,
      maxParallel,
      keepGoing: options.keepGoing,
      stepTimeout: options.stepTimeout,
      grants,
      signal: options.signal,
      onEvent: options.onEvent,
    });
  } finally {
    host.dispose();
  }
}

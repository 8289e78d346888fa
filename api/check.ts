/**
 * Checking a workflow without running it: whether every step can run as
 * declared (and with which grants), and its plan.
 *
 * @module
 */

import type { Grants } from "../engine/grants.ts";
import { type Plan, planLevels } from "../workflow/plan.ts";
import { checkRunnable } from "../engine/scheduler.ts";
import type { Workflow } from "../workflow/model.ts";
import { stepChecks } from "../runners/mod.ts";

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
  checkRunnable(
    workflow,
    stepChecks({ maxModuleBytes: options.maxModuleBytes }),
    options.grants && { run: false, ...options.grants },
  );
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

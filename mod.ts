/**
 * hwfe: a polyglot workflow engine. A workflow is a DAG of steps, each in
 * the language that fits it; results flow from step to step, independent
 * steps run in parallel, and nothing a step does reaches the host unless
 * the run grants it.
 *
 * @example Define a workflow in code and run it
 * ```ts
 * import { defineWorkflow, runWorkflow } from "./mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   name: "hello",
 *   steps: {
 *     greet: { language: "lua", code: 'function run() return { text = "hello" } end' },
 *     shout: {
 *       depends_on: ["greet"],
 *       code: "function run(inputs) return string.upper(inputs.greet.text) end",
 *     },
 *   },
 * });
 * const result = await runWorkflow(workflow);
 * console.log(result.status, result.steps.map((s) => s.result));
 * ```
 *
 * @module
 */

export {
  defineWorkflow,
  LANGUAGES,
  loadWorkflowFile,
  parseWorkflowSource,
} from "./lib/workflow.ts";
export type {
  Language,
  LoadedWorkflow,
  LoadOptions,
  Step,
  StepDefinition,
  StepPermissions,
  Workflow,
  WorkflowDefinition,
} from "./lib/workflow.ts";
export { planWorkflow, streamWorkflow, validateWorkflow } from "./lib/api.ts";
export type { RunStream, ValidateOptions } from "./lib/api.ts";
export type { Plan } from "./lib/plan.ts";
export { runWorkflow } from "./lib/run.ts";
export type { RunOptions } from "./lib/run.ts";
export type {
  ExecutionMode,
  OnFailure,
  RunEvent,
  RunResult,
  RunStatus,
  StepReport,
  StepStatus,
  Strategy,
} from "./lib/events.ts";
export { HwfeError, PermissionError, WorkflowError } from "./lib/errors.ts";
export type { JsonText } from "./lib/json.ts";
export { resultToJson } from "./lib/render.ts";
export type { RuntimeStart } from "./runners/types.ts";
export { ALL_GRANTS } from "./lib/grants.ts";
export type { GrantList, GrantPair, Grants } from "./lib/grants.ts";

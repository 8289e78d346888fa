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

export { LANGUAGES } from "./workflow/model.ts";
export { defineWorkflow } from "./workflow/validate.ts";
export { loadWorkflowFile, parseWorkflowSource } from "./workflow/load.ts";
export type { LoadOptions } from "./workflow/load.ts";
export type { GivenParams } from "./workflow/params.ts";
export type {
  Language,
  LoadedWorkflow,
  ParamValue,
  Step,
  StepDefinition,
  StepPermissions,
  Workflow,
  WorkflowDefinition,
} from "./workflow/model.ts";
export { planWorkflow, validateWorkflow } from "./api/check.ts";
export type { ValidateOptions } from "./api/check.ts";
export { streamWorkflow } from "./api/stream.ts";
export type { RunStream } from "./api/stream.ts";
export type { Plan } from "./workflow/plan.ts";
export { graph, GRAPH_FORMATS } from "./workflow/graph.ts";
export type { GraphFormat } from "./workflow/graph.ts";
export { runWorkflow } from "./api/run.ts";
export type { ReusedResult, RunOptions, StepReuse } from "./engine/options.ts";
export type {
  ExecutionMode,
  OnFailure,
  RunEvent,
  RunResult,
  RunStatus,
  StepReport,
  StepStatus,
  Strategy,
} from "./engine/events.ts";
export { HwfeError, PermissionError, WorkflowError } from "./_util/errors.ts";
export type { JsonText } from "./_util/json.ts";
export { resultToJson } from "./api/result_json.ts";
export type { RuntimeStart } from "./engine/runner.ts";
export { ALL_GRANTS } from "./engine/grants.ts";
export type { GrantList, GrantPair, Grants } from "./engine/grants.ts";

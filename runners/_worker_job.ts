/**
 * What every runner on the step host shares: run a step on a pooled
 * worker and turn the worker's outcome into a result or a StepError.
 *
 * @module
 */

import { StepError } from "../_util/errors.ts";
import type { JsonText } from "../_util/json.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import type { StepContext } from "../engine/runner.ts";
import type { Step } from "../workflow/model.ts";
import { withFileLines } from "../workflow/code_lines.ts";
import { checkedProblems, type CheckJob, type SyntaxProblem } from "./syntax.ts";

/**
 * Runs a step on a worker of `runtime`; resolves to its result as JSON
 * text. Calls `ctx.started()` once a ready worker takes the step (runners
 * using this set `reportsStart`). Steps of different `tenant`s never share
 * a worker.
 */
export async function runOnWorker(
  host: StepHost,
  runtime: WorkerRuntime,
  ctx: StepContext,
  extra?: unknown,
  tenant = "",
): Promise<JsonText> {
  let outcome;
  try {
    outcome = await host.execute(
      runtime,
      {
        step: ctx.step.name,
        code: ctx.step.code ?? "",
        inputs: ctx.inputs,
        // The workflow's parameters: the step's `params` (shell: PARAM_<NAME>).
        params: paramsJson(ctx),
        // Workers cannot ask Deno for the working directory (that needs
        // read access to it); steps with grants resolve paths against it.
        extra: ctx.access ? { ...extra as object, access: ctx.access, cwd: Deno.cwd() } : extra,
      },
      ctx,
      ctx.access,
      // A worker never serves steps granted different variables: what one
      // step leaves in a runtime must not meet another's secrets.
      [tenant, ...Object.keys(ctx.env ?? {}).sort()].join("\n"),
    );
  } catch (error) {
    // The worker died under the step (a crash, a lost process).
    if (!(error instanceof StepError)) throw error;
    throw new StepError(`step '${ctx.step.name}' (${ctx.step.language}): ${error.message}`);
  }
  if (outcome.kind === "result") return outcome.json;
  if (outcome.kind === "interrupted") {
    throw new StepError(`step '${ctx.step.name}' was interrupted`);
  }
  // Lines of the step, as the worker names them, are also shown as lines of the workflow file.
  throw new StepError(
    withFileLines(`step '${ctx.step.name}' ${outcome.message}`, ctx.step, ctx.workflow),
  );
}

/** JSON text of the step's workflow's parameters, made once per workflow. */
const paramsText = new WeakMap<object, JsonText>();
function paramsJson(ctx: StepContext): JsonText {
  const params = ctx.workflow.params ?? {};
  let text = paramsText.get(params);
  if (text === undefined) paramsText.set(params, text = JSON.stringify(params));
  return text;
}

/**
 * Parses `steps` on a worker of `runtime` without running them (the
 * worker's module answers jobs whose extra is a {@link CheckJob}): the
 * warm worker a run starts anyway, so its first step finds it ready.
 */
export async function checkOnWorker(
  host: StepHost,
  runtime: WorkerRuntime,
  steps: Step[],
  signal: AbortSignal = new AbortController().signal,
  extra: object = {},
  tenant = "",
): Promise<SyntaxProblem[]> {
  const check: CheckJob = {
    check: steps.map((step) => ({ step: step.name, code: step.code ?? "" })),
  };
  const outcome = await host.execute(
    runtime,
    { step: "(syntax check)", code: "", inputs: "{}", extra: { ...extra, ...check } },
    { signal, write: () => {} },
    undefined,
    tenant,
  );
  if (outcome.kind === "interrupted") return [];
  if (outcome.kind === "error") {
    throw new StepError(`the ${runtime.id} syntax check failed: ${outcome.message}`);
  }
  return checkedProblems(outcome.json, new Set(steps.map((step) => step.name)));
}

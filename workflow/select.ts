/**
 * Part of a workflow, for `--from` and `--only`: the steps chosen, plus the
 * direct dependencies they need that are not chosen. Those become steps
 * without dependencies, whose results the run is given (from an earlier
 * run) instead of computing them.
 *
 * @module
 */

import { didYouMean, WorkflowError } from "../_util/errors.ts";
import type { Step, Workflow } from "./model.ts";

/** A workflow cut down to some of its steps. */
export interface Selection {
  /** The chosen steps and the dependencies in `given`. */
  workflow: Workflow;
  /** Dependencies of chosen steps that are not chosen: their results must be given. */
  given: string[];
}

/**
 * The step named `name` (checked) and every step downstream of it, in the
 * workflow's order. `flag` names the option in messages.
 */
export function downstreamOf(workflow: Workflow, name: string, flag: string): string[] {
  checkNames(workflow, [name], flag);
  const chosen = new Set([name]);
  let grew = true;
  while (grew) { // at most one pass per level: a valid workflow has no cycle
    grew = false;
    for (const step of workflow.steps.values()) {
      if (!chosen.has(step.name) && step.dependsOn.some((dep) => chosen.has(dep))) {
        chosen.add(step.name);
        grew = true;
      }
    }
  }
  return [...workflow.steps.keys()].filter((step) => chosen.has(step));
}

/**
 * The workflow of just the steps `names` (checked) and, without their own
 * dependencies, the direct dependencies those need that are not among
 * them.
 */
export function selectSteps(workflow: Workflow, names: string[], flag: string): Selection {
  checkNames(workflow, names, flag);
  const chosen = new Set(names);
  const given = new Set<string>();
  for (const name of chosen) {
    for (const dep of workflow.steps.get(name)!.dependsOn) if (!chosen.has(dep)) given.add(dep);
  }
  const steps = new Map<string, Step>();
  for (const [name, step] of workflow.steps) {
    if (chosen.has(name)) steps.set(name, step);
    else if (given.has(name)) steps.set(name, { ...step, dependsOn: [] });
  }
  return { workflow: { ...workflow, steps }, given: [...steps.keys()].filter((n) => given.has(n)) };
}

function checkNames(workflow: Workflow, names: string[], flag: string): void {
  const where = workflow.file ? `${workflow.file}: ` : "";
  const problems = names.filter((name) => !workflow.steps.has(name)).map((name) =>
    `${where}${flag}: no step '${name}' in workflow '${workflow.name}'${
      didYouMean(name, workflow.steps.keys())
    }; its steps: ${[...workflow.steps.keys()].join(", ")}`
  );
  if (names.length === 0) problems.push(`${where}${flag} needs at least one step name`);
  if (problems.length) throw new WorkflowError(problems);
}

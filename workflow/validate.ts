/**
 * Validating a workflow definition into the model (model.ts), the same way
 * for the `workflow` table of a file (load.ts) and a plain object from code.
 *
 * @module
 */

import { didYouMean, WorkflowError } from "../_util/errors.ts";
import { CycleError, planLevels } from "./plan.ts";
import type { LoadedWorkflow, Step, WorkflowDefinition } from "./model.ts";
import { checkStep, type Findings, misspeltField, sink } from "./_check_step.ts";
import { WorkflowProblems } from "./problems.ts";
import { isTable, nameProblem, shown, typeName } from "./_values.ts";
import { checkParams, type GivenParams } from "./params.ts";

const WORKFLOW_FIELDS = ["name", "description", "steps", "version", "params"];

/**
 * Validates a workflow definition (from a file or from code) and returns the
 * model. Throws {@link WorkflowError} listing every problem found.
 *
 * @example
 * ```ts
 * import { defineWorkflow, WorkflowError } from "../mod.ts";
 *
 * try {
 *   defineWorkflow({ steps: { b: { depends_on: ["a"], code: "function run() end" } } });
 * } catch (error) {
 *   if (error instanceof WorkflowError) console.log(error.problems); // step 'b' depends on unknown step 'a'
 * }
 * ```
 */
export function defineWorkflow(definition: WorkflowDefinition, file?: string): LoadedWorkflow {
  return checkDefinition(definition as unknown, file);
}

/**
 * Checks a workflow definition (a file's `workflow` table as JSON, or an
 * object from code) and builds the model. Throws {@link WorkflowError}
 * listing every problem found. `file` starts each message, and names the
 * workflow when the definition does not. `params`: values given for its
 * parameters (`--param`), typed by their defaults.
 */
export function checkDefinition(
  raw: unknown,
  file?: string,
  params: GivenParams = {},
): LoadedWorkflow {
  const found: Findings = { where: file ? `${file}: ` : "", problems: [], warnings: [] };
  if (!isTable(raw)) {
    throw new WorkflowError([`${found.where}'workflow' must be a table, got ${typeName(raw)}`]);
  }
  const name = checkWorkflowFields(raw, file, found);
  const values = checkParams(raw.params, params, String(name), found);
  const rawSteps = stepTable(raw.steps, found);
  const stepNames = Object.keys(rawSteps).sort();
  const steps = new Map<string, Step>();
  for (const stepName of stepNames) {
    checkStepName(stepName, found);
    const step = checkStep(stepName, rawSteps[stepName], found);
    if (step) steps.set(stepName, step);
  }
  checkDependencies(steps, stepNames, found);
  // Only a workflow whose dependencies all exist can be planned.
  if (found.problems.length === 0) checkCycles(steps, found);
  if (found.problems.length) throw new WorkflowProblems(found.problems);

  return {
    workflow: {
      name: name as string,
      description: typeof raw.description === "string" ? raw.description : undefined,
      file,
      steps,
      ...(values ? { params: values } : {}),
    },
    warnings: found.warnings,
  };
}

/**
 * Checks the workflow's own fields; returns its name (from the file name
 * when it gives none), which is a string unless a problem says otherwise.
 */
function checkWorkflowFields(
  raw: Record<string, unknown>,
  file: string | undefined,
  found: Findings,
): unknown {
  const { where, warnings } = found;
  for (const key of Object.keys(raw)) {
    const meant = WORKFLOW_FIELDS.includes(key) ? undefined : misspeltField(key, WORKFLOW_FIELDS);
    if (meant) {
      sink(found, undefined, key).push(
        `${where}unknown workflow field '${shown(key)}' (did you mean '${meant}'?): ` +
          `correct the name, or remove the field`,
      );
    } else if (!WORKFLOW_FIELDS.includes(key)) {
      warnings.push(
        `${where}unknown workflow field '${shown(key)}' is ignored${
          didYouMean(key, WORKFLOW_FIELDS)
        }`,
      );
    }
  }
  const defaultName = file ? file.replace(/^.*[\\/]/, "").replace(/\.lua$/, "") : "workflow";
  const name = raw.name === undefined ? defaultName : raw.name;
  const problems = sink(found, undefined, "name");
  if (typeof name !== "string" || name === "") {
    problems.push(`${where}workflow.name must be a non-empty string, got ${typeName(name)}`);
  } else if (nameProblem(name)) {
    problems.push(
      `${where}workflow.name '${shown(name)}'${
        raw.name === undefined ? " (from the file name; set workflow.name)" : ""
      } ${nameProblem(name)}`,
    );
  }
  if (raw.description !== undefined && typeof raw.description !== "string") {
    sink(found, undefined, "description").push(
      `${where}workflow.description must be a string, got ${typeName(raw.description)}`,
    );
  }
  return name;
}

/**
 * The steps by name; throws, with the problems found so far, when
 * `workflow.steps` is missing, empty or not a table of named steps.
 */
function stepTable(rawSteps: unknown, { where, problems }: Findings): Record<string, unknown> {
  const refused = (problem: string) =>
    new WorkflowProblems([...problems, { message: `${where}${problem}`, field: "steps" }]);
  if (rawSteps === undefined) throw refused("workflow.steps is missing");
  if (Array.isArray(rawSteps) && rawSteps.length > 0) {
    throw refused("workflow.steps must name each step (steps = { my_step = { ... } }), got a list");
  }
  if (!isTable(rawSteps) && !(Array.isArray(rawSteps) && rawSteps.length === 0)) {
    throw refused(`workflow.steps must be a table, got ${typeName(rawSteps)}`);
  }
  // What is left that is not a table is an empty list: `steps = {}` in Lua.
  if (!isTable(rawSteps) || Object.keys(rawSteps).length === 0) {
    throw refused("workflow.steps is empty; add at least one step");
  }
  return rawSteps;
}

function checkStepName(stepName: string, found: Findings): void {
  const { where } = found;
  const problem = nameProblem(stepName);
  if (problem) {
    sink(found, stepName).push(
      stepName === ""
        ? `${where}a step has an empty name (steps = { [""] = { ... } }); give every step a name`
        : `${where}step name '${shown(stepName)}' ${problem}`,
    );
  }
}

/** Dependencies on the step itself or on unknown steps, and repeated ones. */
function checkDependencies(
  steps: Map<string, Step>,
  stepNames: string[],
  found: Findings,
): void {
  const { where, warnings } = found;
  // The names a suggestion may show.
  const printable = stepNames.filter((stepName) => !nameProblem(stepName));
  for (const step of steps.values()) {
    const seen = new Set<string>();
    const at = `${where}step '${shown(step.name)}'`;
    const problems = sink(found, step.name, "depends_on");
    for (const dep of step.dependsOn) {
      if (dep === step.name) {
        problems.push(`${at} depends on itself`);
      } else if (!steps.has(dep) && !stepNames.includes(dep)) {
        problems.push(
          `${at} depends on unknown step '${shown(dep)}'${didYouMean(dep, printable)}`,
        );
      } else if (seen.has(dep)) {
        warnings.push(`${at} lists '${shown(dep)}' in depends_on twice`);
      }
      seen.add(dep);
    }
  }
}

/** A circle in the dependencies, as a problem naming the steps in it. */
function checkCycles(steps: Map<string, Step>, { where, problems }: Findings): void {
  try {
    planLevels(steps.values());
  } catch (error) {
    if (!(error instanceof CycleError)) throw error;
    problems.push({ message: `${where}${error.message}`, field: "depends_on" });
  }
}

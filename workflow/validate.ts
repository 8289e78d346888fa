/**
 * Validating a workflow definition into the model (model.ts), the same way
 * for the `workflow` table of a file (load.ts) and a plain object from code.
 *
 * @module
 */

import { didYouMean, WorkflowError } from "../_util/errors.ts";
import { HOST, hostProblem } from "./net_hosts.ts";
import { CycleError, planLevels } from "./plan.ts";
import {
  type Language,
  LANGUAGE_ALIASES,
  type LoadedWorkflow,
  MAX_MEMORY_MB,
  MAX_TIMEOUT_SECONDS,
  type Step,
  type StepPermissions,
  type WorkflowDefinition,
} from "./model.ts";

/** The languages whose steps take a `result` field (see {@link Step.result}). */
const RESULT_LANGUAGES: readonly string[] = ["shell", "javascript", "typescript"];

const STEP_FIELDS = [
  "language",
  "code",
  "depends_on",
  "description",
  "timeout",
  "module",
  "func",
  "function",
  "retries",
  "retry_delay",
  "continue_on_error",
  "memory_mb",
  "result",
  "permissions",
];
/** Permissions a step may declare. */
const PERMISSION_KINDS = ["env", "read", "write", "net"] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Most retries a step may ask for. */
const MAX_RETRIES = 100;
/** The longest retry_delay: the longest wait between two attempts (engine/scheduler.ts). */
const MAX_RETRY_DELAY = 300;
/**
 * C0 and C1 control characters and DEL. A name holding one would reach the
 * terminal it is printed on as a command (`ESC ]0;title BEL` retitles it).
 */
const CONTROL_CHARACTER = /\p{Cc}/u;
/** Seconds before the first retry when a step gives none. */
const DEFAULT_RETRY_DELAY = 1;
const WORKFLOW_FIELDS = ["name", "description", "steps", "version"];
/** Misspellings of depends_on: an error, since dropping a dependency corrupts a run. */
const DEPENDS_ON_LOOKALIKES = new Set([
  "depend_on",
  "depends",
  "dependson",
  "dependsOn",
  "depends-on",
  "dependencies",
  "dependency",
  "deps",
  "requires",
  "needs",
  "after",
]);
const LUA_TYPE_MARK = "\u0000lua";

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

/** A name or key as messages show it: control characters escaped (`\x1b`), never raw. */
function shown(name: string): string {
  return name.replace(
    /\p{Cc}/gu,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Why `name` cannot name a step or a workflow, or undefined. */
function nameProblem(name: string): string | undefined {
  if (name === "") return "is empty; give it a name";
  if (CONTROL_CHARACTER.test(name)) {
    return "contains control characters, which would reach the terminal it is printed on; " +
      "use printable characters only";
  }
  return undefined;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") {
    const mark = (value as Record<string, unknown>)[LUA_TYPE_MARK];
    return typeof mark === "string" ? `a ${mark}` : "a table";
  }
  return `a ${typeof value}`;
}

const PERMISSION_EXAMPLE =
  `{ read = { "data/" }, net = { "api.example.com" }, env = { "API_TOKEN" } }`;

/** Validates a step's `permissions` table; problems go to `problems`. */
function checkPermissions(raw: unknown, at: string, problems: string[]): StepPermissions {
  const permissions: StepPermissions = { env: [], read: [], write: [], net: [] };
  if (raw === undefined) return permissions;
  if (!isTable(raw)) {
    problems.push(
      `${at}: permissions must be a table such as ${PERMISSION_EXAMPLE}, got ${typeName(raw)}`,
    );
    return permissions;
  }
  for (const [kind, list] of Object.entries(raw)) {
    if (kind === "run") {
      problems.push(
        `${at}: permissions.run is not a step permission: shell steps run when the run is ` +
          `given --allow-run, all or nothing, and other languages cannot start processes`,
      );
      continue;
    }
    if (!(PERMISSION_KINDS as readonly string[]).includes(kind)) {
      problems.push(
        `${at}: unknown permission '${shown(kind)}'${
          didYouMean(kind, [...PERMISSION_KINDS])
        }; known: ${PERMISSION_KINDS.join(", ")}`,
      );
      continue;
    }
    const what = {
      env: "variable names",
      read: "paths",
      write: "paths",
      net: "hosts (name or name:port)",
    }[kind as keyof StepPermissions];
    const items = Array.isArray(list)
      ? list
      : isTable(list) && Object.keys(list).length === 0
      ? []
      : undefined;
    if (!items) {
      problems.push(`${at}: permissions.${kind} must be a list of ${what}, got ${typeName(list)}`);
      continue;
    }
    for (const item of items) {
      const problem = permissionProblem(kind as keyof StepPermissions, item);
      if (problem) problems.push(`${at}: permissions.${kind}: ${problem}`);
      else permissions[kind as keyof StepPermissions].push(item as string);
    }
  }
  return permissions;
}

function permissionProblem(kind: keyof StepPermissions, item: unknown): string | undefined {
  if (typeof item !== "string") {
    return `${typeName(item)} is not a string`;
  }
  switch (kind) {
    case "env":
      return ENV_NAME.test(item)
        ? undefined
        : `'${shown(item)}' is not an environment variable name`;
    case "net":
      return HOST.test(item) ? undefined : hostProblem(shown(item), (alone) => `'${alone}'`);
    default:
      if (item === "" || item.includes("\0")) return `'${shown(item)}' is not a path`;
      // Deno's permission flags separate paths with commas.
      if (item.includes(",")) return `'${shown(item)}': a path with a comma cannot be granted`;
      return undefined;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(LUA_TYPE_MARK in value);
}

/** Where the problems and warnings found while checking a definition go. */
interface Findings {
  /** The start of every message: the file and a colon, or nothing for code. */
  where: string;
  /** Errors: any one refuses the workflow. */
  problems: string[];
  /** Shown, but the workflow still loads. */
  warnings: string[];
}

/**
 * Checks a workflow definition (a file's `workflow` table as JSON, or an
 * object from code) and builds the model. Throws {@link WorkflowError}
 * listing every problem found. `file` starts each message, and names the
 * workflow when the definition does not.
 */
export function checkDefinition(raw: unknown, file?: string): LoadedWorkflow {
  const found: Findings = { where: file ? `${file}: ` : "", problems: [], warnings: [] };
  if (!isTable(raw)) {
    throw new WorkflowError([`${found.where}'workflow' must be a table, got ${typeName(raw)}`]);
  }
  const name = checkWorkflowFields(raw, file, found);
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
  if (found.problems.length) throw new WorkflowError(found.problems);

  return {
    workflow: {
      name: name as string,
      description: typeof raw.description === "string" ? raw.description : undefined,
      file,
      steps,
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
  { where, problems, warnings }: Findings,
): unknown {
  for (const key of Object.keys(raw)) {
    if (!WORKFLOW_FIELDS.includes(key)) {
      warnings.push(
        `${where}unknown workflow field '${shown(key)}' is ignored${
          didYouMean(key, WORKFLOW_FIELDS)
        }`,
      );
    }
  }
  const defaultName = file ? file.replace(/^.*[\\/]/, "").replace(/\.lua$/, "") : "workflow";
  const name = raw.name === undefined ? defaultName : raw.name;
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
    problems.push(
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
  const refused = (problem: string) => new WorkflowError([...problems, `${where}${problem}`]);
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

function checkStepName(stepName: string, { where, problems }: Findings): void {
  const problem = nameProblem(stepName);
  if (problem) {
    problems.push(
      stepName === ""
        ? `${where}a step has an empty name (steps = { [""] = { ... } }); give every step a name`
        : `${where}step name '${shown(stepName)}' ${problem}`,
    );
  }
}

/** Checks one step's table and builds the step; undefined when it is not a table. */
function checkStep(stepName: string, value: unknown, found: Findings): Step | undefined {
  const at = `${found.where}step '${shown(stepName)}'`;
  const { problems } = found;
  if (!isTable(value)) {
    problems.push(`${at} must be a table, got ${typeName(value)}`);
    return undefined;
  }
  checkStepFields(value, at, found);
  const language = stepLanguage(value.language, at, problems);
  const code = value.code;
  if (code !== undefined && typeof code !== "string") {
    problems.push(`${at}: code must be a string, got ${typeName(code)}`);
  } else if (code === undefined && !(language === "wasm" && value.module !== undefined)) {
    problems.push(
      language === "wasm"
        ? `${at}: missing 'module' (path to a .wasm file) or 'code' (WebAssembly text)`
        : `${at}: missing 'code'`,
    );
  }
  const dependsOn = stepDependsOn(value.depends_on, at, problems);
  for (const field of ["description", "module"] as const) {
    if (value[field] !== undefined && typeof value[field] !== "string") {
      problems.push(`${at}: ${field} must be a string, got ${typeName(value[field])}`);
    }
  }
  const { timeout, retries, retryDelay, memoryMb } = stepNumbers(value, at, problems);
  const continueOnError = value.continue_on_error;
  if (continueOnError !== undefined && typeof continueOnError !== "boolean") {
    problems.push(
      `${at}: continue_on_error must be true or false, got ${typeName(continueOnError)}`,
    );
  }
  const result = stepResult(value.result, language, at, problems);
  const permissions = checkPermissions(value.permissions, at, problems);
  const func = stepFunc(value, at, problems);
  return {
    name: stepName,
    language,
    code: typeof code === "string" ? code : undefined,
    dependsOn,
    description: typeof value.description === "string" ? value.description : undefined,
    timeout,
    module: typeof value.module === "string" ? value.module : undefined,
    func,
    retries: retries ?? 0,
    retryDelay: retryDelay ?? DEFAULT_RETRY_DELAY,
    continueOnError: continueOnError === true,
    memoryMb,
    ...(result ? { result } : {}),
    permissions,
  };
}

/**
 * Unknown fields of a step: warnings, except a misspelled depends_on,
 * which is a problem.
 */
function checkStepFields(
  value: Record<string, unknown>,
  at: string,
  { problems, warnings }: Findings,
): void {
  for (const key of Object.keys(value)) {
    if (STEP_FIELDS.includes(key)) continue;
    if (DEPENDS_ON_LOOKALIKES.has(key) || didYouMean(key, ["depends_on"])) {
      problems.push(
        `${at}: unknown field '${
          shown(key)
        }' (did you mean 'depends_on'?); a dropped dependency would corrupt the run`,
      );
    } else {
      warnings.push(
        `${at}: unknown field '${shown(key)}' is ignored${didYouMean(key, STEP_FIELDS)}`,
      );
    }
  }
}

/** The canonical language of a step's `language` field; "lua" when absent or unknown. */
function stepLanguage(spelled: unknown, at: string, problems: string[]): Language {
  if (spelled === undefined) return "lua";
  const known = typeof spelled === "string" ? LANGUAGE_ALIASES[spelled.toLowerCase()] : undefined;
  if (known) return known;
  problems.push(
    `${at}: unknown language ${
      typeof spelled === "string" ? `'${shown(spelled)}'` : typeName(spelled)
    }${
      typeof spelled === "string" ? didYouMean(spelled, Object.keys(LANGUAGE_ALIASES)) : ""
    }; known languages: ${Object.keys(LANGUAGE_ALIASES).join(", ")}`,
  );
  return "lua";
}

/** The step names of a `depends_on` field: one name or a list of them. */
function stepDependsOn(deps: unknown, at: string, problems: string[]): string[] {
  let dependsOn: string[] = [];
  const dependency = (dep: string, label: string) => {
    if (CONTROL_CHARACTER.test(dep)) {
      problems.push(`${at}: ${label} '${shown(dep)}' ${nameProblem(dep)}`);
    } else dependsOn.push(dep);
  };
  if (typeof deps === "string") dependency(deps, "depends_on");
  else if (Array.isArray(deps)) {
    deps.forEach((dep, i) => {
      if (typeof dep === "string") dependency(dep, `depends_on[${i + 1}]`);
      else problems.push(`${at}: depends_on[${i + 1}] must be a step name, got ${typeName(dep)}`);
    });
  } else if (isTable(deps) && Object.keys(deps).length === 0) {
    dependsOn = []; // `depends_on = {}` in Lua
  } else if (deps !== undefined) {
    problems.push(`${at}: depends_on must be a list of step names, got ${typeName(deps)}`);
  }
  return dependsOn;
}

/** A step's numeric settings, each undefined when absent or out of its range. */
function stepNumbers(value: Record<string, unknown>, at: string, problems: string[]) {
  /** The field's value when it is a valid number; a problem when it is set otherwise. */
  const numberField = (
    field: string,
    valid: (n: number) => boolean,
    expected: string,
  ): number | undefined => {
    const v = value[field];
    if (typeof v === "number" && Number.isFinite(v) && valid(v)) return v;
    if (v !== undefined) {
      problems.push(
        `${at}: ${field} must be ${expected}, got ${typeof v === "number" ? v : typeName(v)}`,
      );
    }
    return undefined;
  };
  return {
    timeout: numberField(
      "timeout",
      (n) => n > 0 && n <= MAX_TIMEOUT_SECONDS,
      `a positive number of seconds, at most ${MAX_TIMEOUT_SECONDS} (7 days)`,
    ),
    retries: numberField(
      "retries",
      (n) => Number.isInteger(n) && n >= 0 && n <= MAX_RETRIES,
      `a whole number from 0 to ${MAX_RETRIES}`,
    ),
    retryDelay: numberField(
      "retry_delay",
      (n) => n >= 0 && n <= MAX_RETRY_DELAY,
      `a number of seconds from 0 to ${MAX_RETRY_DELAY} (the longest wait between attempts)`,
    ),
    memoryMb: numberField(
      "memory_mb",
      (n) => n >= 1 && n <= MAX_MEMORY_MB,
      `a number of MiB from 1 to ${MAX_MEMORY_MB}`,
    ),
  };
}

/** A step's `result` field when it is "object" or "json". */
function stepResult(
  result: unknown,
  language: Language,
  at: string,
  problems: string[],
): Step["result"] {
  if (result === undefined) return undefined;
  if (result !== "object" && result !== "json") {
    problems.push(
      `${at}: result must be "object" or "json", got ${
        typeof result === "string" ? `"${shown(result)}"` : typeName(result)
      }`,
    );
    return undefined;
  }
  if (!RESULT_LANGUAGES.includes(language)) {
    problems.push(
      `${at}: result applies to ${RESULT_LANGUAGES.join(", ")} steps only; this one is ${language}`,
    );
  }
  return result;
}

/** A wasm step's exported function, from `func` or its other spelling `function`. */
function stepFunc(
  value: Record<string, unknown>,
  at: string,
  problems: string[],
): string | undefined {
  const func = value.func ?? value.function;
  if (value.func !== undefined && value.function !== undefined) {
    problems.push(`${at}: give either 'func' or 'function', not both`);
  } else if (func !== undefined && typeof func !== "string") {
    problems.push(`${at}: func must be a string, got ${typeName(func)}`);
  }
  return typeof func === "string" ? func : undefined;
}

/** Dependencies on the step itself or on unknown steps, and repeated ones. */
function checkDependencies(
  steps: Map<string, Step>,
  stepNames: string[],
  { where, problems, warnings }: Findings,
): void {
  // The names a suggestion may show.
  const printable = stepNames.filter((stepName) => !nameProblem(stepName));
  for (const step of steps.values()) {
    const seen = new Set<string>();
    const at = `${where}step '${shown(step.name)}'`;
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
    problems.push(`${where}${error.message}`);
  }
}

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
  return validateWorkflow(definition as unknown, file);
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

export function validateWorkflow(raw: unknown, file?: string): LoadedWorkflow {
  const where = file ? `${file}: ` : "";
  const problems: string[] = [];
  const warnings: string[] = [];

  if (!isTable(raw)) {
    throw new WorkflowError([`${where}'workflow' must be a table, got ${typeName(raw)}`]);
  }
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

  const rawSteps = raw.steps;
  if (rawSteps === undefined) {
    throw new WorkflowError([...problems, `${where}workflow.steps is missing`]);
  }
  if (Array.isArray(rawSteps) && rawSteps.length > 0) {
    throw new WorkflowError([
      ...problems,
      `${where}workflow.steps must name each step (steps = { my_step = { ... } }), got a list`,
    ]);
  }
  if (!isTable(rawSteps) && !(Array.isArray(rawSteps) && rawSteps.length === 0)) {
    throw new WorkflowError([
      ...problems,
      `${where}workflow.steps must be a table, got ${typeName(rawSteps)}`,
    ]);
  }
  const stepNames = Array.isArray(rawSteps) ? [] : Object.keys(rawSteps);
  if (stepNames.length === 0) {
    throw new WorkflowError([
      ...problems,
      `${where}workflow.steps is empty; add at least one step`,
    ]);
  }

  stepNames.sort();
  // The names a suggestion may show.
  const printable = stepNames.filter((stepName) => !nameProblem(stepName));
  const steps = new Map<string, Step>();
  for (const stepName of stepNames) {
    const problem = nameProblem(stepName);
    if (problem) {
      problems.push(
        stepName === ""
          ? `${where}a step has an empty name (steps = { [""] = { ... } }); give every step a name`
          : `${where}step name '${shown(stepName)}' ${problem}`,
      );
    }
    const step = validateStep(stepName, (rawSteps as Record<string, unknown>)[stepName]);
    if (step) steps.set(stepName, step);
  }

  function validateStep(stepName: string, value: unknown): Step | undefined {
    const at = `${where}step '${shown(stepName)}'`;
    if (!isTable(value)) {
      problems.push(`${at} must be a table, got ${typeName(value)}`);
      return undefined;
    }
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

    let language: Language = "lua";
    if (value.language !== undefined) {
      const spelled = value.language;
      const known = typeof spelled === "string"
        ? LANGUAGE_ALIASES[spelled.toLowerCase()]
        : undefined;
      if (!known) {
        problems.push(
          `${at}: unknown language ${
            typeof spelled === "string" ? `'${shown(spelled)}'` : typeName(spelled)
          }${
            typeof spelled === "string" ? didYouMean(spelled, Object.keys(LANGUAGE_ALIASES)) : ""
          }; known languages: ${Object.keys(LANGUAGE_ALIASES).join(", ")}`,
        );
      } else language = known;
    }

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

    let dependsOn: string[] = [];
    const deps = value.depends_on;
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

    for (const field of ["description", "module"] as const) {
      if (value[field] !== undefined && typeof value[field] !== "string") {
        problems.push(`${at}: ${field} must be a string, got ${typeName(value[field])}`);
      }
    }
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
    const timeout = numberField(
      "timeout",
      (n) => n > 0 && n <= MAX_TIMEOUT_SECONDS,
      `a positive number of seconds, at most ${MAX_TIMEOUT_SECONDS} (7 days)`,
    );
    const retries = numberField(
      "retries",
      (n) => Number.isInteger(n) && n >= 0 && n <= MAX_RETRIES,
      `a whole number from 0 to ${MAX_RETRIES}`,
    );
    const retryDelay = numberField(
      "retry_delay",
      (n) => n >= 0 && n <= MAX_RETRY_DELAY,
      `a number of seconds from 0 to ${MAX_RETRY_DELAY} (the longest wait between attempts)`,
    );
    const memoryMb = numberField(
      "memory_mb",
      (n) => n >= 1 && n <= MAX_MEMORY_MB,
      `a number of MiB from 1 to ${MAX_MEMORY_MB}`,
    );
    const continueOnError = value.continue_on_error;
    if (continueOnError !== undefined && typeof continueOnError !== "boolean") {
      problems.push(
        `${at}: continue_on_error must be true or false, got ${typeName(continueOnError)}`,
      );
    }
    const result = value.result;
    if (result !== undefined && result !== "object" && result !== "json") {
      problems.push(
        `${at}: result must be "object" or "json", got ${
          typeof result === "string" ? `"${shown(result)}"` : typeName(result)
        }`,
      );
    } else if (result !== undefined && !RESULT_LANGUAGES.includes(language)) {
      problems.push(
        `${at}: result applies to ${
          RESULT_LANGUAGES.join(", ")
        } steps only; this one is ${language}`,
      );
    }
    const permissions = checkPermissions(value.permissions, at, problems);
    const func = value.func ?? value.function;
    if (value.func !== undefined && value.function !== undefined) {
      problems.push(`${at}: give either 'func' or 'function', not both`);
    } else if (func !== undefined && typeof func !== "string") {
      problems.push(`${at}: func must be a string, got ${typeName(func)}`);
    }
    return {
      name: stepName,
      language,
      code: typeof code === "string" ? code : undefined,
      dependsOn,
      description: typeof value.description === "string" ? value.description : undefined,
      timeout,
      module: typeof value.module === "string" ? value.module : undefined,
      func: typeof func === "string" ? func : undefined,
      retries: retries ?? 0,
      retryDelay: retryDelay ?? DEFAULT_RETRY_DELAY,
      continueOnError: continueOnError === true,
      memoryMb,
      ...(result === "object" || result === "json" ? { result } : {}),
      permissions,
    };
  }

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

  if (problems.length === 0) {
    try {
      planLevels(steps.values());
    } catch (error) {
      if (!(error instanceof CycleError)) throw error;
      problems.push(`${where}${error.message}`);
    }
  }
  if (problems.length) throw new WorkflowError(problems);

  return {
    workflow: {
      name: name as string,
      description: typeof raw.description === "string" ? raw.description : undefined,
      file,
      steps,
    },
    warnings,
  };
}

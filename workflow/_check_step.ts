/**
 * Checking one step of a workflow definition (validate.ts checks the
 * workflow around it): its fields, their types and ranges, and the
 * permissions it declares.
 *
 * @module
 */

import { didYouMean, editDistance } from "../_util/errors.ts";
import type { Problem } from "./problems.ts";
import {
  type Language,
  LANGUAGE_ALIASES,
  MAX_MEMORY_MB,
  MAX_TIMEOUT_SECONDS,
  type Step,
  type StepPermissions,
} from "./model.ts";
import { HOST, hostProblem } from "./net_hosts.ts";
import { CONTROL_CHARACTER, isTable, nameProblem, shown, typeName } from "./_values.ts";

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
  "cache",
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

/** Seconds before the first retry when a step gives none. */
const DEFAULT_RETRY_DELAY = 1;

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

/** Where the problems and warnings found while checking a definition go. */
export interface Findings {
  /** The start of every message: the file and a colon, or nothing for code. */
  where: string;
  /** Errors: any one refuses the workflow. */
  problems: Problem[];
  /** Shown, but the workflow still loads. */
  warnings: string[];
}

/** Where a check puts the messages of its problems. */
export interface Sink {
  push(message: string): unknown;
}

/** A sink for problems about `field` of step `step`. */
export function sink(found: Findings, step?: string, field?: string): Sink {
  return {
    push: (message) =>
      found.problems.push({
        message,
        ...(step !== undefined ? { step } : {}),
        ...(field !== undefined ? { field } : {}),
      }),
  };
}

/**
 * The known field that `key` is a misspelling of: within an edit distance
 * of 2 (`langauge`, `timout`), for keys of at least 4 characters (a short
 * key is that close to too many words). Undefined when none is.
 */
export function misspeltField(key: string, known: readonly string[]): string | undefined {
  if (key.length < 4) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const field of known) {
    const distance = editDistance(key.toLowerCase(), field.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [field, distance];
  }
  return best;
}

/** Checks one step's table and builds the step; undefined when it is not a table. */
export function checkStep(stepName: string, value: unknown, found: Findings): Step | undefined {
  const at = `${found.where}step '${shown(stepName)}'`;
  const about = (field?: string) => sink(found, stepName, field);
  if (!isTable(value)) {
    about().push(`${at} must be a table, got ${typeName(value)}`);
    return undefined;
  }
  checkStepFields(value, at, found, stepName);
  const language = stepLanguage(value.language, at, about("language"));
  const code = value.code;
  if (code !== undefined && typeof code !== "string") {
    about("code").push(`${at}: code must be a string, got ${typeName(code)}`);
  } else if (code === undefined && !(language === "wasm" && value.module !== undefined)) {
    about("code").push(
      language === "wasm"
        ? `${at}: missing 'module' (path to a .wasm file) or 'code' (WebAssembly text)`
        : `${at}: missing 'code'`,
    );
  }
  const dependsOn = stepDependsOn(value.depends_on, at, about("depends_on"));
  for (const field of ["description", "module"] as const) {
    if (value[field] !== undefined && typeof value[field] !== "string") {
      about(field).push(`${at}: ${field} must be a string, got ${typeName(value[field])}`);
    }
  }
  const { timeout, retries, retryDelay, memoryMb } = stepNumbers(value, at, about);
  const [continueOnError, cache] = (["continue_on_error", "cache"] as const).map((field) => {
    const flag = value[field];
    if (flag !== undefined && typeof flag !== "boolean") {
      about(field).push(`${at}: ${field} must be true or false, got ${typeName(flag)}`);
    }
    return flag === true;
  });
  const result = stepResult(value.result, language, at, about("result"));
  const permissions = checkPermissions(value.permissions, at, about("permissions"));
  const func = stepFunc(value, at, about(value.func === undefined ? "function" : "func"));
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
    continueOnError,
    cache,
    memoryMb,
    ...(result ? { result } : {}),
    permissions,
  };
}

/**
 * Unknown fields of a step: warnings, except a misspelled depends_on and
 * any other field within an edit distance of 2 of a known one, which are
 * problems (a misspelt `language` would run Python code as Lua).
 */
function checkStepFields(
  value: Record<string, unknown>,
  at: string,
  found: Findings,
  stepName: string,
): void {
  for (const key of Object.keys(value)) {
    if (STEP_FIELDS.includes(key)) continue;
    const meant = misspeltField(key, STEP_FIELDS);
    if (DEPENDS_ON_LOOKALIKES.has(key) || didYouMean(key, ["depends_on"])) {
      sink(found, stepName, key).push(
        `${at}: unknown field '${
          shown(key)
        }' (did you mean 'depends_on'?); a dropped dependency would corrupt the run`,
      );
    } else if (meant) {
      sink(found, stepName, key).push(
        `${at}: unknown field '${shown(key)}' (did you mean '${meant}'?): ` +
          `correct the name, or remove the field`,
      );
    } else {
      found.warnings.push(
        `${at}: unknown field '${shown(key)}' is ignored${didYouMean(key, STEP_FIELDS)}`,
      );
    }
  }
}

/** The canonical language of a step's `language` field; "lua" when absent or unknown. */
function stepLanguage(spelled: unknown, at: string, problems: Sink): Language {
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
function stepDependsOn(deps: unknown, at: string, problems: Sink): string[] {
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
function stepNumbers(
  value: Record<string, unknown>,
  at: string,
  about: (field: string) => Sink,
) {
  /** The field's value when it is a valid number; a problem when it is set otherwise. */
  const numberField = (
    field: string,
    valid: (n: number) => boolean,
    expected: string,
  ): number | undefined => {
    const v = value[field];
    if (typeof v === "number" && Number.isFinite(v) && valid(v)) return v;
    if (v !== undefined) {
      about(field).push(
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
  problems: Sink,
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
  problems: Sink,
): string | undefined {
  const func = value.func ?? value.function;
  if (value.func !== undefined && value.function !== undefined) {
    problems.push(`${at}: give either 'func' or 'function', not both`);
  } else if (func !== undefined && typeof func !== "string") {
    problems.push(`${at}: func must be a string, got ${typeName(func)}`);
  }
  return typeof func === "string" ? func : undefined;
}

const PERMISSION_EXAMPLE =
  `{ read = { "data/" }, net = { "api.example.com" }, env = { "API_TOKEN" } }`;

/** Validates a step's `permissions` table; problems go to `problems`. */
function checkPermissions(raw: unknown, at: string, problems: Sink): StepPermissions {
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

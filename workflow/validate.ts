/**
 * Workflow files: loading a Lua workflow file in the sandbox, building a
 * workflow (model.ts) from a plain object, and validating both the same way.
 *
 * @module
 */

import { didYouMean, WorkflowError } from "../_util/errors.ts";
import { HOST, hostProblem } from "../engine/grants.ts";
import { CycleError, planLevels } from "./plan.ts";
import { resolve } from "node:path";
import { CacheEntry, sha256Hex, sha256OfText } from "../_util/cache.ts";
import { LUA_PRELUDE } from "../lua/_prelude.ts";
import type { LuaOutcome } from "../lua/sandbox.ts";
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
const WORKFLOW_LOAD_TIMEOUT_MS = 10_000;

/**
 * Options of {@link loadWorkflowFile} and {@link parseWorkflowSource}.
 *
 * @example
 * ```ts
 * import { type LoadOptions, parseWorkflowSource } from "../mod.ts";
 *
 * const options: LoadOptions = { timeoutMs: 2_000 };
 * await parseWorkflowSource("workflow = { steps = { a = { code = 'function run() end' } } }", "a.lua", options);
 * ```
 */
export interface LoadOptions {
  /** Stop evaluating the file after this long; default 10 s. */
  timeoutMs?: number;
  /**
   * hwfe's cache directory: an evaluation that depended on the file's text
   * alone is kept there, so that an unchanged file loads without Lua
   * (about 55 ms a run: loading wasmoon and evaluating). Default: none.
   */
  cacheDir?: string;
}

/**
 * Reads, evaluates (sandboxed) and validates a workflow file. Throws
 * {@link WorkflowError} naming the file, step and field of every problem.
 *
 * @example
 * ```ts
 * import { loadWorkflowFile } from "../mod.ts";
 *
 * const file = await Deno.makeTempFile({ suffix: ".lua" });
 * await Deno.writeTextFile(file, `workflow = {
 *   name = "from a file",
 *   steps = { hello = { language = "lua", code = "function run() return 'hi' end" } },
 * }`);
 * const { workflow, warnings } = await loadWorkflowFile(file);
 * console.log(workflow.name, warnings.length); // "from a file" 0
 * ```
 */
export async function loadWorkflowFile(
  path: string,
  options: LoadOptions = {},
): Promise<LoadedWorkflow> {
  let source: string;
  try {
    source = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new WorkflowError([`${path}: cannot read workflow file: ${reason}`], { cause: error });
  }
  return await parseWorkflowSource(source, path, options);
}

/**
 * The cache entry for a workflow file's evaluation: one per file path, keyed
 * by the file's text and the sandbox's own code (a change to either
 * invalidates it).
 */
function evaluationEntry(cacheDir: string, source: string, file: string): CacheEntry {
  return new CacheEntry(
    `${cacheDir}/workflows`,
    `${sha256OfText(resolve(file)).slice(0, 16)}.evaluated`,
    sha256OfText(`wasmoon@1.16.0\n${LUA_PRELUDE}\n${source}`),
  );
}

/** Most workflow evaluations kept (one per workflow file, a few KB each). */
const MAX_CACHED_EVALUATIONS = 256;

/** Removes the evaluations used least recently beyond MAX_CACHED_EVALUATIONS. */
async function pruneEvaluations(dir: string): Promise<void> {
  const entries: { path: string; mtime: number }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".evaluated")) continue;
    const path = `${dir}/${entry.name}`;
    entries.push({ path, mtime: (await Deno.stat(path)).mtime?.getTime() ?? 0 });
  }
  entries.sort((a, b) => b.mtime - a.mtime);
  for (const { path } of entries.slice(MAX_CACHED_EVALUATIONS)) {
    await Deno.remove(path).catch(() => {});
  }
}

/** The cached evaluation's JSON text, when there is a sound one. */
async function cachedEvaluation(entry: CacheEntry): Promise<string | undefined> {
  const blob = await entry.read();
  if (!blob || await sha256Hex(blob.bytes) !== blob.sha256) return undefined;
  return new TextDecoder().decode(blob.bytes);
}

/** Evaluates Lua workflow source on this thread (wasmoon is loaded on first use). */
async function evaluate(source: string, file: string, timeoutMs: number): Promise<LuaOutcome> {
  const { runLuaChunk } = await import("../lua/sandbox.ts");
  const deadline = Date.now() + timeoutMs;
  return await runLuaChunk(
    { mode: "workflow", chunkName: `@${file}`, code: source },
    { interrupted: () => Date.now() > deadline, output: () => {} },
  );
}

/**
 * Evaluates Lua workflow source in the sandbox (no io, os, require...; a
 * runaway file is stopped after 10 s) and validates the `workflow` table.
 * `file` only names the source in messages.
 *
 * @example
 * ```ts
 * import { parseWorkflowSource } from "../mod.ts";
 *
 * const { workflow } = await parseWorkflowSource(`
 *   local steps = {}
 *   for i = 1, 3 do
 *     steps["part" .. i] = { code = "function run() return " .. i .. " end" }
 *   end
 *   workflow = { name = "generated", steps = steps }
 * `, "generated.lua");
 * console.log(workflow.steps.size); // 3
 * ```
 */
export async function parseWorkflowSource(
  source: string,
  file = "workflow.lua",
  options: LoadOptions = {},
): Promise<LoadedWorkflow> {
  const timeoutMs = options.timeoutMs ?? WORKFLOW_LOAD_TIMEOUT_MS;
  const entry = options.cacheDir === undefined
    ? undefined
    : evaluationEntry(options.cacheDir, source, file);
  const cached = entry && await cachedEvaluation(entry);
  if (cached !== undefined) return validateWorkflow(JSON.parse(cached), file);
  const outcome = await evaluate(source, file, timeoutMs);
  switch (outcome.kind) {
    case "result":
      if (outcome.cacheable && entry?.writable()) {
        // Best effort: a cache that cannot be written only costs the next run time.
        await entry.write(new TextEncoder().encode(outcome.json))
          .then(() => pruneEvaluations(entry.dir))
          .catch(() => {});
      }
      return validateWorkflow(JSON.parse(outcome.json), file);
    case "syntax_error":
      throw new WorkflowError([`${file}: Lua syntax error: ${stripChunk(outcome.message, file)}`]);
    case "runtime_error":
      throw new WorkflowError([
        `${file}: error while evaluating the workflow file: ${firstLine(outcome.message)}`,
      ]);
    case "bad_result":
      throw new WorkflowError([`${file}: the workflow table contains ${outcome.message}`]);
    case "no_workflow":
      throw new WorkflowError([
        `${file}: no 'workflow' global; the file must set workflow = { name = ..., steps = { ... } }`,
      ]);
    case "interrupted":
      throw new WorkflowError([
        `${file}: evaluating the workflow file took more than ${
          timeoutMs / 1000
        }s; does it loop forever?`,
      ]);
    default:
      throw new WorkflowError([`${file}: unexpected result while loading (${outcome.kind})`]);
  }
}

function stripChunk(message: string, file: string): string {
  return message.startsWith(`${file}:`) ? `line ${message.slice(file.length + 1)}` : message;
}

function firstLine(message: string): string {
  return message.split("\n")[0];
}

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

function validateWorkflow(raw: unknown, file?: string): LoadedWorkflow {
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

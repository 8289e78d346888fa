/**
 * The workflow model: what a validated workflow and its steps are, what a
 * workflow file or code may write to define one, and the limits a step's
 * settings must keep to. Types and constants only.
 *
 * The workflow layer (workflow/) makes this model from a file or an object
 * and plans it: load.ts reads a workflow file, validate.ts checks a
 * definition, plan.ts orders the steps, net_hosts.ts says what a host is.
 * It imports only lua/ (to evaluate a file) and _util/; the engine and the
 * layers above it take workflows from here.
 *
 * @module
 */

/**
 * Languages a step can be written in (canonical names).
 *
 * @example
 * ```ts
 * import { LANGUAGES } from "../mod.ts";
 *
 * console.log(LANGUAGES.includes("python")); // true
 * ```
 */
export const LANGUAGES = ["lua", "shell", "python", "javascript", "typescript", "wasm"] as const;

/** How messages name each language. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = {
  lua: "Lua",
  shell: "shell",
  python: "Python",
  javascript: "JavaScript",
  typescript: "TypeScript",
  wasm: "WebAssembly",
};

/**
 * A canonical step language.
 *
 * @example
 * ```ts
 * import type { Language } from "../mod.ts";
 *
 * const language: Language = "typescript";
 * ```
 */
export type Language = typeof LANGUAGES[number];

/** Every accepted spelling of a language, mapped to its canonical name. */
export const LANGUAGE_ALIASES: Readonly<Record<string, Language>> = {
  lua: "lua",
  shell: "shell",
  sh: "shell",
  bash: "shell",
  python: "python",
  py: "python",
  javascript: "javascript",
  js: "javascript",
  node: "javascript",
  nodejs: "javascript",
  typescript: "typescript",
  ts: "typescript",
  wasm: "wasm",
  webassembly: "wasm",
};

/**
 * One validated step.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type Step } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { language: "py", code: "def run(): return 1" } } });
 * const step: Step = workflow.steps.get("a")!;
 * console.log(step.language, step.dependsOn); // "python" []
 * ```
 */
export interface Step {
  /** Unique within the workflow. */
  name: string;
  /** The canonical language (aliases resolved). */
  language: Language;
  /** Source code; for wasm steps optional when `module` is given. */
  code?: string;
  /**
   * The line of the workflow file on which the code's first line is
   * written, when the code is a literal of the file whose lines are the
   * file's lines (workflow/code_lines.ts); undefined otherwise.
   */
  codeLine?: number;
  /** Direct dependencies, in the order written. */
  dependsOn: string[];
  /** Shown in listings. */
  description?: string;
  /** Timeout in seconds. */
  timeout?: number;
  /** wasm: path of the `.wasm` file, relative to the workflow file. */
  module?: string;
  /** wasm: name of the exported function. */
  func?: string;
  /** Extra attempts after a failure (0: none). */
  retries: number;
  /** Seconds before the first retry; doubled for each later one, with jitter. */
  retryDelay: number;
  /** A failure is recorded but does not fail the run; dependents get the error as input. */
  continueOnError: boolean;
  /**
   * Reuse the result of any earlier recorded run with the same hash
   * (engine/step_hash.ts) instead of running the step. Off by default: a
   * step with side effects must not be skipped silently.
   */
  cache: boolean;
  /** Memory limit in MiB for this step; the run's `--step-memory` when absent. */
  memoryMb?: number;
  /**
   * How the step's output becomes its result. "object" (the default, as in
   * the reference engine): for shell, the first stdout line that is a JSON
   * object, else `{stdout, stderr, exit_code}`; for JavaScript and
   * TypeScript, a primitive wrapped as `{"value": x}` and nothing as `{}`.
   * "json": shell's whole stdout as any JSON value (else the same), and
   * JavaScript's value as it is.
   */
  result?: "object" | "json";
  /**
   * What the step asks of the host (engine/grants.ts): environment variables,
   * paths to read and write (relative to where hwfe runs), hosts to reach.
   */
  permissions: StepPermissions;
}

/**
 * What a step declares it needs; it gets the part the run grants.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type StepPermissions } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: { a: { code: "function run() return 1 end", permissions: { read: ["data/"] } } },
 * });
 * const permissions: StepPermissions = workflow.steps.get("a")!.permissions;
 * console.log(permissions.read); // ["data/"]
 * ```
 */
export interface StepPermissions {
  /** Environment variable names. */
  env: string[];
  /** Paths the step reads. */
  read: string[];
  /** Paths the step writes. */
  write: string[];
  /** Hosts (`name` or `name:port`) the step reaches. */
  net: string[];
}

/**
 * A validated workflow: what {@link loadWorkflowFile},
 * {@link parseWorkflowSource} and {@link defineWorkflow} return.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type Workflow } from "../mod.ts";
 *
 * const workflow: Workflow = defineWorkflow({ name: "w", steps: { a: { code: "function run() end" } } }).workflow;
 * console.log(workflow.name, [...workflow.steps.keys()]); // "w" ["a"]
 * ```
 */
export interface Workflow {
  /** Shown in output. */
  name: string;
  /** Shown in listings. */
  description?: string;
  /** The file it came from, as the user named it; absent when built in code. */
  file?: string;
  /** Steps by name. */
  steps: Map<string, Step>;
  /**
   * The parameters' values, by name in name order: each declared default
   * (`workflow.params`), or the value given for it (`--param`), typed by
   * the default. Steps read them as `params` (shell: `PARAM_<NAME>`).
   * Undefined when the workflow declares none.
   */
  params?: Readonly<Record<string, ParamValue>>;
}

/**
 * A validated workflow plus the warnings found on the way.
 *
 * @example Unknown fields are warnings, not errors
 * ```ts
 * import { defineWorkflow, type LoadedWorkflow, type StepDefinition } from "../mod.ts";
 *
 * const step = { code: "function run() end", colour: "red" } as StepDefinition;
 * const loaded: LoadedWorkflow = defineWorkflow({ steps: { a: step } });
 * console.log(loaded.warnings); // one warning naming step 'a' and field 'colour'
 * ```
 */
export interface LoadedWorkflow {
  /** The workflow, ready to plan or run. */
  workflow: Workflow;
  /** Each warning names the file, step and field, e.g. an unknown field. */
  warnings: string[];
}

/**
 * A step as written in a workflow file or passed from code: the fields
 * and spellings of the reference engine's workflow format.
 *
 * @example
 * ```ts
 * import type { StepDefinition } from "../mod.ts";
 *
 * const step: StepDefinition = {
 *   language: "python",
 *   depends_on: ["fetch"],
 *   code: "def run(inputs): return len(inputs['fetch'])",
 *   retries: 2,
 *   timeout: 30,
 * };
 * ```
 */
export interface StepDefinition {
  /** One of {@link LANGUAGES} or an alias such as "js", "py" or "bash"; default "lua". */
  language?: string;
  /** The step's source; defines `run(inputs)` (shell: runs as a script). */
  code?: string;
  /** Names of the steps whose results this step takes as inputs. */
  depends_on?: string | string[];
  /** Shown in listings. */
  description?: string;
  /** Seconds before the step is stopped. */
  timeout?: number;
  /** wasm: path of a `.wasm` file, relative to the workflow file. */
  module?: string;
  /** wasm: the exported function to call. */
  func?: string;
  /** wasm: the same as `func`. */
  function?: string;
  /** Extra attempts after a failure; default 0. */
  retries?: number;
  /** Seconds before the first retry (doubled each time); default 1. */
  retry_delay?: number;
  /** Record a failure without failing the run; dependents get the error. */
  continue_on_error?: boolean;
  /** Memory limit in MiB. */
  memory_mb?: number;
  /**
   * Reuse the result of an earlier run whose step had the same language,
   * code, grants, params, inputs and read files; default false.
   */
  cache?: boolean;
  /** "json": shell's whole stdout as any JSON value, JavaScript's value unwrapped; default "object" (see {@link Step}). */
  result?: "object" | "json";
  /** What the step needs from the host; it gets what the run also grants. */
  permissions?: { env?: string[]; read?: string[]; write?: string[]; net?: string[] };
}

/**
 * A workflow as written in a workflow file (the `workflow` table) or passed
 * from code.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type WorkflowDefinition } from "../mod.ts";
 *
 * const definition: WorkflowDefinition = {
 *   name: "report",
 *   steps: { total: { language: "js", code: "function run() { return 42; }" } },
 * };
 * defineWorkflow(definition);
 * ```
 */
export interface WorkflowDefinition {
  /** Shown in output; default "workflow". */
  name?: string;
  /** Shown in listings. */
  description?: string;
  /** Steps by name. */
  steps: Record<string, StepDefinition>;
  /**
   * Parameters with their defaults: `{ region: "us", n: 3 }`. A value given
   * for one (`--param n=5`, `LoadOptions.params`) is typed by its
   * default: a number, a boolean or a string.
   */
  params?: Record<string, ParamValue>;
}

/**
 * A parameter's value: the type of its default.
 *
 * @example
 * ```ts
 * import type { ParamValue } from "../mod.ts";
 *
 * const n: ParamValue = 3;
 * ```
 */
export type ParamValue = string | number | boolean;

/** Largest memory limit a step may set: wasm32's 4 GiB. */
export const MAX_MEMORY_MB = 4096;
/**
 * The longest timeout a step may set, and the run's `--step-timeout`: a
 * week. Beyond about 24.8 days a timer overflows and fires at once.
 */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 60 * 60;

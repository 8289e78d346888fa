/**
 * Progress of a run as a stream of events with stable status names. The
 * engine never prints: the CLI renders these, tests read them.
 *
 * @module
 */

import type { JsonText } from "../_util/json.ts";
import type { RuntimeStart } from "./runner.ts";
import type { Language } from "../workflow/model.ts";

/**
 * Status of a step.
 *
 * @example
 * ```ts
 * import type { StepStatus } from "../mod.ts";
 *
 * const finished = (status: StepStatus) => status !== "pending" && status !== "running";
 * ```
 */
export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled" | "skipped";

/**
 * Status of a whole run.
 *
 * @example
 * ```ts
 * import type { RunStatus } from "../mod.ts";
 *
 * const exitCode = (status: RunStatus) => status === "succeeded" ? 0 : 1;
 * ```
 */
export type RunStatus = "succeeded" | "failed" | "cancelled";

/**
 * Execution mode, as in the reference engine's `[execution] mode`.
 *
 * @example
 * ```ts
 * import type { ExecutionMode, RunOptions } from "../mod.ts";
 *
 * const mode: ExecutionMode = "parallel";
 * const options: RunOptions = { mode, maxParallel: 2 };
 * ```
 */
export type ExecutionMode = "sequential" | "parallel";
/**
 * When a step may start: after its whole level before it ("levels", the
 * reference engine's way and the default), or as soon as its own
 * dependencies are done ("eager").
 *
 * @example
 * ```ts
 * import type { RunOptions, Strategy } from "../mod.ts";
 *
 * const strategy: Strategy = "eager";
 * const options: RunOptions = { mode: "parallel", strategy };
 * ```
 */
export type Strategy = "levels" | "eager";

/**
 * What a failing step does to the rest of the run. "cancel" (the default):
 * running steps are cancelled and the rest skipped. "finish_level" (the
 * reference engine's way): the failing step's level finishes, then the run
 * stops; with the eager strategy, the running steps finish and no others
 * start. "keep_going": only the failed step's dependents are skipped.
 *
 * @example
 * ```ts
 * import type { OnFailure, RunOptions } from "../mod.ts";
 *
 * const onFailure: OnFailure = "finish_level";
 * const options: RunOptions = { mode: "parallel", onFailure };
 * ```
 */
export type OnFailure = "cancel" | "finish_level" | "keep_going";

/**
 * What happened to one step.
 *
 * @example
 * ```ts
 * import { defineWorkflow, runWorkflow, type StepReport } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { bad: { code: "function run() error('no') end" } } });
 * const [report]: StepReport[] = (await runWorkflow(workflow)).steps;
 * console.log(report.status, report.error); // "failed" and the Lua error
 * ```
 */
export interface StepReport {
  /** The step's name. */
  name: string;
  /** The step's language. */
  language: Language;
  /** 1-based dependency level. */
  level: number;
  /** How it ended ("pending" only in a run that stopped before it). */
  status: StepStatus;
  /** Milliseconds from the start of the run to the start of the step. */
  startMs?: number;
  /**
   * Milliseconds the step ran, all attempts (and the pauses between them)
   * included, waits for a runtime not.
   */
  durationMs?: number;
  /**
   * Milliseconds the step waited for a runtime before its code ran (a
   * worker or child process to be free, or to start), all attempts.
   */
  waitedMs?: number;
  /** The step's result as JSON text (succeeded steps). */
  result?: JsonText;
  /** Why it failed, was cancelled or was skipped. */
  error?: string;
  /** Attempts made, for a step with retries. */
  attempts?: number;
  /** The error of each failed attempt, in order (steps with retries). */
  attemptErrors?: string[];
  /** Failed with `continue_on_error`: the run went on and dependents got the error. */
  continued?: boolean;
  /**
   * The step's hash (engine/step_hash.ts), when the run hashed its steps
   * (`RunOptions.reuse`) and the result may be reused: it succeeded and
   * holds no secret (a masked result would not be the real one).
   */
  hash?: string;
  /**
   * The run whose stored result this step took instead of running
   * (`--resume`, `cache = true`, `--only`); its result is that one.
   */
  reusedFrom?: number;
}

/**
 * The outcome of a run. A failing step does not throw: it shows here.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type RunResult, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { code: "function run() return 1 end" } } });
 * const result: RunResult = await runWorkflow(workflow);
 * console.log(result.status, result.levels); // "succeeded" [["a"]]
 * ```
 */
export interface RunResult {
  /** The workflow's name. */
  workflow: string;
  /** The workflow file, when it came from one. */
  file?: string;
  /** How steps were run. */
  mode: ExecutionMode;
  /** When a step could start. */
  strategy: Strategy;
  /** Most steps at once (1 in sequential mode). */
  maxParallel: number;
  /** "succeeded" when every step did (or failed with `continue_on_error`). */
  status: RunStatus;
  /** Milliseconds from start to end. */
  durationMs: number;
  /** The plan's levels, names sorted inside each. */
  levels: string[][];
  /** Reports in plan order (level, then name). */
  steps: StepReport[];
}

/**
 * One change in a run, as {@link streamWorkflow} yields them and
 * `RunOptions.onEvent` receives them.
 *
 * @example Collect each step's output lines
 * ```ts
 * import { defineWorkflow, type RunEvent, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { code: "function run() print('hello') end" } } });
 * const lines: string[] = [];
 * await runWorkflow(workflow, {
 *   onEvent: (event: RunEvent) => {
 *     if (event.type === "step_output") lines.push(`${event.step}: ${event.line}`);
 *   },
 * });
 * console.log(lines); // ["a: hello"]
 * ```
 */
export type RunEvent =
  | {
    type: "run_started";
    workflow: string;
    mode: ExecutionMode;
    strategy: Strategy;
    maxParallel: number;
    levels: string[][];
  }
  | { type: "step_started"; step: string; language: Language; level: number; atMs: number }
  /**
   * The step's code began to run (each attempt): until then, since
   * `step_started`, it waited for its runtime (a worker to be free, Python
   * to start).
   */
  | { type: "step_running"; step: string; attempt: number; atMs: number }
  | { type: "step_output"; step: string; stream: "stdout" | "stderr"; line: string }
  | {
    type: "step_retrying";
    step: string;
    /** The attempt that failed (1-based) and how many there may be. */
    attempt: number;
    attempts: number;
    error: string;
    delayMs: number;
  }
  | { type: "step_finished"; report: StepReport }
  | { type: "run_finished"; result: RunResult }
  /** Something the user should know that is not a step's output. */
  | { type: "warning"; message: string }
  /**
   * A language runtime starts from scratch for the first time (on this
   * machine, or since an upgrade); later runs start from its saved state.
   */
  | { type: "runtime_starting"; runtime: string }
  /** A language runtime became ready (e.g. Python, from its snapshot or cold). */
  | ({ type: "runtime_started" } & RuntimeStart);

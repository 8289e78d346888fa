/**
 * Progress of a run as a stream of events with stable status names. The
 * engine never prints: the CLI renders these, tests read them.
 *
 * @module
 */

import type { JsonText } from "./json.ts";
import type { RuntimeStart } from "../runners/types.ts";
import type { Language } from "./workflow.ts";

/** Status of a step. */
export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled" | "skipped";

/** Status of a whole run. */
export type RunStatus = "succeeded" | "failed" | "cancelled";

/** Execution mode, as in the reference engine's `[execution] mode`. */
export type ExecutionMode = "sequential" | "parallel";
/** When a step may start: after its whole level before it ("levels"), or after its own dependencies ("eager"). */
export type Strategy = "levels" | "eager";

/** What happened to one step. */
export interface StepReport {
  name: string;
  language: Language;
  /** 1-based dependency level. */
  level: number;
  status: StepStatus;
  /** Milliseconds from the start of the run to the start of the step. */
  startMs?: number;
  durationMs?: number;
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
}

/** The outcome of a run. */
export interface RunResult {
  workflow: string;
  file?: string;
  mode: ExecutionMode;
  strategy: Strategy;
  maxParallel: number;
  status: RunStatus;
  durationMs: number;
  levels: string[][];
  /** Reports in plan order (level, then name). */
  steps: StepReport[];
}

/** One change in a run. */
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
  /** A language runtime became ready (e.g. Python, from its snapshot or cold). */
  | ({ type: "runtime_started" } & RuntimeStart);

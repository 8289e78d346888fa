/**
 * What the store gives back: runs, steps, output lines and events as
 * plain objects, from rows of the tables in store/schema.ts.
 *
 * @module
 */

import type { JsonText } from "../_util/json.ts";
import type { ExecutionMode, RunStatus, StepStatus, Strategy } from "../engine/events.ts";
import type { Language } from "../workflow/model.ts";
import type { SqlValue } from "./database.ts";

/**
 * A recorded run's status: a run's outcome, "running" while its process
 * writes it, and "interrupted" when that process ended before the run did.
 */
export type RecordedRunStatus = RunStatus | "queued" | "running" | "interrupted";

/** A recorded step's status: "interrupted" when its run was. */
export type RecordedStepStatus = StepStatus | "interrupted";

/** One recorded run. Times in milliseconds since the Unix epoch. */
export interface RunRow {
  /** Short and typeable: `hwfe show 42`. Never reused, even after `hwfe gc`. */
  id: number;
  workflow: string;
  /** The workflow file's absolute path, when the run came from one. */
  file?: string;
  /** The SHA-256 of the file's bytes when the run started, in hex. */
  fileSha256?: string;
  /** The run's parameters, as JSON text (none yet: a later part of issue 19). */
  params?: JsonText;
  /** The settings the run was given, as JSON text. */
  settings: JsonText;
  mode: ExecutionMode;
  strategy: Strategy;
  maxParallel: number;
  levels: string[][];
  status: RecordedRunStatus;
  /** Why a run failed without a failing step (hwfe's own error), or was interrupted. */
  error?: string;
  startedAt: number;
  finishedAt?: number;
  durationMs?: number;
  /** When its writer last wrote: an interrupted run ended about then. */
  heartbeatAt: number;
  hwfeVersion: string;
  host: string;
  pid: number;
  /** The run this one resumed (`--resume`). */
  resumedFrom?: number;
}

/** One step of a recorded run. */
export interface StepRow {
  runId: number;
  name: string;
  /** Its place in the plan (level, then name). */
  position: number;
  language: Language;
  level: number;
  status: RecordedStepStatus;
  /** Attempts begun (0 for a step that never started). */
  attempts: number;
  /** When it was started (its wait for a runtime began). */
  startedAt?: number;
  /** When its code first began to run. */
  runningAt?: number;
  finishedAt?: number;
  /** As the run's report: attempts and pauses, waits for a runtime not. */
  durationMs?: number;
  waitedMs?: number;
  /** Its result as JSON text, as the engine gave it (integers exact). */
  result?: JsonText;
  error?: string;
  attemptErrors?: string[];
  /** Shell steps: the exit code of bash (0 when it succeeded). */
  exitCode?: number;
  /** Failed with `continue_on_error`. */
  continued: boolean;
  /**
   * A hash of its definition and inputs (engine/step_hash.ts), kept only
   * for a result that may be reused: it succeeded and holds no secret.
   */
  hash?: string;
  /** The run whose stored result it took instead of running. */
  reusedFrom?: number;
}

/** One line a step wrote. */
export interface OutputRow {
  /** The event's sequence number in its run: give it back as `afterSeq` to read on. */
  seq: number;
  at: number;
  step: string;
  stream: "stdout" | "stderr";
  line: string;
}

/**
 * One event of a run as stored: `RunEvent`'s type, its step, and its other
 * fields as JSON text, except that an output line's are `stream` and
 * `line`, `step_finished` holds no result (the step's row does),
 * `run_started` no levels (the run's row does) and `run_finished` only the
 * status and duration. (The table keeps consecutive lines of a step in one
 * row; readers get a row per line, with its own sequence number.)
 */
export interface EventRow {
  seq: number;
  at: number;
  type: string;
  step?: string;
  stream?: "stdout" | "stderr";
  line?: string;
  data?: JsonText;
}

type Row = Record<string, SqlValue>;

const text = (value: SqlValue | undefined) => value === null ? undefined : value as string;
const int = (value: SqlValue | undefined) => value === null ? undefined : Number(value);
/** Sets only defined fields, so rows compare equal to objects written without the absent ones. */
function defined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

export function runOf(row: Row): RunRow {
  return defined({
    id: Number(row.id),
    workflow: row.workflow as string,
    file: text(row.file),
    fileSha256: text(row.file_sha256),
    params: text(row.params),
    settings: row.settings as string,
    mode: row.mode as ExecutionMode,
    strategy: row.strategy as Strategy,
    maxParallel: Number(row.max_parallel),
    levels: JSON.parse(row.levels as string),
    status: row.status as RecordedRunStatus,
    error: text(row.error),
    startedAt: Number(row.started_at),
    finishedAt: int(row.finished_at),
    durationMs: int(row.duration_ms),
    heartbeatAt: Number(row.heartbeat_at),
    hwfeVersion: row.hwfe_version as string,
    host: row.host as string,
    pid: Number(row.pid),
    resumedFrom: int(row.resumed_from),
  });
}

export function stepOf(row: Row): StepRow {
  return defined({
    runId: Number(row.run_id),
    name: row.name as string,
    position: Number(row.position),
    language: row.language as Language,
    level: Number(row.level),
    status: row.status as RecordedStepStatus,
    attempts: Number(row.attempts),
    startedAt: int(row.started_at),
    runningAt: int(row.running_at),
    finishedAt: int(row.finished_at),
    durationMs: int(row.duration_ms),
    waitedMs: int(row.waited_ms),
    result: text(row.result),
    error: text(row.error),
    attemptErrors: row.attempt_errors === null
      ? undefined
      : JSON.parse(row.attempt_errors as string),
    exitCode: int(row.exit_code),
    continued: row.continued === 1,
    hash: text(row.hash),
    reusedFrom: int(row.reused_from),
  });
}

/** The lines of a row of output after `afterSeq` (a row holds consecutive lines, a seq each). */
export function outputOf(row: Row, afterSeq: number): OutputRow[] {
  const first = Number(row.seq);
  const at = Number(row.at);
  const step = row.step as string;
  const stream = row.stream as "stdout" | "stderr";
  const lines = (row.text as string).split("\n");
  const from = Math.max(0, afterSeq - first + 1);
  return lines.slice(from).map((line, i) => ({ seq: first + from + i, at, step, stream, line }));
}

/** The events of a row after `afterSeq`: one, or a line each for a row of output. */
export function eventsOf(row: Row, afterSeq: number): EventRow[] {
  if (row.type === "step_output") {
    return outputOf(row, afterSeq).map((line) => ({ ...line, type: "step_output" }));
  }
  return [defined({
    seq: Number(row.seq),
    at: Number(row.at),
    type: row.type as string,
    step: text(row.step),
    data: text(row.data),
  })];
}

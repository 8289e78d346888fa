/**
 * What a run did, kept from its events as they happen: each step's
 * attempts on the run's clock (waits, runs, retries) and its output, capped.
 * The `--json` document and the HTML report are made from it.
 *
 * @module
 */

import type { RunEvent } from "../engine/events.ts";

/** One attempt at a step, in milliseconds from the start of the run. */
export interface AttemptSpan {
  /** When the attempt was asked for (its wait for a runtime starts here). */
  startMs: number;
  /** When its code began to run; absent when it never did. */
  runningMs?: number;
  /** When it ended. */
  endMs?: number;
  /** Why it failed, for an attempt that was retried. */
  error?: string;
}

/** One line a step wrote. */
export interface OutputLine {
  stream: "stdout" | "stderr";
  line: string;
  /** The attempt that wrote it (1-based), when the step had started. */
  attempt?: number;
}

/** A step's attempts and output. */
export interface StepRecord {
  attempts: AttemptSpan[];
  output: OutputLine[];
  /** Characters of output not kept, past the cap. */
  droppedChars: number;
  /**
   * When the step ended, in milliseconds from the start of the run: for a
   * skipped step, when it was skipped. Absent for a step that never ended.
   */
  finishedMs?: number;
}

/** The part of a workflow the record keeps: each step's dependencies. */
export interface RecordedGraph {
  steps: ReadonlyMap<string, { readonly dependsOn: readonly string[] }>;
}

/** Options of {@link RunRecorder}. */
export interface RunRecorderOptions {
  /** The run's clock, in milliseconds (`performance.now` by default). */
  now?: () => number;
  /** Characters of output kept per step ({@link DEFAULT_KEPT_OUTPUT_CHARS} by default). */
  maxOutputChars?: number;
  /**
   * The workflow that runs: the events name no dependencies, and the report
   * draws them as the DAG's edges.
   */
  workflow?: RecordedGraph;
}

/** Characters of output kept per step by default: the rest is counted, not kept. */
export const DEFAULT_KEPT_OUTPUT_CHARS = 64 * 1024;

/**
 * Records a run's events: give {@link RunRecorder.onEvent} every event, in
 * order, as `RunOptions.onEvent` receives them.
 */
export class RunRecorder {
  readonly #steps = new Map<string, StepRecord>();
  readonly #keptChars = new Map<string, number>();
  /** When a retried step's next attempt was asked for: the end of its pause. */
  readonly #retryAt = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxChars: number;
  readonly #workflow?: RecordedGraph;
  #origin?: number;

  constructor(options: RunRecorderOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#maxChars = options.maxOutputChars ?? DEFAULT_KEPT_OUTPUT_CHARS;
    this.#workflow = options.workflow;
  }

  /** Milliseconds since the run started. */
  #at(): number {
    return this.#now() - (this.#origin ??= this.#now());
  }

  #step(name: string): StepRecord {
    let record = this.#steps.get(name);
    if (!record) this.#steps.set(name, record = { attempts: [], output: [], droppedChars: 0 });
    return record;
  }

  /** Takes one event. */
  onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case "run_started":
        this.#origin = this.#now();
        return;
      case "step_started":
        this.#step(event.step).attempts.push({ startMs: event.atMs });
        return;
      case "step_running": {
        const attempts = this.#step(event.step).attempts;
        // A retry's wait starts when the pause before it ends.
        if (event.attempt > attempts.length) attempts.push({ startMs: this.#retryStart(event) });
        attempts[event.attempt - 1].runningMs = event.atMs;
        return;
      }
      case "step_retrying": {
        const last = this.#step(event.step).attempts.at(-1);
        const at = this.#at();
        if (last) Object.assign(last, { endMs: at, error: event.error });
        this.#retryAt.set(event.step, at + event.delayMs);
        return;
      }
      case "step_finished":
        return this.#finished(event.report.name, event.report.attempts);
      case "step_output":
        return this.#output(event.step, event.stream, event.line);
      default:
        return;
    }
  };

  /** The start of a retry's wait: its pause's end, never after its code began. */
  #retryStart(event: { step: string; atMs: number }): number {
    const at = this.#retryAt.get(event.step);
    this.#retryAt.delete(event.step);
    return at === undefined ? event.atMs : Math.min(at, event.atMs);
  }

  #finished(name: string, attemptsMade: number | undefined): void {
    const record = this.#step(name);
    const at = this.#at();
    record.finishedMs = at;
    // A retry stopped while it waited for its runtime: its code never began.
    const retryAt = this.#retryAt.get(name);
    if (retryAt !== undefined && (attemptsMade ?? 0) > record.attempts.length) {
      record.attempts.push({ startMs: Math.min(retryAt, at) });
    }
    this.#retryAt.delete(name);
    const last = record.attempts.at(-1);
    if (last && last.endMs === undefined) last.endMs = at;
  }

  #output(name: string, stream: "stdout" | "stderr", line: string): void {
    const record = this.#step(name);
    const kept = (this.#keptChars.get(name) ?? 0) + line.length;
    if (kept > this.#maxChars) record.droppedChars += line.length;
    else {
      this.#keptChars.set(name, kept);
      const attempt = record.attempts.length || undefined;
      record.output.push(attempt === undefined ? { stream, line } : { stream, line, attempt });
    }
  }

  /** What was recorded of `step` (empty for a step that never started). */
  step(name: string): StepRecord {
    return this.#steps.get(name) ?? { attempts: [], output: [], droppedChars: 0 };
  }

  /**
   * The names `step` depends on, when the recorder was given the workflow
   * (`undefined` otherwise, or for a step it does not hold).
   */
  dependsOn(step: string): readonly string[] | undefined {
    return this.#workflow?.steps.get(step)?.dependsOn;
  }
}

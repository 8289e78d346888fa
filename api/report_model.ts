/**
 * What the HTML report shows of a run, gathered once from the result and
 * the run's record: each step's outcome, attempts, output and edges.
 *
 * @module
 */

import type { RunResult, StepReport } from "../engine/events.ts";
import type { RunRecorder, StepRecord } from "./run_record.ts";

/**
 * How a step ended, as the report colours it: a step's status, with a
 * failure under `continue_on_error` apart ("continued").
 */
export type Outcome =
  | "succeeded"
  | "failed"
  | "continued"
  | "cancelled"
  | "skipped"
  | "pending"
  | "running";

/** Every outcome, in the order the legends list them. */
export const OUTCOMES: readonly Outcome[] = [
  "succeeded",
  "failed",
  "continued",
  "cancelled",
  "skipped",
  "pending",
  "running",
];

/** How the report names each outcome. */
export const OUTCOME_LABEL: Record<Outcome, string> = {
  succeeded: "succeeded",
  failed: "failed",
  continued: "failed, continued",
  cancelled: "cancelled",
  skipped: "skipped",
  pending: "never started",
  running: "running",
};

/** A mark beside each outcome, so that colour is not the only sign. */
export const OUTCOME_MARK: Record<Outcome, string> = {
  succeeded: "✓",
  failed: "✗",
  continued: "!",
  cancelled: "■",
  skipped: "–",
  pending: "○",
  running: "…",
};

/** One step as the report shows it. */
export interface ReportStep {
  /** Its place in the plan (level, then name): its id in the page is `step-<index>`. */
  index: number;
  report: StepReport;
  record: StepRecord;
  outcome: Outcome;
  /** Indices of the steps it depends on, when the record knows them. */
  dependsOn: number[];
  /** Indices of the steps that depend on it. */
  dependents: number[];
}

/** The run as the report shows it. */
export interface ReportModel {
  result: RunResult;
  steps: ReportStep[];
  /** Whether the record knew the workflow's dependencies (the DAG's edges). */
  graphKnown: boolean;
  /** The end of the time axis: the run's duration, or the last thing that happened. */
  endMs: number;
}

/** The outcome `report` is coloured by. */
export function outcomeOf(report: StepReport): Outcome {
  return report.continued ? "continued" : report.status;
}

/** The report's view of `result`, with what `record` kept of each step. */
export function reportModel(result: RunResult, record: RunRecorder): ReportModel {
  const indexOf = new Map(result.steps.map((step, i) => [step.name, i]));
  let graphKnown = result.steps.length > 0;
  const steps: ReportStep[] = result.steps.map((report, index) => {
    const names = record.dependsOn(report.name);
    if (names === undefined) graphKnown = false;
    const dependsOn = [...new Set(names ?? [])].flatMap((name) => indexOf.get(name) ?? []);
    return {
      index,
      report,
      record: record.step(report.name),
      outcome: outcomeOf(report),
      dependsOn,
      dependents: [],
    };
  });
  for (const step of steps) {
    for (const dep of step.dependsOn) steps[dep].dependents.push(step.index);
  }
  let endMs = result.durationMs;
  for (const { record } of steps) {
    for (const attempt of record.attempts) {
      endMs = Math.max(endMs, attempt.endMs ?? attempt.runningMs ?? attempt.startMs);
    }
    endMs = Math.max(endMs, record.finishedMs ?? 0);
  }
  return { result, steps, graphKnown, endMs };
}

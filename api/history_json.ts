/**
 * Recorded runs as JSON: what `hwfe runs --json` and `hwfe show --json`
 * print and what the server's API answers, one shape for both. Times are
 * ISO 8601, durations seconds, results JSON with integers of any size
 * exact.
 *
 * @module
 */

import { parseJsonExact } from "../_util/json.ts";
import type { RunRow, StepRow } from "../store/rows.ts";

const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString();
const seconds = (ms: number | undefined) => ms === undefined ? null : ms / 1000;

/** A run as `hwfe runs --json` lists it. */
export function runJson(run: RunRow) {
  return {
    id: run.id,
    workflow: run.workflow,
    file: run.file ?? null,
    status: run.status,
    started: iso(run.startedAt),
    finished: iso(run.finishedAt),
    duration: seconds(run.durationMs),
    hwfe_version: run.hwfeVersion,
    resumed_from: run.resumedFrom ?? null,
  };
}

/** A step as `hwfe show --json` shows it: the fields of `hwfe run --json`, and more. */
export function stepJson(step: StepRow) {
  return {
    status: step.status,
    language: step.language,
    level: step.level,
    attempts: step.attempts,
    started: iso(step.startedAt),
    duration: seconds(step.durationMs),
    waited: seconds(step.waitedMs),
    ...(step.result !== undefined ? { result: parseJsonExact(step.result) } : {}),
    ...(step.error !== undefined ? { error: step.error } : {}),
    ...(step.attemptErrors?.length ? { attempt_errors: step.attemptErrors } : {}),
    ...(step.exitCode !== undefined ? { exit_code: step.exitCode } : {}),
    ...(step.continued ? { continue_on_error: true } : {}),
    ...(step.reusedFrom !== undefined ? { reused_from: step.reusedFrom } : {}),
  };
}

/** A run with its steps, as `hwfe show --json` prints it. */
export function runDetailJson(run: RunRow, steps: StepRow[]) {
  return {
    ...runJson(run),
    file_sha256: run.fileSha256 ?? null,
    error: run.error ?? null,
    mode: run.mode,
    strategy: run.strategy,
    max_parallel_steps: run.maxParallel,
    host: run.host,
    pid: run.pid,
    settings: parseJsonExact(run.settings),
    params: run.params === undefined ? null : parseJsonExact(run.params),
    levels: run.levels,
    // fromEntries defines keys: a step named "__proto__" stays a step.
    steps: Object.fromEntries(steps.map((step) => [step.name, stepJson(step)])),
  };
}

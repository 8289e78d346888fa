/**
 * The JSON document of a run's result, as `hwfe run --json` prints it.
 *
 * @module
 */

import type { RunResult } from "../engine/events.ts";
import { parseJsonExact, stringifyJson } from "../_util/json.ts";
import { escapeJsonText } from "../_util/terminal_text.ts";

const seconds = (ms: number | undefined) => ms === undefined ? undefined : Math.round(ms) / 1000;

/**
 * The `--json` form of a result: durations and start offsets in seconds,
 * steps keyed by name, results as JSON with integers of any size exact.
 * The same document as `hwfe run --json`. Characters a terminal may act
 * on are `\u` escapes even where JSON allows them raw (C1, bidi controls).
 *
 * @example
 * ```ts
 * import { defineWorkflow, resultToJson, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { big: { code: "function run() return 9007199254740993 end" } } });
 * const json = resultToJson(await runWorkflow(workflow));
 * console.log(json.includes("9007199254740993")); // true: exact, not rounded
 * ```
 */
export function resultToJson(
  result: RunResult,
  extra: {
    /** hwfe's version, as `hwfe_version`. */
    version?: string;
    /**
     * The run's record (a `RunRecorder` given every event): each step's
     * output, as kept, as `output`.
     */
    record?: {
      step(name: string): {
        output: readonly { stream: "stdout" | "stderr"; line: string }[];
        droppedChars: number;
      };
    };
    /** The run's id in the history, as `run_id`. */
    runId?: number;
  } = {},
): string {
  const output = (name: string) => {
    if (!extra.record) return {};
    const { output, droppedChars } = extra.record.step(name);
    return {
      output: output.map(({ stream, line }) => ({ stream, line })),
      ...(droppedChars ? { output_dropped_chars: droppedChars } : {}),
    };
  };
  // fromEntries defines keys: a step named "__proto__" would set the
  // prototype if assigned where the accessor exists (--unstable-unsafe-proto).
  const steps = Object.fromEntries(result.steps.map((s) => [s.name, {
    status: s.status,
    language: s.language,
    level: s.level,
    start: seconds(s.startMs) ?? null,
    duration: seconds(s.durationMs) ?? null,
    waited: seconds(s.waitedMs) ?? null,
    ...(s.result !== undefined ? { result: parseJsonExact(s.result) } : {}),
    ...(s.error !== undefined ? { error: s.error } : {}),
    ...(s.attempts !== undefined ? { attempts: s.attempts } : {}),
    ...(s.attemptErrors?.length ? { attempt_errors: s.attemptErrors } : {}),
    ...(s.continued ? { continue_on_error: true } : {}),
    ...(s.reusedFrom !== undefined ? { reused_from: s.reusedFrom } : {}),
    ...output(s.name),
  }]));
  // Only strings hold the characters escaped: the value is the same.
  return escapeJsonText(stringifyJson(
    {
      ...(extra.version ? { hwfe_version: extra.version } : {}),
      ...(extra.runId !== undefined ? { run_id: extra.runId } : {}),
      workflow: result.workflow,
      file: result.file ?? null,
      mode: result.mode,
      strategy: result.strategy,
      max_parallel_steps: result.maxParallel,
      status: result.status,
      duration: seconds(result.durationMs),
      levels: result.levels,
      steps,
    },
    2,
  ));
}

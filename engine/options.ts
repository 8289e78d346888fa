/**
 * The options of a run, one object from the library's caller (or the
 * command line, through api/config.ts) down to the scheduler, and the
 * check of their limits.
 *
 * @module
 */

import { ConfigError } from "../_util/errors.ts";
import type { ExecutionMode, OnFailure, RunEvent, Strategy } from "./events.ts";
import type { Grants } from "./grants.ts";
import { MAX_MEMORY_MB, MAX_TIMEOUT_SECONDS } from "../workflow/model.ts";
import { MAX_OUTPUT_MB, MAX_PARALLEL_STEPS, MAX_RESULT_MB } from "./settings.ts";

/**
 * Options of {@link runWorkflow} and {@link streamWorkflow}: the `hwfe run`
 * flags and `[execution]` settings, for code.
 *
 * @example Parallel, with limits, grants and a deadline
 * ```ts
 * import { defineWorkflow, type RunOptions, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: {
 *     a: { code: "function run() return 1 end" },
 *     b: { code: "function run() return 2 end" },
 *   },
 * });
 * const options: RunOptions = {
 *   mode: "parallel",
 *   strategy: "eager",
 *   maxParallel: 2,
 *   stepTimeout: 60,
 *   stepMemoryMb: 256,
 *   grants: { run: false },
 *   signal: AbortSignal.timeout(30_000),
 * };
 * console.log((await runWorkflow(workflow, options)).status); // "succeeded"
 * ```
 */
export interface RunOptions {
  /** "sequential" (default) or "parallel". */
  mode?: ExecutionMode;
  /**
   * "levels" (default, as the reference engine): a level starts once the one
   * before has finished; "eager": a step starts once its own dependencies have.
   */
  strategy?: Strategy;
  /** Most steps at once in parallel mode; default 4, 0 for the number of CPUs (as `-j 0`). */
  maxParallel?: number;

  /** What a failing step does to the rest of the run; default "cancel". */
  onFailure?: OnFailure;
  /** After a failure, let independent branches finish: `onFailure: "keep_going"`. */
  keepGoing?: boolean;
  /** Timeout in seconds for steps that set none. */
  stepTimeout?: number;
  /** Largest result a step may return, in bytes of JSON; default 64 MiB. */
  maxResultBytes?: number;
  /** Memory limit in MiB for steps without `memory_mb` (in-process default: 1 GiB). */
  stepMemoryMb?: number;
  /** Most output (characters) one step may write; default 64 Mi. */
  maxOutputChars?: number;
  /** The largest wasm module file a step may name, in bytes; default 256 MiB. */
  maxModuleBytes?: number;
  /**
   * Run Python steps in child processes (the default), so that a step that
   * exhausts its JavaScript heap or is stuck in C fails alone. false: in
   * this process, about 0.25 s faster to start, but such a step aborts the
   * whole process. Without permission to start Deno, always in-process.
   */
  isolate?: boolean;
  /** What steps may do; nothing by default. */
  grants?: Partial<Grants>;
  /**
   * Names of environment variables whose values are secrets (`--secret`),
   * besides those a step can read whose names hold TOKEN, SECRET,
   * PASSWORD, PASSWD, KEY or CREDENTIAL. Their values, read from hwfe's
   * environment when the run starts, appear as `***` in every event and
   * in the result: output lines, errors and results (dependent steps still
   * get the real result). Values under 4 characters are not masked.
   */
  secrets?: string[];
  /** Aborting cancels the run. */
  signal?: AbortSignal;
  /** Called for every change of state. */
  onEvent?: (event: RunEvent) => void;
  /**
   * hwfe's cache directory (Python's start-up snapshot); default
   * `HWFE_CACHE_DIR` or the user cache directory; false for none.
   */
  cacheDir?: string | false;
}

/**
 * What the scheduler gets: the run's options with the number of steps at
 * once resolved and the grants complete, plus clocks tests inject.
 */
export interface ScheduleOptions extends Omit<RunOptions, "grants" | "maxParallel"> {
  mode: ExecutionMode;
  /** Steps at once (>= 1); one in sequential mode. */
  maxParallel: number;
  grants: Grants;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
  /** Random numbers in [0, 1) for retry jitter; injectable for tests. */
  random?: () => number;
}

/**
 * Refuses limits out of their range (the CLI checks its flags the same
 * way): a timeout beyond what a timer holds fired at once, and a cap
 * larger than memory can hold is no cap.
 */
export function checkLimits(options: Omit<ScheduleOptions, "mode">): void {
  const MiB = 1024 * 1024;
  const limits: [string, number | undefined, (n: number) => boolean, string][] = [
    [
      "maxParallel",
      options.maxParallel,
      (n) => Number.isInteger(n) && n >= 0 && n <= MAX_PARALLEL_STEPS,
      `a whole number from 0 to ${MAX_PARALLEL_STEPS}`,
    ],
    [
      "stepTimeout",
      options.stepTimeout,
      (n) => n > 0 && n <= MAX_TIMEOUT_SECONDS,
      `more than 0 and at most ${MAX_TIMEOUT_SECONDS} seconds`,
    ],
    [
      "stepMemoryMb",
      options.stepMemoryMb,
      (n) => n > 0 && n <= MAX_MEMORY_MB,
      `more than 0 and at most ${MAX_MEMORY_MB} MiB`,
    ],
    [
      "maxResultBytes",
      options.maxResultBytes,
      (n) => n >= 0 && n <= MAX_RESULT_MB * MiB,
      `from 0 to ${MAX_RESULT_MB * MiB} bytes (${MAX_RESULT_MB} MiB)`,
    ],
    [
      "maxOutputChars",
      options.maxOutputChars,
      (n) => n >= 0 && n <= MAX_OUTPUT_MB * MiB,
      `from 0 to ${MAX_OUTPUT_MB * MiB} characters (${MAX_OUTPUT_MB} Mi)`,
    ],
  ];
  for (const [name, value, valid, range] of limits) {
    if (value !== undefined && !(typeof value === "number" && valid(value))) {
      throw new ConfigError(`RunOptions.${name} must be ${range}, got ${value}`);
    }
  }
}

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
import { MAX_MEMORY_MB, MAX_TIMEOUT_SECONDS, type Step } from "../workflow/model.ts";
import type { JsonText } from "../_util/json.ts";
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
  /**
   * Results to take instead of running steps (hwfe's history does this for
   * `--resume`, `--only` and `cache = true`). When set, even to `{}`, every
   * step is hashed before it runs, and reports carry `hash`.
   */
  reuse?: StepReuse;
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
 * A result taken instead of running a step.
 *
 * @example
 * ```ts
 * import type { ReusedResult } from "../mod.ts";
 *
 * const stored: ReusedResult = { result: "42", runId: 7 };
 * ```
 */
export interface ReusedResult {
  /** The step's result as JSON text, as its dependents get it. */
  result: JsonText;
  /** The run that computed it. */
  runId: number;
  /** Its hash in that run, passed on to dependents' hashes. */
  hash?: string;
}

/**
 * Where a run finds results it need not compute (`RunOptions.reuse`).
 *
 * @example Reuse results kept from an earlier run, by hash
 * ```ts
 * import { defineWorkflow, type ReusedResult, runWorkflow, type StepReuse } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { code: "function run() return 1 end" } } });
 * const kept = new Map<string, ReusedResult>();
 * const reuse: StepReuse = { find: (_step, hash) => kept.get(hash) };
 * const first = await runWorkflow(workflow, { reuse });
 * const hash = first.steps[0].hash!;
 * kept.set(hash, { result: first.steps[0].result!, runId: 1, hash });
 * const second = await runWorkflow(workflow, { reuse });
 * console.log(second.steps[0].reusedFrom); // 1
 * ```
 */
export interface StepReuse {
  /**
   * Results given outright, by step name: such a step does not run, and
   * its dependencies need not be in the workflow.
   */
  given?: ReadonlyMap<string, ReusedResult>;
  /**
   * The result to reuse for `step`, whose hash is `hash`, or undefined to
   * run it. Asked once per step, as it is about to run.
   */
  find?(step: Step, hash: string): ReusedResult | undefined;
  /** Told why a step that could have been reused had no hash (its read paths are too large). */
  onUnhashable?(step: Step, why: string): void;
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

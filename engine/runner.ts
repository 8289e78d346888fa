/**
 * The contract every language runner implements.
 *
 * @module
 */

import type { JsonText } from "../_util/json.ts";
import type { Language, Step, Workflow } from "../workflow/model.ts";

export type { Grants, StepAccess } from "./grants.ts";
import type { Grants, StepAccess } from "./grants.ts";

/** A grant a step needs before it may start. */
export interface GrantNeed {
  grant: "run";
  /** The flag that gives it, e.g. `--allow-run`. */
  flag: string;
}

/** Everything a runner gets for one step. */
export interface StepContext {
  step: Step;
  workflow: Workflow;
  /** JSON text of an object mapping each direct dependency to its result. */
  inputs: JsonText;
  /** Each direct dependency's result as JSON text. */
  inputsByName: ReadonlyMap<string, JsonText>;
  /** Aborts on timeout or cancellation; the runner must then stop promptly. */
  signal: AbortSignal;
  /**
   * For runners with `reportsStart`: call when the step's own code begins
   * (its runtime is ready); the step's timeout counts from then.
   */
  started(): void;
  /** Output of the step, in chunks of any size (the engine splits lines). */
  write(stream: "stdout" | "stderr", text: string): void;
  grants: Grants;
  /**
   * The environment variables the step declared and the run granted, with
   * their values on this host (unset variables are absent).
   */
  env?: Record<string, string>;
  /**
   * The paths and hosts the step declared and the run granted; undefined
   * when it declared none. Runners on the step host run such a step on a
   * worker whose Deno permissions are exactly these.
   */
  access?: StepAccess;
  /**
   * The step's memory limit in MiB (its `memory_mb`, else the run's
   * `--step-memory`); undefined when neither set one: in-process runtimes
   * then use DEFAULT_STEP_MEMORY_MB, shell steps no limit.
   */
  memoryMb?: number;
}

/** The memory limit of an in-process step that sets none: 1 GiB. */
export const DEFAULT_STEP_MEMORY_MB = 1024;

/** The memory limit a runtime applies to a step. */
export function stepMemoryMb(ctx: Pick<StepContext, "memoryMb">): number {
  return ctx.memoryMb ?? DEFAULT_STEP_MEMORY_MB;
}

/**
 * What a language knows of a step before anything runs: checked before a
 * run starts, and by validation, which needs no runtime for it.
 */
export interface StepChecks {
  /** Grants a step needs to run at all. */
  needs?(step: Step): GrantNeed[];
  /** What this runtime cannot do with a step as declared, in its workflow. */
  problems?(step: Step, workflow: Workflow): string[];
}

/** Runs the steps of one language. */
export interface Runner extends StepChecks {
  readonly language: Language;
  /**
   * True when the runner calls `ctx.started()` once a runtime is ready, so
   * that start-up (a cold Python, say) does not count against the step's
   * timeout. Otherwise the timeout counts from the step's start.
   */
  readonly reportsStart?: boolean;
  /**
   * Starts loading the runtime ahead of need, for `count` steps at once
   * (and, for TypeScript, transpiling the workflow's steps), for steps
   * with the run's memory limit (`memoryMb`; the default when undefined).
   */
  warmUp?(count: number, workflow: Workflow, memoryMb?: number): void;
  /** Finishes background work (cache writes) once the run is over. */
  close?(): Promise<void>;
  /** Runs a step; resolves to its result as JSON text, rejects with a StepError. */
  run(ctx: StepContext): Promise<JsonText>;
}

/**
 * A runtime became ready in a worker (the `runtime_started` event).
 *
 * @example
 * ```ts
 * import type { RunEvent, RuntimeStart } from "../mod.ts";
 *
 * const starts: RuntimeStart[] = [];
 * const onEvent = (event: RunEvent) => {
 *   if (event.type === "runtime_started") starts.push(event);
 * };
 * ```
 */
export interface RuntimeStart {
  /** The runtime's name, e.g. "python". */
  runtime: string;
  /** Restored from a cached snapshot, or started from scratch. */
  from: "snapshot" | "cold";
  /** Milliseconds from starting the worker to ready. */
  ms: number;
  /** Why a cached snapshot was not used, when there was one. */
  note?: string;
}

/** How runners report what is not a step's own output. */
export interface RunnerEvents {
  /** Something the user should know (a cache that cannot be written, say). */
  onWarning?(message: string): void;
  /**
   * A runtime starts from scratch, which is slow, and will not have to
   * again (the `runtime_starting` event): said before the wait, once.
   */
  onRuntimeStarting?(runtime: string): void;
  onRuntimeStarted?(start: RuntimeStart): void;
}

/** Runners by language; a language without a runner cannot run yet. */
export type RunnerRegistry = ReadonlyMap<Language, Runner>;

/** The checks of every language that can run, by language. */
export type CheckRegistry = ReadonlyMap<Language, StepChecks>;

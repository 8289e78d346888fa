/**
 * The contract every language runner implements.
 *
 * @module
 */

import type { JsonText } from "../lib/json.ts";
import type { Language, Step, Workflow } from "../lib/workflow.ts";

/** What the run grants to steps. Nothing is granted by default. */
export interface Grants {
  /** `--allow-run`: shell steps may start processes. */
  run: boolean;
}

/** A grant a step needs before it may start. */
export interface GrantNeed {
  grant: keyof Grants;
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
  /** Output of the step, in chunks of any size (the engine splits lines). */
  write(stream: "stdout" | "stderr", text: string): void;
  grants: Grants;
}

/** Runs the steps of one language. */
export interface Runner {
  readonly language: Language;
  /** Grants a step needs to run at all (checked before the run starts). */
  needs?(step: Step): GrantNeed[];
  /** Starts loading the runtime ahead of need. */
  warmUp?(): void;
  /** Runs a step; resolves to its result as JSON text, rejects with a StepError. */
  run(ctx: StepContext): Promise<JsonText>;
}

/** Runners by language; a language without a runner cannot run yet. */
export type RunnerRegistry = ReadonlyMap<Language, Runner>;

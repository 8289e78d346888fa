/**
 * Domain errors. Each carries the process exit code it maps to; only `cli.ts`
 * turns an error into `Deno.exit`.
 *
 * @module
 */

/** Exit codes of the `hwfe` command. */
export const ExitCode = {
  ok: 0,
  stepFailed: 1,
  usage: 2,
  /** A bug in hwfe (sysexits' EX_SOFTWARE). */
  internal: 70,
  interrupted: 130,
  terminated: 143,
} as const;

/** The message of an error, or what was thrown as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Base class of every error hwfe raises on purpose (never a bug): its
 * message is meant for the user as it is.
 *
 * @example
 * ```ts
 * import { HwfeError, parseWorkflowSource } from "../mod.ts";
 *
 * try {
 *   await parseWorkflowSource("workflow = ", "broken.lua");
 * } catch (error) {
 *   if (error instanceof HwfeError) console.log(error.message); // broken.lua: Lua syntax error: ...
 *   else throw error;
 * }
 * ```
 */
export class HwfeError extends Error {
  /** The exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** `message` is what the user sees; `exitCode` what the CLI exits with. */
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "HwfeError";
    this.exitCode = exitCode;
  }
}

/**
 * A workflow file or object that cannot be loaded or is invalid, or a step
 * whose language cannot run as declared.
 *
 * @example
 * ```ts
 * import { defineWorkflow, WorkflowError } from "../mod.ts";
 *
 * try {
 *   defineWorkflow({ steps: { a: { language: "cobol", code: "" } } });
 * } catch (error) {
 *   if (error instanceof WorkflowError) console.log(error.problems.length); // 1
 * }
 * ```
 */
export class WorkflowError extends HwfeError {
  /** Every problem found, each a full sentence naming the file and step. */
  readonly problems: string[];
  /** One error for all `problems`, one per line in the message. */
  constructor(problems: string[], options?: ErrorOptions) {
    super(problems.join("\n"), ExitCode.usage, options);
    this.name = "WorkflowError";
    this.problems = problems;
  }
}

/** A configuration file, environment variable or flag with a bad value. */
export class ConfigError extends HwfeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.usage, options);
    this.name = "ConfigError";
  }
}

/**
 * A step needs a grant (such as `--allow-run`) that the run does not give.
 * Thrown before anything runs.
 *
 * @example
 * ```ts
 * import { defineWorkflow, PermissionError, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { ls: { language: "shell", code: "ls" } } });
 * try {
 *   await runWorkflow(workflow); // no grants
 * } catch (error) {
 *   if (error instanceof PermissionError) {
 *     console.log(error.message); // step 'ls' (shell) needs grants: { run: true }
 *     console.log(error.missingFlags); // ["--allow-run"]
 *   }
 * }
 * ```
 */
export class PermissionError extends HwfeError {
  /** The `hwfe run` flags that would make the run acceptable, e.g. `["--allow-run"]`. */
  readonly missingFlags: string[];
  /** The same as `message`, in the words of the `hwfe` command (its flags). */
  readonly cliMessage: string;
  /**
   * `message` names the steps and what to add to `RunOptions.grants`;
   * `missingFlags` the `hwfe run` flags that would grant it;
   * `options.cliMessage` says it with flags (default: `message`).
   */
  constructor(
    message: string,
    missingFlags: string[],
    options?: ErrorOptions & { cliMessage?: string },
  ) {
    super(message, ExitCode.usage, options);
    this.name = "PermissionError";
    this.missingFlags = missingFlags;
    this.cliMessage = options?.cliMessage ?? message;
  }
}

/** A step that failed; `message` is what the user sees. */
export class StepError extends HwfeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.stepFailed, options);
    this.name = "StepError";
  }
}

/** Returns a "did you mean" hint for `word` among `candidates`, or "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best = "";
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best && bestDistance <= limit ? ` (did you mean '${best}'?)` : "";
}

/** Levenshtein distance, two rows at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

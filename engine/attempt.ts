/**
 * One attempt at one step: its timeout, its output cap, cancellation, and
 * the checks on its result; and the wait before the next attempt.
 *
 * @module
 */

import { StepError } from "../_util/errors.ts";
import type { StepReport } from "./events.ts";
import { compactJson, jsonObjectOf, type JsonText } from "../_util/json.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import type { Runner } from "./runner.ts";
import { type Grants, stepAccess, stepEnv } from "./grants.ts";

/** The longest wait between two attempts. */
const MAX_RETRY_DELAY_MS = 5 * 60 * 1000;

/**
 * Milliseconds to wait before retry number `attempt` (1-based): the base
 * delay doubled for each earlier retry, capped at five minutes, with
 * "equal jitter" (between half and all of it) so that steps retrying
 * together spread out.
 */
export function retryDelayMs(baseSeconds: number, attempt: number, random: () => number): number {
  const full = Math.min(MAX_RETRY_DELAY_MS, baseSeconds * 1000 * 2 ** (attempt - 1));
  return full / 2 + random() * (full / 2);
}

/** Waits `ms`; false when `signal` aborted first. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const encoder = new TextEncoder();

/** Whether JSON text is larger than `max` bytes of UTF-8 (encoding only when it may be). */
/**
 * Most characters of a step's error kept: step code chooses its error's
 * text (`error(("x"):rep(2^28))`), and every error is printed, stored and
 * written as JSON.
 */
export const MAX_ERROR_CHARS = 16 * 1024;

/** `message`, cut to MAX_ERROR_CHARS with a note of how much was left out. */
export function shortened(message: string): string {
  if (message.length <= MAX_ERROR_CHARS) return message;
  const cut = message.slice(0, MAX_ERROR_CHARS);
  return `${cut}… (${message.length - cut.length} more characters)`;
}

function overLimit(text: string, max: number): number | undefined {
  // A UTF-16 unit is 1 to 3 bytes of UTF-8: short text needs no encoding,
  // and long text is over without it (its length then stands for its size).
  if (text.length * 3 <= max) return undefined;
  if (text.length > max) return text.length;
  const bytes = encoder.encode(text).length;
  return bytes > max ? bytes : undefined;
}

/**
 * Most levels of nesting in a result, as the Lua, Python and JavaScript
 * runtimes allow: a shell or wasm step could return JSON nested so deep
 * that printing it (`--json`) overflowed the stack.
 */
const MAX_RESULT_DEPTH = 500;

/** Whether JSON text nests arrays and objects more than `max` levels deep. */
function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // a string: skip to its closing quote
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

/** Splits chunks of output into whole lines. */
export class LineSplitter {
  #partial = "";
  constructor(readonly emit: (line: string) => void) {}
  push(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) this.emit(line.endsWith("\r") ? line.slice(0, -1) : line);
  }
  flush(): void {
    if (this.#partial) this.emit(this.#partial);
    this.#partial = "";
  }
}

/** What one attempt needs from its run. */
export interface Attempt {
  workflow: Workflow;
  step: Step;
  runner: Runner;
  inputsByName: Map<string, JsonText>;
  splitters: Record<"stdout" | "stderr", LineSplitter>;
  /** The run's stop: its reason is "interrupted" (Ctrl-C) or "failure" (another step failed). */
  stop: AbortSignal;
  stepTimeout?: number;
  stepMemoryMb?: number;
  grants: Grants;
  maxResultBytes: number;
  maxOutputChars: number;
  /** The run's clock, in milliseconds. */
  now: () => number;
  /** Hides the run's secrets (engine/mask.ts) in the step's error, before it is shortened. */
  mask?: (text: string) => string;
}

/**
 * One attempt at a step: its own timeout, cancellation and result checks.
 * `waitedMs`: the time before the step's code ran, spent waiting for a
 * runtime (a worker to be free or to start); for runners that report their
 * start (`reportsStart`), else 0. It is not part of the step's own time.
 */
export async function runAttempt(
  attempt: Attempt,
  onRunning: () => void = () => {},
): Promise<Partial<StepReport>> {
  const begun = attempt.now();
  let running: number | undefined;
  const started = () => {
    if (running !== undefined) return;
    running = attempt.now();
    onRunning();
  };
  if (!attempt.runner.reportsStart) started();
  const outcome = await attemptOnce(attempt, started);
  return { ...outcome, waitedMs: (running ?? attempt.now()) - begun };
}

async function attemptOnce(
  attempt: Attempt,
  onRunning: () => void,
): Promise<Partial<StepReport>> {
  const { workflow, step, runner, inputsByName, splitters, stop } = attempt;
  const { maxResultBytes, maxOutputChars } = attempt;
  const name = step.name;
  const controller = new AbortController();
  const onStop = () => controller.abort("cancelled");
  stop.addEventListener("abort", onStop, { once: true });
  if (stop.aborted) controller.abort("cancelled");
  const timeout = step.timeout ?? attempt.stepTimeout;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const armTimeout = () => {
    onRunning();
    if (timeout === undefined || timer !== undefined || controller.signal.aborted) return;
    timer = setTimeout(() => controller.abort("timeout"), timeout * 1000);
  };
  if (!runner.reportsStart) armTimeout();
  let written = 0;
  const write = (stream: "stdout" | "stderr", text: string) => {
    if (controller.signal.aborted) return;
    written += text.length;
    if (written > maxOutputChars) return controller.abort("output");
    splitters[stream].push(text);
  };
  try {
    const json = await runner.run({
      step,
      workflow,
      inputs: jsonObjectOf(inputsByName),
      inputsByName,
      signal: controller.signal,
      started: armTimeout,
      write,
      grants: attempt.grants,
      env: stepEnv(step, attempt.grants),
      access: stepAccess(step, attempt.grants),
      memoryMb: step.memoryMb ?? attempt.stepMemoryMb,
    });
    if (controller.signal.aborted) throw new StepError("aborted");
    // Measured before parsing: a huge result must not reach JSON.parse and
    // JSON.stringify (see MAX_RESULT_MB). The text as sent may hold spaces
    // that compacting drops; the runtimes send it compact.
    const bytes = overLimit(json, maxResultBytes);
    if (bytes !== undefined) {
      throw new StepError(
        `step '${name}' (${step.language}) returned ${formatBytes(bytes)}, over the ${
          formatBytes(maxResultBytes)
        } limit on a result (raise it with --max-result-mb)`,
      );
    }
    let result: JsonText;
    try {
      result = compactJson(json);
    } catch {
      throw new StepError(`step '${name}' (${step.language}) produced a result that is not JSON`);
    }
    if (nestedDeeper(result, MAX_RESULT_DEPTH)) {
      throw new StepError(
        `step '${name}' (${step.language}) returned a value nested more than ` +
          `${MAX_RESULT_DEPTH} levels deep`,
      );
    }
    return { status: "succeeded", result };
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    if (reason === "timeout") {
      return {
        status: "failed",
        error: `step '${name}' timed out after ${formatSeconds(timeout!)}`,
      };
    }
    if (reason === "output") {
      return {
        status: "failed",
        error: `step '${name}' wrote more than ${
          formatBytes(maxOutputChars)
        } of output and was stopped (raise it with --max-output-mb)`,
      };
    }
    if (reason === "cancelled") {
      return {
        status: "cancelled",
        error: stop.reason === "interrupted"
          ? "the run was interrupted"
          : "cancelled after another step failed",
      };
    }
    const message = error instanceof StepError
      ? error.message
      : `step '${name}' (${step.language}) failed: ${
        error instanceof Error ? error.message : String(error)
      }`;
    return { status: "failed", error: shortened(attempt.mask?.(message) ?? message) };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
    splitters.stdout.flush();
    splitters.stderr.flush();
  }
}

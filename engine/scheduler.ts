/**
 * The level scheduler: runs a planned workflow level by level, at most
 * `maxParallel` steps at once (one in sequential mode), handing each step
 * its dependencies' results.
 *
 * Failure (`onFailure`): by default the first failing step stops the run
 * (running steps are cancelled, the rest skipped); "finish_level" lets its
 * level finish first; "keep_going" skips only the failed step's dependents.
 *
 * @module
 */

import { ConfigError, PermissionError, StepError, WorkflowError } from "../_util/errors.ts";
import type {
  ExecutionMode,
  OnFailure,
  RunEvent,
  RunResult,
  StepReport,
  Strategy,
} from "./events.ts";
import { compactJson, jsonObjectOf, type JsonText, stringifyJson } from "../_util/json.ts";
import type { Plan } from "../workflow/plan.ts";
import { Semaphore } from "./semaphore.ts";
import {
  MAX_MEMORY_MB,
  MAX_TIMEOUT_SECONDS,
  type Step,
  type Workflow,
} from "../workflow/workflow.ts";
import { MAX_PARALLEL_STEPS } from "../api/config.ts";
import type { RunnerRegistry } from "./runner.ts";
import { checkGrants, covers, type Grants, type MissingGrant, stepAccess } from "./grants.ts";

/** How to schedule a run. */
export interface ScheduleOptions {
  mode: ExecutionMode;
  /** "levels" (default) or "eager": see {@link Strategy}. */
  strategy?: Strategy;
  /** Most steps at once in parallel mode (>= 1). */
  maxParallel: number;
  /** What a failing step does to the rest of the run; default "cancel". */
  onFailure?: OnFailure;
  /** Timeout in seconds for steps without their own `timeout`. */
  stepTimeout?: number;
  grants: Grants;
  /** Cancels the run (Ctrl-C). */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
  /** Random numbers in [0, 1) for retry jitter; injectable for tests. */
  random?: () => number;
  /** Largest result a step may return, in bytes (UTF-8 JSON); default 64 MiB. */
  maxResultBytes?: number;
  /** Most output (stdout and stderr, in characters) one attempt may write; default 64 Mi. */
  maxOutputChars?: number;
  /** Memory limit in MiB for steps that set none. */
  stepMemoryMb?: number;
}

/** The default cap on a step's result: 64 MiB of JSON. */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024;
/**
 * The default cap on a step's output: output is kept in memory on its way
 * to the terminal and to shell and WASI results, so a step printing
 * forever must be stopped.
 */
export const DEFAULT_MAX_OUTPUT_CHARS = 64 * 1024 * 1024;
/**
 * The largest cap on a result and on a step's output, in MiB: both are kept
 * as strings, and V8's longest string is about 512 Mi characters.
 */
export const MAX_RESULT_MB = 512;
export const MAX_OUTPUT_MB = 512;
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
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
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
function overLimit(text: string, max: number): number | undefined {
  // A UTF-16 unit is at most 3 bytes of UTF-8, so short text needs no encoding.
  if (text.length * 3 <= max) return undefined;
  const bytes = encoder.encode(text).length;
  return bytes > max ? bytes : undefined;
}

/**
 * Most levels of nesting in a result, as the Lua, Python and JavaScript
 * runtimes allow: a shell or wasm step could return JSON nested so deep
 * that printing it (`--json`) overflowed the stack.
 */
export const MAX_RESULT_DEPTH = 500;

/** Whether JSON text nests arrays and objects more than `max` levels deep. */
export function nestedDeeper(text: string, max: number): boolean {
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

const LANGUAGE_NAMES: Record<string, string> = {
  python: "Python",
  javascript: "JavaScript",
  typescript: "TypeScript",
  wasm: "WebAssembly",
};

/**
 * Refuses, before anything starts, a workflow with a step whose language
 * has no runner, that its runtime cannot run as declared, or that needs a
 * grant the run does not give. Without `grants` (validation), grants are
 * not checked.
 */
export function checkRunnable(
  workflow: Workflow,
  runners: RunnerRegistry,
  grants?: Grants,
): void {
  const where = workflow.file ? `${workflow.file}: ` : "";
  const unsupported: string[] = [];
  const missing = new Map<string, MissingGrant>(); // by flag: the first step needing it
  for (const step of workflow.steps.values()) {
    const runner = runners.get(step.language);
    if (!runner) {
      unsupported.push(
        `${where}step '${step.name}' (${step.language}): ${
          LANGUAGE_NAMES[step.language] ?? step.language
        } steps are not supported by this version of hwfe yet`,
      );
      continue;
    }
    for (const problem of runner.problems?.(step, workflow) ?? []) {
      unsupported.push(`${where}step '${step.name}' (${step.language}): ${problem}`);
    }
    for (const need of grants ? runner.needs?.(step) ?? [] : []) {
      if (!grants?.[need.grant] && !missing.has(need.flag)) {
        const who = `step '${step.name}' (${step.language}) needs`;
        missing.set(need.flag, {
          flag: need.flag,
          message: `${who} grants: { ${need.grant}: true }`,
          cliMessage: `${who} ${need.flag}`,
        });
      }
    }
  }
  if (unsupported.length) throw new WorkflowError(unsupported);
  if (!grants) return;
  checkGrants(workflow, grants, missing);
  if (missing.size) {
    const needs = [...missing.values()];
    throw new PermissionError(needs.map((n) => n.message).join("; "), [...missing.keys()], {
      cliMessage: needs.map((n) => n.cliMessage).join("; "),
    });
  }
}

/** The granted environment variables a step declared, with their values (unset ones absent). */
export function stepEnv(step: Step, grants: Grants): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of step.permissions.env) {
    if (!covers(grants.env?.allow, name) || covers(grants.env?.deny, name)) continue;
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

/** Splits chunks of output into whole lines. */
class LineSplitter {
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

/**
 * Refuses limits out of their range (the CLI checks its flags the same
 * way): a timeout beyond what a timer holds fired at once, and a cap
 * larger than memory can hold is no cap.
 */
export function checkLimits(options: ScheduleOptions): void {
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

/** Runs a validated, planned workflow. Never throws for a failing step. */
export async function schedule(
  workflow: Workflow,
  plan: Plan,
  runners: RunnerRegistry,
  options: ScheduleOptions,
): Promise<RunResult> {
  checkLimits(options);
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const maxOutputChars = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
  const emit = options.onEvent ?? (() => {});
  const permits = options.mode === "sequential" ? 1 : Math.max(1, options.maxParallel);
  const semaphore = new Semaphore(permits);
  const stop = new AbortController(); // fail-fast or interruption
  const onFailure = options.onFailure ?? "cancel";
  // finish_level: a step failed; the run stops once its level is done
  // (levels strategy) or starts nothing more (eager).
  let failedInLevel = false;
  const onExternalAbort = () => stop.abort("interrupted");
  options.signal?.addEventListener("abort", onExternalAbort, { once: true });
  if (options.signal?.aborted) stop.abort("interrupted");

  const reports = new Map<string, StepReport>();
  for (const [i, names] of plan.levels.entries()) {
    for (const name of names) {
      const step = workflow.steps.get(name)!;
      reports.set(name, { name, language: step.language, level: i + 1, status: "pending" });
    }
  }
  const results = new Map<string, JsonText>();
  const started = now();
  const strategy = options.strategy ?? "levels";
  emit({
    type: "run_started",
    workflow: workflow.name,
    mode: options.mode,
    strategy,
    maxParallel: permits,
    levels: plan.levels,
  });

  const finish = (report: StepReport, patch: Partial<StepReport>) => {
    Object.assign(report, patch);
    emit({ type: "step_finished", report: { ...report } });
  };

  async function runStep(name: string): Promise<void> {
    const report = reports.get(name)!;
    const step = workflow.steps.get(name)!;
    const blocked = step.dependsOn.find((dep) => {
      const report = reports.get(dep)!;
      return report.status !== "succeeded" && !report.continued;
    });
    if (blocked) {
      return finish(report, {
        status: "skipped",
        error: `dependency '${blocked}' ${reports.get(blocked)!.status}`,
      });
    }
    await semaphore.acquire();
    try {
      if (stop.signal.aborted) {
        return finish(report, {
          status: "skipped",
          error: stop.signal.reason === "interrupted"
            ? "the run was interrupted"
            : "the run stopped after a failure",
        });
      }
      if (failedInLevel && strategy === "eager") {
        return finish(report, { status: "skipped", error: "the run stopped after a failure" });
      }
      await execute(name, report);
    } finally {
      semaphore.release();
    }
  }

  async function execute(name: string, report: StepReport): Promise<void> {
    const step = workflow.steps.get(name)!;
    const inputsByName = new Map(step.dependsOn.map((dep) => [dep, results.get(dep)!]));
    const splitters = {
      stdout: new LineSplitter((line) =>
        emit({ type: "step_output", step: name, stream: "stdout", line })
      ),
      stderr: new LineSplitter((line) =>
        emit({ type: "step_output", step: name, stream: "stderr", line })
      ),
    };
    const startedAt = now();
    report.status = "running";
    report.startMs = startedAt - started;
    emit({
      type: "step_started",
      step: name,
      language: step.language,
      level: report.level,
      atMs: report.startMs,
    });
    const attempts = step.retries + 1;
    const errors: string[] = [];
    let outcome: Partial<StepReport> = {};
    for (let attempt = 1; attempt <= attempts; attempt++) {
      outcome = await runAttempt(name, inputsByName, splitters);
      if (outcome.status !== "failed") break;
      errors.push(outcome.error!);
      if (attempt === attempts || stop.signal.aborted) break;
      const delayMs = retryDelayMs(step.retryDelay, attempt, random);
      emit({
        type: "step_retrying",
        step: name,
        attempt,
        attempts,
        error: outcome.error!,
        delayMs,
      });
      if (!await pause(delayMs, stop.signal)) break; // the run stopped while waiting
    }
    if (attempts > 1) {
      outcome.attempts = errors.length + (outcome.status === "failed" ? 0 : 1);
      if (errors.length) outcome.attemptErrors = errors;
    }
    if (outcome.status === "succeeded") results.set(name, outcome.result!);
    if (outcome.status === "failed" && step.continueOnError) {
      outcome.continued = true;
      // Dependents run, with the error in place of a result.
      results.set(name, stringifyJson({ error: outcome.error, status: "failed" }));
    }
    finish(report, { ...outcome, durationMs: now() - startedAt });
    if (outcome.status === "failed" && !outcome.continued) {
      // One step at a time, nothing else runs: finish_level stops at once,
      // as the reference engine's sequential mode does.
      if (
        onFailure === "cancel" || (onFailure === "finish_level" && options.mode === "sequential")
      ) {
        stop.abort("failure");
      } else if (onFailure === "finish_level") failedInLevel = true;
    }
  }

  /** One attempt at a step: its own timeout, cancellation and result checks. */
  async function runAttempt(
    name: string,
    inputsByName: Map<string, JsonText>,
    splitters: Record<"stdout" | "stderr", LineSplitter>,
  ): Promise<Partial<StepReport>> {
    const step = workflow.steps.get(name)!;
    const runner = runners.get(step.language)!;
    const controller = new AbortController();
    const onStop = () => controller.abort("cancelled");
    stop.signal.addEventListener("abort", onStop, { once: true });
    if (stop.signal.aborted) controller.abort("cancelled");
    const timeout = step.timeout ?? options.stepTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const armTimeout = () => {
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
        grants: options.grants,
        env: stepEnv(step, options.grants),
        access: stepAccess(step, options.grants),
        memoryMb: step.memoryMb ?? options.stepMemoryMb,
      });
      if (controller.signal.aborted) throw new StepError("aborted");
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
      const bytes = overLimit(result, maxResultBytes);
      if (bytes !== undefined) {
        throw new StepError(
          `step '${name}' (${step.language}) returned ${formatBytes(bytes)}, over the ${
            formatBytes(maxResultBytes)
          } limit on a result (raise it with --max-result-mb)`,
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
          error: stop.signal.reason === "interrupted"
            ? "the run was interrupted"
            : "cancelled after another step failed",
        };
      }
      return {
        status: "failed",
        error: error instanceof StepError
          ? error.message
          : `step '${name}' (${step.language}) failed: ${
            error instanceof Error ? error.message : String(error)
          }`,
      };
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener("abort", onStop);
      splitters.stdout.flush();
      splitters.stderr.flush();
    }
  }

  try {
    if (strategy === "levels") {
      for (const names of plan.levels) {
        await Promise.all(names.map(runStep));
        if (failedInLevel && !stop.signal.aborted) stop.abort("failure");
      }
    } else {
      // Eager: each step waits for its own dependencies only. Steps are
      // started in plan order, so those ready together queue for permits
      // in level-then-name order (the semaphore is FIFO).
      const finished = new Map<string, Promise<void>>();
      for (const name of plan.levels.flat()) {
        const deps = workflow.steps.get(name)!.dependsOn.map((dep) => finished.get(dep)!);
        finished.set(
          name,
          deps.length ? Promise.all(deps).then(() => runStep(name)) : runStep(name),
        );
      }
      await Promise.all(finished.values());
    }
  } finally {
    options.signal?.removeEventListener("abort", onExternalAbort);
  }

  const steps = [...reports.values()];
  const result: RunResult = {
    workflow: workflow.name,
    file: workflow.file,
    mode: options.mode,
    strategy,
    maxParallel: permits,
    status: stop.signal.reason === "interrupted"
      ? "cancelled"
      : steps.every((s) => s.status === "succeeded" || s.continued)
      ? "succeeded"
      : "failed",
    durationMs: now() - started,
    levels: plan.levels,
    steps,
  };
  emit({ type: "run_finished", result });
  return result;
}

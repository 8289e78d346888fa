/**
 * The level scheduler: runs a planned workflow level by level, at most
 * `maxParallel` steps at once (one in sequential mode), handing each step
 * its dependencies' results. One attempt at a step is engine/attempt.ts.
 *
 * Failure (`onFailure`): by default the first failing step stops the run
 * (running steps are cancelled, the rest skipped); "finish_level" lets its
 * level finish first; "keep_going" skips only the failed step's dependents.
 *
 * @module
 */

import { PermissionError, WorkflowError } from "../_util/errors.ts";
import type { OnFailure, RunEvent, RunResult, StepReport, Strategy } from "./events.ts";
import { type JsonText, stringifyJson } from "../_util/json.ts";
import type { Plan } from "../workflow/plan.ts";
import { Semaphore } from "./semaphore.ts";
import type { Workflow } from "../workflow/model.ts";
import { DEFAULT_MAX_OUTPUT_CHARS, DEFAULT_MAX_RESULT_BYTES } from "./settings.ts";
import type { CheckRegistry, RunnerRegistry } from "./runner.ts";
import type { Grants } from "./grants.ts";
import { LANGUAGE_NAMES } from "../workflow/model.ts";
import { checkGrants, type MissingGrant } from "./grant_check.ts";
import { checkLimits, type ScheduleOptions } from "./options.ts";
import { LineSplitter, pause, retryDelayMs, runAttempt } from "./attempt.ts";
import { Masker, MIN_SECRET_LENGTH, runSecrets, type Secrets } from "./mask.ts";
import { stepHash } from "./step_hash.ts";

/**
 * Refuses, before anything starts, a workflow with a step whose language
 * has no runner, that its runtime cannot run as declared, or that needs a
 * grant the run does not give. Without `grants` (validation), grants are
 * not checked.
 */
export function checkRunnable(
  workflow: Workflow,
  runners: CheckRegistry,
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

/** Runs a validated, planned workflow. Never throws for a failing step. */
export function schedule(
  workflow: Workflow,
  plan: Plan,
  runners: RunnerRegistry,
  options: ScheduleOptions,
): Promise<RunResult> {
  checkLimits(options);
  return new Run(workflow, plan, runners, options).run();
}

/** One run's state: step reports, results so far, the permits and the stop signal. */
class Run {
  readonly now: () => number;
  readonly emit: (event: RunEvent) => void;
  readonly permits: number;
  readonly semaphore: Semaphore;
  /** Aborted with "failure" (fail-fast) or "interrupted" (the caller's signal). */
  readonly stop = new AbortController();
  readonly onFailure: OnFailure;
  readonly strategy: Strategy;
  /**
   * finish_level: a step failed; the run stops once its level is done
   * (levels strategy) or starts nothing more (eager).
   */
  failedInLevel = false;
  readonly reports = new Map<string, StepReport>();
  /** Real results, for dependents; reports hold them masked. */
  readonly results = new Map<string, JsonText>();
  /** Hashes of the steps that have one (when the run reuses results). */
  readonly hashes = new Map<string, string>();
  /** The run's secrets, read once (engine/mask.ts), and what hides them. */
  readonly secrets: Secrets;
  readonly masker: Masker;
  started = 0;

  constructor(
    readonly workflow: Workflow,
    readonly plan: Plan,
    readonly runners: RunnerRegistry,
    readonly options: ScheduleOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.emit = options.onEvent ?? (() => {});
    this.permits = options.mode === "sequential" ? 1 : Math.max(1, options.maxParallel);
    this.semaphore = new Semaphore(this.permits);
    this.onFailure = options.onFailure ?? "cancel";
    this.strategy = options.strategy ?? "levels";
    this.secrets = runSecrets(workflow, options.grants, options.secrets);
    this.masker = new Masker(this.secrets.values);
    for (const [i, names] of plan.levels.entries()) {
      for (const name of names) {
        const step = workflow.steps.get(name)!;
        this.reports.set(name, { name, language: step.language, level: i + 1, status: "pending" });
      }
    }
  }

  async run(): Promise<RunResult> {
    const { options, plan, workflow } = this;
    const onExternalAbort = () => this.stop.abort("interrupted");
    options.signal?.addEventListener("abort", onExternalAbort, { once: true });
    if (options.signal?.aborted) this.stop.abort("interrupted");
    this.started = this.now();
    this.emit({
      type: "run_started",
      workflow: workflow.name,
      mode: options.mode,
      strategy: this.strategy,
      maxParallel: this.permits,
      levels: plan.levels,
    });
    for (const name of this.secrets.short) {
      this.emit({
        type: "warning",
        message: `the secret ${name} is shorter than ${MIN_SECRET_LENGTH} characters ` +
          `(or has such a line), so it is not masked in output; use a longer value`,
      });
    }
    try {
      if (this.strategy === "levels") {
        for (const names of plan.levels) {
          await Promise.all(names.map((name) => this.runStep(name)));
          if (this.failedInLevel && !this.stop.signal.aborted) this.stop.abort("failure");
        }
      } else {
        // Eager: each step waits for its own dependencies only. Steps are
        // started in plan order, so those ready together queue for permits
        // in level-then-name order (the semaphore is FIFO).
        const finished = new Map<string, Promise<void>>();
        for (const name of plan.levels.flat()) {
          const deps = workflow.steps.get(name)!.dependsOn.map((dep) => finished.get(dep)!);
          const start = () => this.runStep(name);
          finished.set(name, deps.length ? Promise.all(deps).then(start) : start());
        }
        await Promise.all(finished.values());
      }
    } finally {
      options.signal?.removeEventListener("abort", onExternalAbort);
    }
    const steps = [...this.reports.values()];
    const result: RunResult = {
      workflow: workflow.name,
      file: workflow.file,
      mode: options.mode,
      strategy: this.strategy,
      maxParallel: this.permits,
      status: this.stop.signal.reason === "interrupted"
        ? "cancelled"
        : steps.every((s) => s.status === "succeeded" || s.continued)
        ? "succeeded"
        : "failed",
      durationMs: this.now() - this.started,
      levels: plan.levels,
      steps,
    };
    this.emit({ type: "run_finished", result });
    return result;
  }

  finish(report: StepReport, patch: Partial<StepReport>): void {
    Object.assign(report, patch);
    this.emit({ type: "step_finished", report: { ...report } });
  }

  async runStep(name: string): Promise<void> {
    const report = this.reports.get(name)!;
    const step = this.workflow.steps.get(name)!;
    const blocked = step.dependsOn.find((dep) => {
      const report = this.reports.get(dep)!;
      return report.status !== "succeeded" && !report.continued;
    });
    if (blocked) {
      return this.finish(report, {
        status: "skipped",
        error: `dependency '${blocked}' ${this.reports.get(blocked)!.status}`,
      });
    }
    await this.semaphore.acquire();
    try {
      const stop = this.stop.signal;
      if (stop.aborted) {
        return this.finish(report, {
          status: "skipped",
          error: stop.reason === "interrupted"
            ? "the run was interrupted"
            : "the run stopped after a failure",
        });
      }
      if (this.failedInLevel && this.strategy === "eager") {
        return this.finish(report, {
          status: "skipped",
          error: "the run stopped after a failure",
        });
      }
      if (!await this.reused(name, report)) await this.execute(name, report);
    } finally {
      this.semaphore.release();
    }
  }

  /**
   * Hashes the step (when the run reuses results) and, when a result is
   * given or found for it, finishes it with that result; false when it
   * must run.
   */
  async reused(name: string, report: StepReport): Promise<boolean> {
    const reuse = this.options.reuse;
    if (!reuse) return false;
    const step = this.workflow.steps.get(name)!;
    let found = reuse.given?.get(name);
    if (!found) {
      // A dependency without a hash (it failed, or could not be hashed) leaves none.
      if (step.dependsOn.some((dep) => !this.hashes.has(dep))) return false;
      const outcome = await stepHash({
        workflow: this.workflow,
        step,
        inputsByName: new Map(step.dependsOn.map((dep) => [dep, this.results.get(dep)!])),
        dependencyHashes: new Map(step.dependsOn.map((dep) => [dep, this.hashes.get(dep)!])),
        grants: this.options.grants,
      });
      if ("unhashable" in outcome) {
        reuse.onUnhashable?.(step, outcome.unhashable);
        return false;
      }
      this.hashes.set(name, outcome.hash);
      found = reuse.find?.(step, outcome.hash);
      if (!found) return false;
    }
    if (found.hash !== undefined) this.hashes.set(name, found.hash);
    this.results.set(name, found.result);
    report.startMs = this.now() - this.started;
    const shown = this.masker.json(found.result);
    this.finish(report, {
      status: "succeeded",
      result: shown,
      durationMs: 0,
      waitedMs: 0,
      reusedFrom: found.runId,
      ...(found.hash !== undefined && shown === found.result ? { hash: found.hash } : {}),
    });
    return true;
  }

  async execute(name: string, report: StepReport): Promise<void> {
    const { options, emit, masker } = this;
    const step = this.workflow.steps.get(name)!;
    const inputsByName = new Map(step.dependsOn.map((dep) => [dep, this.results.get(dep)!]));
    const splitter = (stream: "stdout" | "stderr") =>
      new LineSplitter((line) =>
        emit({ type: "step_output", step: name, stream, line: masker.text(line) })
      );
    const startedAt = this.now();
    report.status = "running";
    report.startMs = startedAt - this.started;
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
    let waitedMs = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      outcome = await runAttempt({
        workflow: this.workflow,
        step,
        runner: this.runners.get(step.language)!,
        inputsByName,
        splitters: { stdout: splitter("stdout"), stderr: splitter("stderr") },
        stop: this.stop.signal,
        stepTimeout: options.stepTimeout,
        stepMemoryMb: options.stepMemoryMb,
        grants: options.grants,
        maxResultBytes: options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
        maxOutputChars: options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS,
        now: this.now,
        mask: (text) => masker.text(text),
      }, () =>
        emit({
          type: "step_running",
          step: name,
          attempt,
          atMs: this.now() - this.started,
        }));
      waitedMs += outcome.waitedMs ?? 0;
      if (outcome.status !== "failed") break;
      errors.push(outcome.error!);
      if (attempt === attempts || this.stop.signal.aborted) break;
      const delayMs = retryDelayMs(step.retryDelay, attempt, options.random ?? Math.random);
      emit({
        type: "step_retrying",
        step: name,
        attempt,
        attempts,
        error: outcome.error!,
        delayMs,
      });
      if (!await pause(delayMs, this.stop.signal)) break; // the run stopped while waiting
    }
    if (attempts > 1) {
      outcome.attempts = errors.length + (outcome.status === "failed" ? 0 : 1);
      if (errors.length) outcome.attemptErrors = errors;
    }
    if (outcome.status === "succeeded") {
      // Dependents get the real result; everything reported, the masked one.
      const real = outcome.result!;
      this.results.set(name, real);
      outcome.result = masker.json(real);
      // A masked result is not the real one: it may never stand in for it.
      const hash = this.hashes.get(name);
      if (hash !== undefined && outcome.result === real) outcome.hash = hash;
    } else this.hashes.delete(name);
    if (outcome.status === "failed" && step.continueOnError) {
      outcome.continued = true;
      // Dependents run, with the error in place of a result.
      this.results.set(name, stringifyJson({ error: outcome.error, status: "failed" }));
    }
    // The step's own time: waiting for a runtime is reported apart.
    this.finish(report, {
      ...outcome,
      waitedMs,
      durationMs: Math.max(0, this.now() - startedAt - waitedMs),
    });
    if (outcome.status === "failed" && !outcome.continued) this.failed();
  }

  /** A step failed for good: what that does to the rest of the run. */
  failed(): void {
    // One step at a time, nothing else runs: finish_level stops at once,
    // as the reference engine's sequential mode does.
    if (
      this.onFailure === "cancel" ||
      (this.onFailure === "finish_level" && this.options.mode === "sequential")
    ) {
      this.stop.abort("failure");
    } else if (this.onFailure === "finish_level") this.failedInLevel = true;
  }
}

/**
 * The level scheduler: runs a planned workflow level by level, at most
 * `maxParallel` steps at once (one in sequential mode), handing each step
 * its dependencies' results.
 *
 * Failure: by default the first failing step stops the run (running steps
 * are cancelled, the rest skipped); with `keepGoing` only the dependents of
 * a failed step are skipped.
 *
 * @module
 */

import { PermissionError, StepError, WorkflowError } from "./errors.ts";
import type { ExecutionMode, RunEvent, RunResult, StepReport } from "./events.ts";
import { compactJson, jsonObjectOf, type JsonText } from "./json.ts";
import type { Plan } from "./plan.ts";
import { Semaphore } from "./semaphore.ts";
import type { Workflow } from "./workflow.ts";
import type { Grants, RunnerRegistry } from "../runners/types.ts";

/** How to schedule a run. */
export interface ScheduleOptions {
  mode: ExecutionMode;
  /** Most steps at once in parallel mode (>= 1). */
  maxParallel: number;
  /** Let independent branches finish after a failure. */
  keepGoing?: boolean;
  /** Timeout in seconds for steps without their own `timeout`. */
  stepTimeout?: number;
  grants: Grants;
  /** Cancels the run (Ctrl-C). */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
}

const LANGUAGE_NAMES: Record<string, string> = {
  python: "Python",
  javascript: "JavaScript",
  typescript: "TypeScript",
  wasm: "WebAssembly",
};

/**
 * Refuses, before anything starts, a workflow with a step whose language
 * has no runner or that needs a grant the run does not give.
 */
export function checkRunnable(workflow: Workflow, runners: RunnerRegistry, grants: Grants): void {
  const where = workflow.file ? `${workflow.file}: ` : "";
  const unsupported: string[] = [];
  const missing = new Map<string, string>(); // flag -> first step needing it
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
    for (const need of runner.needs?.(step) ?? []) {
      if (!grants[need.grant] && !missing.has(need.flag)) {
        missing.set(need.flag, `step '${step.name}' (${step.language}) needs ${need.flag}`);
      }
    }
  }
  if (unsupported.length) throw new WorkflowError(unsupported);
  if (missing.size) {
    throw new PermissionError([...missing.values()].join("; "), [...missing.keys()]);
  }
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

/** Runs a validated, planned workflow. Never throws for a failing step. */
export async function schedule(
  workflow: Workflow,
  plan: Plan,
  runners: RunnerRegistry,
  options: ScheduleOptions,
): Promise<RunResult> {
  const now = options.now ?? (() => performance.now());
  const emit = options.onEvent ?? (() => {});
  const permits = options.mode === "sequential" ? 1 : Math.max(1, options.maxParallel);
  const semaphore = new Semaphore(permits);
  const stop = new AbortController(); // fail-fast or interruption
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
  emit({
    type: "run_started",
    workflow: workflow.name,
    mode: options.mode,
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
    const blocked = step.dependsOn.find((dep) => reports.get(dep)!.status !== "succeeded");
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
      await execute(name, report);
    } finally {
      semaphore.release();
    }
  }

  async function execute(name: string, report: StepReport): Promise<void> {
    const step = workflow.steps.get(name)!;
    const runner = runners.get(step.language)!;
    const inputsByName = new Map(step.dependsOn.map((dep) => [dep, results.get(dep)!]));
    const controller = new AbortController();
    const onStop = () => controller.abort("cancelled");
    stop.signal.addEventListener("abort", onStop, { once: true });
    const timeout = step.timeout ?? options.stepTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const armTimeout = () => {
      if (timeout === undefined || timer !== undefined || controller.signal.aborted) return;
      timer = setTimeout(() => controller.abort("timeout"), timeout * 1000);
    };
    if (!runner.reportsStart) armTimeout();
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
    let outcome: Partial<StepReport>;
    try {
      const json = await runner.run({
        step,
        workflow,
        inputs: jsonObjectOf(inputsByName),
        inputsByName,
        signal: controller.signal,
        started: armTimeout,
        write: (stream, text) => splitters[stream].push(text),
        grants: options.grants,
      });
      if (controller.signal.aborted) throw new StepError("aborted");
      let result: JsonText;
      try {
        result = compactJson(json);
      } catch {
        throw new StepError(`step '${name}' (${step.language}) produced a result that is not JSON`);
      }
      results.set(name, result);
      outcome = { status: "succeeded", result };
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason === "timeout") {
        outcome = {
          status: "failed",
          error: `step '${name}' timed out after ${formatSeconds(timeout!)}`,
        };
      } else if (reason === "cancelled") {
        outcome = {
          status: "cancelled",
          error: stop.signal.reason === "interrupted"
            ? "the run was interrupted"
            : "cancelled after another step failed",
        };
      } else {
        outcome = {
          status: "failed",
          error: error instanceof StepError
            ? error.message
            : `step '${name}' (${step.language}) failed: ${
              error instanceof Error ? error.message : String(error)
            }`,
        };
      }
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener("abort", onStop);
      splitters.stdout.flush();
      splitters.stderr.flush();
    }
    finish(report, { ...outcome, durationMs: now() - startedAt });
    if (outcome.status === "failed" && !options.keepGoing) stop.abort("failure");
  }

  try {
    for (const names of plan.levels) {
      await Promise.all(names.map(runStep));
    }
  } finally {
    options.signal?.removeEventListener("abort", onExternalAbort);
  }

  const steps = [...reports.values()];
  const result: RunResult = {
    workflow: workflow.name,
    file: workflow.file,
    mode: options.mode,
    maxParallel: permits,
    status: stop.signal.reason === "interrupted"
      ? "cancelled"
      : steps.every((s) => s.status === "succeeded")
      ? "succeeded"
      : "failed",
    durationMs: now() - started,
    levels: plan.levels,
    steps,
  };
  emit({ type: "run_finished", result });
  return result;
}

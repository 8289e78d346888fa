/**
 * Runs recorded in the run store (store/): the glue that the command (and
 * later the server) calls. A store that cannot be used never costs a run
 * its outcome: the run goes on unrecorded, with one warning naming the
 * file and what to do.
 *
 * @module
 */

import { resolve } from "node:path";
import type { RunEvent, RunResult } from "../engine/events.ts";
import type { RunOptions, StepReuse } from "../engine/options.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import { ConfigError, ExitCode, HwfeError } from "../_util/errors.ts";
import { DEFAULT_SETTINGS, parallelism } from "../engine/settings.ts";
import { planLevels } from "../workflow/plan.ts";
import {
  historyFlag,
  needsHistory,
  planReuse,
  type ReusePlan,
  type ReuseRequest,
} from "./reuse.ts";
import { sha256Hex } from "../_util/cache.ts";
import { errorText } from "../_util/errors.ts";
import { stringifyJson } from "../_util/json.ts";
import { openStore, type RunStore, storeExists, type StoreOptions } from "../store/store.ts";
import { StoreError } from "../store/store_error.ts";
import type { RunWriter } from "../store/writer.ts";
import { runWorkflow } from "./run.ts";

/** Options of {@link runWithHistory} and {@link HistoryRecorder}. */
export interface HistoryOptions {
  /**
   * The data directory: `HWFE_DATA_DIR` or the platform's
   * (store/location.ts `defaultDataDir`, which the command calls).
   * Undefined when there is none: the run is not recorded, with a warning.
   */
  dataDir: string | undefined;
  /** False records nothing (`hwfe run --no-history`). */
  enabled?: boolean;
  /** hwfe's version, recorded with the run. */
  version: string;
  /** The settings the run was given, recorded as JSON. */
  settings?: unknown;
  /** The run's parameters, recorded as JSON. */
  params?: unknown;
  /** What the run may take from history rather than compute (api/reuse.ts). */
  reuse?: ReuseRequest;
  /** Told once, when the run cannot be recorded (or stops being recorded). */
  onWarning: (message: string) => void;
  /** Told the run's id once its record begins. */
  onRecorded?: (id: number) => void;
  /** Options of the store (a clock for tests). */
  store?: StoreOptions;
  /**
   * The run waits for this before it starts (a server's queue of runs),
   * recorded "queued" (its id told to `onRecorded` at once) until then;
   * false cancels it before it begins.
   */
  turn?: () => Promise<boolean>;
}

const NOT_RECORDED = "This run is not recorded in hwfe's history";

/**
 * Records one run: {@link HistoryRecorder.open} before it, every event to
 * {@link HistoryRecorder.onEvent} (the record begins with `run_started`,
 * so a run refused before it starts leaves none), then
 * {@link HistoryRecorder.finish} or {@link HistoryRecorder.fail}. Never
 * throws: problems become one warning.
 */
export class HistoryRecorder {
  readonly #workflow: Workflow;
  readonly #options: HistoryOptions;
  #store?: RunStore;
  #writer?: RunWriter;
  #file?: string;
  #sha256?: string;
  #warned = false;

  constructor(workflow: Workflow, options: HistoryOptions) {
    this.#workflow = workflow;
    this.#options = options;
  }

  /** The open store, once {@link HistoryRecorder.open} has opened it. */
  get store(): RunStore | undefined {
    return this.#store;
  }

  /** The SHA-256 of the workflow file, once read. */
  get fileSha256(): string | undefined {
    return this.#sha256;
  }

  /** The run this one resumes (`--resume`), once known. */
  resumedFrom?: number;

  /** The run's id, once its record has begun. */
  get runId(): number | undefined {
    return this.#writer?.id;
  }

  #warn(problem: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    const why = problem instanceof StoreError
      ? problem.message
      : `hwfe's history: ${errorText(problem)}`;
    this.#options.onWarning(`${NOT_RECORDED}: ${why} (--no-history records nothing, quietly)`);
  }

  /** Opens the store and reads the workflow file's hash. */
  async open(): Promise<void> {
    const { dataDir, enabled } = this.#options;
    if (enabled === false) return;
    if (dataDir === undefined) {
      return this.#warn(
        "no data directory (no home directory is set): set HWFE_DATA_DIR to a directory for it",
      );
    }
    const file = this.#workflow.file;
    if (file !== undefined) {
      try {
        this.#file = resolve(file);
        this.#sha256 = await sha256Hex(await Deno.readFile(this.#file));
      } catch {
        // Recorded without: the run goes on whatever became of its file.
      }
    }
    try {
      this.#store = openStore(dataDir, this.#options.store);
    } catch (error) {
      this.#warn(error);
    }
  }

  /** Takes one event of the run. */
  onEvent = (event: RunEvent): void => {
    if (event.type === "run_started") return this.#begin(event);
    this.#writer?.onEvent(event);
  };

  #begin(event: RunEvent & { type: "run_started" }): void {
    if (this.#writer) return this.#writer.onEvent(event);
    if (this.#record(event, false)) this.#writer!.onEvent(event);
  }

  /**
   * Records the run as "queued" before it starts (`HistoryOptions.turn`),
   * with the plan it will run; its `run_started` makes it "running".
   */
  reserve(planned: Omit<RunEvent & { type: "run_started" }, "type" | "workflow">): void {
    if (!this.#writer) this.#record(planned, true);
  }

  /** Begins the record; false when the store cannot take it (warned). */
  #record(
    planned: Pick<
      RunEvent & { type: "run_started" },
      "mode" | "strategy" | "maxParallel" | "levels"
    >,
    queued: boolean,
  ): boolean {
    if (!this.#store) return false;
    const steps = planned.levels.flatMap((names, index) =>
      names.map((name) => ({
        name,
        language: this.#workflow.steps.get(name)!.language,
        level: index + 1,
      }))
    );
    const { settings, params, version } = this.#options;
    const resumedFrom = this.resumedFrom;
    try {
      this.#writer = this.#store.begin({
        workflow: this.#workflow.name,
        file: this.#file,
        fileSha256: this.#sha256,
        params: params === undefined ? undefined : stringifyJson(params),
        settings: stringifyJson(settings ?? {}),
        mode: planned.mode,
        strategy: planned.strategy,
        maxParallel: planned.maxParallel,
        levels: planned.levels,
        steps,
        hwfeVersion: version,
        resumedFrom,
        queued,
      }, { onError: (error) => this.#warn(error) });
    } catch (error) {
      this.#warn(error);
      this.#close();
      return false;
    }
    this.#options.onRecorded?.(this.#writer.id);
    return true;
  }

  /** Records the run's outcome and closes the store. */
  finish(result: RunResult): void {
    this.#writer?.finish(result);
    this.#close();
  }

  /** Records that the run failed with `error` (thrown by the run) and closes the store. */
  fail(error: unknown): void {
    this.#writer?.finish({ error: errorText(error) });
    this.#close();
  }

  /** Records that the run was cancelled before it began, and closes the store. */
  cancel(why: string): void {
    this.#writer?.finish({ error: why, status: "cancelled" });
    this.#close();
  }

  #close(): void {
    this.#store?.close();
    this.#store = undefined;
  }
}

/**
 * {@link runWorkflow}, recorded in the run store of `history.dataDir`
 * (unless `history.enabled` is false): the same result, the same errors,
 * `options.onEvent` told of every event as before. A store that cannot be
 * used is one call of `history.onWarning`, never an error.
 */
export async function runWithHistory(
  workflow: Workflow,
  options: RunOptions,
  history: HistoryOptions,
): Promise<RunResult> {
  const request = history.reuse;
  if (history.enabled === false) {
    if (needsHistory(request) || request?.cache) {
      throw new ConfigError(
        `${
          request?.cache && !needsHistory(request) ? "--cache" : historyFlag(request!)
        } takes results from hwfe's history, which --no-history turns off: drop one of them`,
      );
    }
    return await runWorkflow(workflow, options);
  }
  const recorder = new HistoryRecorder(workflow, history);
  await recorder.open();
  const onEvent = options.onEvent;
  const emit = (event: RunEvent) => {
    recorder.onEvent(event);
    onEvent?.(event);
  };
  const store = recorder.store;
  if (!store && needsHistory(request)) {
    throw new ConfigError(
      `${historyFlag(request!)} takes results from hwfe's history, which cannot be used ` +
        `(see the warning above)`,
    );
  }
  let part = workflow;
  let reuse: StepReuse | undefined;
  if (store) {
    let plan: ReusePlan;
    try {
      plan = planReuse(store, workflow, request ?? {}, recorder.fileSha256);
    } catch (error) {
      recorder.fail(error); // closes the store; a run refused leaves no record
      throw error;
    }
    part = plan.workflow;
    recorder.resumedFrom = plan.resumedFrom;
    for (const message of plan.warnings) emit({ type: "warning", message });
    const wanted = (step: Step) => request?.cache || step.cache || request?.resume !== undefined;
    reuse = {
      ...plan.reuse,
      onUnhashable: (step, why) => {
        if (!wanted(step)) return;
        emit({ type: "warning", message: `step '${step.name}' is run, not reused: ${why}` });
      },
    };
  }
  if (history.turn) {
    const mode = options.mode ?? DEFAULT_SETTINGS.mode;
    recorder.reserve({
      mode,
      strategy: options.strategy ?? "levels",
      maxParallel: parallelism(mode, options.maxParallel, navigator.hardwareConcurrency),
      levels: planLevels(part.steps.values()).levels,
    });
    let go = false;
    try {
      go = await history.turn() && !options.signal?.aborted;
    } finally {
      if (!go) recorder.cancel("cancelled before it started");
    }
    if (!go) throw new RunCancelled();
  }
  let result: RunResult;
  try {
    result = await runWorkflow(part, { ...options, ...(reuse ? { reuse } : {}), onEvent: emit });
  } catch (error) {
    recorder.fail(error);
    throw error;
  }
  recorder.finish(result);
  return result;
}

/** A run cancelled while it waited for its turn (`HistoryOptions.turn`): it never began. */
export class RunCancelled extends HwfeError {
  constructor() {
    super("the run was cancelled before it started", ExitCode.interrupted);
    this.name = "RunCancelled";
  }
}

/**
 * The run store of data directory `dataDir` for reading, or undefined when
 * no run has been recorded there. Throws a {@link StoreError} for a file
 * that cannot be read.
 */
export function readHistory(dataDir: string, options?: StoreOptions): RunStore | undefined {
  return storeExists(dataDir) ? openStore(dataDir, options) : undefined;
}

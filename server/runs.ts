/**
 * The runs a server starts: each goes through `runWithHistory` (the same
 * engine and run store as `hwfe run`), recorded "queued" as soon as it is
 * asked for, so that its id is known at once, and started when one of the
 * `maxRuns` places is free, in the order asked. Cancelling a queued run
 * ends it at once; cancelling a running one aborts it as Ctrl-C does.
 *
 * @module
 */

import { errorText, HwfeError } from "../_util/errors.ts";
import type { Grants } from "../engine/grants.ts";
import type { RunResult } from "../engine/events.ts";
import type { RunOptions } from "../engine/options.ts";
import { MAX_PARALLEL_STEPS, parallelism, type Settings } from "../engine/settings.ts";
import { Semaphore } from "../engine/semaphore.ts";
import { runOptionsFrom } from "../api/config.ts";
import { RunCancelled, runWithHistory } from "../api/history.ts";
import type { GivenParams } from "../workflow/params.ts";
import { HttpError } from "./http.ts";
import { loadNamed } from "./workflows.ts";

/** What the server's runs share. */
export interface RunsOptions {
  dataDir: string;
  workflowsDir: string;
  /** The resolved settings: each run's defaults. */
  settings: Settings;
  /** The most any run may have: the grant flags given to `hwfe serve`. */
  grants: Grants;
  /** Environment variables whose values every run masks (`--secret`). */
  secrets?: string[];
  /** Runs at once; the rest wait. */
  maxRuns: number;
  version: string;
  cacheDir?: string;
  /** Told what a run's history could not record, and runs that failed to start. */
  onWarning: (message: string) => void;
}

/** What a client asks for: `POST /api/v1/runs`. */
export interface RunRequest {
  workflow: string;
  params?: Record<string, unknown>;
  mode?: unknown;
  max_parallel_steps?: unknown;
  /** The run whose unchanged successes this one keeps (`POST /runs/:id/resume`). */
  resume?: number;
}

/** A run the server has started or queued. */
interface Active {
  controller: AbortController;
  done: Promise<RunResult | undefined>;
}

/** The server's runs. */
export class Runs {
  readonly #options: RunsOptions;
  readonly #places: Semaphore;
  readonly #active = new Map<number, Active>();
  #closing = false;

  constructor(options: RunsOptions) {
    this.#options = options;
    this.#places = new Semaphore(Math.max(1, options.maxRuns));
  }

  /** Runs started or queued by this server and not ended. */
  get active(): number {
    return this.#active.size;
  }

  /**
   * Queues a run and resolves with its id once it is recorded; `done`
   * resolves with its result (undefined when it never began). Throws an
   * {@link HttpError} for a request that cannot run.
   */
  async submit(request: RunRequest): Promise<{ id: number; done: Promise<RunResult | undefined> }> {
    if (this.#closing) throw new HttpError(503, "the server is shutting down: no new runs");
    const { options, params } = this.#checked(request);
    const { workflow } = await loadNamed(this.#options.workflowsDir, request.workflow, {
      params,
      cacheDir: this.#options.cacheDir,
    });
    const controller = new AbortController();
    /** Whether the run holds a place, given back when it ends, however it ends. */
    let holding = false;
    let recorded!: (id: number) => void;
    const id = new Promise<number>((resolve) => (recorded = resolve));
    const running = runWithHistory(workflow, { ...options, signal: controller.signal }, {
      dataDir: this.#options.dataDir,
      version: this.#options.version,
      settings: this.#options.settings,
      params: workflow.params,
      reuse: request.resume === undefined ? undefined : { resume: request.resume },
      onWarning: this.#options.onWarning,
      onRecorded: recorded,
      turn: async () => (holding = await this.#turn(controller.signal)),
    });
    const started = await Promise.race([id, running.then(() => undefined, (error) => error)]);
    if (typeof started !== "number") {
      // It ended, or failed, before it was recorded: a request that cannot run.
      const status = started instanceof HwfeError ? 422 : 500;
      throw new HttpError(
        status,
        started === undefined ? "the run was not recorded" : errorText(started),
      );
    }
    const done = running.catch((error) => {
      if (!(error instanceof RunCancelled)) {
        this.#options.onWarning(`run ${started}: ${errorText(error)}`);
      }
      return undefined;
    }).finally(() => {
      this.#active.delete(started);
      if (holding) this.#places.release();
    });
    this.#active.set(started, { controller, done });
    return { id: started, done };
  }

  /** Cancels a run this server started; false when it is not one of them (or has ended). */
  cancel(id: number): boolean {
    const run = this.#active.get(id);
    if (!run) return false;
    run.controller.abort();
    return true;
  }

  /** Takes no more runs, cancels every one, and resolves once all are recorded. */
  async shutdown(): Promise<void> {
    this.#closing = true;
    const runs = [...this.#active.values()];
    for (const run of runs) run.controller.abort();
    await Promise.all(runs.map((run) => run.done));
  }

  /** Waits for a place; false when the run was cancelled first. */
  async #turn(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    const place = this.#places.acquire();
    const cancelled = new Promise<false>((resolve) =>
      signal.addEventListener("abort", () => resolve(false), { once: true })
    );
    const go = await Promise.race([place.then(() => true), cancelled]);
    if (!go) place.then(() => this.#places.release()); // the place it would have had
    return go;
  }

  /** The run's options from the server's settings and the request, checked (400). */
  #checked(request: RunRequest): { options: RunOptions; params?: GivenParams } {
    if (typeof request.workflow !== "string") {
      throw new HttpError(400, `"workflow" must be the name of a workflow`);
    }
    const settings = { ...this.#options.settings };
    if (request.mode !== undefined) {
      if (request.mode !== "sequential" && request.mode !== "parallel") {
        throw new HttpError(400, `"mode" must be "sequential" or "parallel"`);
      }
      settings.mode = request.mode;
    }
    const max = request.max_parallel_steps;
    if (max !== undefined) {
      if (!Number.isInteger(max) || (max as number) < 0 || (max as number) > MAX_PARALLEL_STEPS) {
        throw new HttpError(
          400,
          `"max_parallel_steps" must be a whole number from 0 to ${MAX_PARALLEL_STEPS}`,
        );
      }
      settings.maxParallelSteps = max as number;
      if (request.mode === undefined && (max as number) !== 1) settings.mode = "parallel";
    }
    const cpus = navigator.hardwareConcurrency;
    const options: RunOptions = {
      ...runOptionsFrom(settings, cpus),
      maxParallel: parallelism(settings.mode, settings.maxParallelSteps, cpus),
      grants: this.#options.grants,
      secrets: this.#options.secrets,
      cacheDir: this.#options.cacheDir,
    };
    let params: Record<string, string> | undefined;
    if (request.params !== undefined) {
      if (
        typeof request.params !== "object" || request.params === null ||
        Array.isArray(request.params)
      ) {
        throw new HttpError(400, `"params" must be an object of parameter values`);
      }
      params = {};
      for (const [name, value] of Object.entries(request.params)) {
        if (!["string", "number", "boolean"].includes(typeof value)) {
          throw new HttpError(400, `params.${name} must be a string, a number or a boolean`);
        }
        params[name] = String(value);
      }
    }
    return { options, params };
  }
}

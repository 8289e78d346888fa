/**
 * Results taken from the run store instead of running steps again:
 * `--resume <run>` (the steps that succeeded in that run and have not
 * changed), `--from <step>` and `--only <steps>` (just those steps, their
 * other dependencies' results taken from history), and `cache = true` or
 * `--cache` (a result of any earlier run with the same hash). The engine
 * hashes each step (engine/step_hash.ts) and asks; this module answers.
 *
 * @module
 */

import { resolve } from "node:path";
import { ConfigError, WorkflowError } from "../_util/errors.ts";
import type { ReusedResult, StepReuse } from "../engine/options.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import { downstreamOf, selectSteps } from "../workflow/select.ts";
import type { RunStore } from "../store/store.ts";
import type { RunRow, StepRow } from "../store/rows.ts";

/** What a run may take from history rather than compute. */
export interface ReuseRequest {
  /** `--resume`: the run (or the newest of this workflow) whose unchanged successes are kept. */
  resume?: number | "last";
  /** `--from`: run this step and everything downstream of it, nothing else. */
  from?: string;
  /** `--only`: run just these steps. */
  only?: string[];
  /** `--cache`: every step as if it said `cache = true`. */
  cache?: boolean;
}

/** Whether a request needs the run store (caching alone can do without it). */
export function needsHistory(request: ReuseRequest | undefined): boolean {
  return request?.resume !== undefined || request?.from !== undefined ||
    request?.only !== undefined;
}

/** The flag of a request that needs history, for messages. */
export function historyFlag(request: ReuseRequest): string {
  return request.resume !== undefined
    ? "--resume"
    : request.from !== undefined
    ? "--from"
    : "--only";
}

/** What the run does with history: the workflow to run (maybe part of it) and how to reuse. */
export interface ReusePlan {
  workflow: Workflow;
  reuse: StepReuse;
  /** The run `--resume` names. */
  resumedFrom?: number;
  /** Said before the run starts. */
  warnings: string[];
}

/**
 * The plan for `request` against `store`. Throws a ConfigError or
 * WorkflowError (exit 2) for a run or step that cannot be used, before
 * anything runs.
 */
export function planReuse(
  store: RunStore,
  workflow: Workflow,
  request: ReuseRequest,
  fileSha256: string | undefined,
): ReusePlan {
  const file = workflow.file === undefined ? undefined : resolve(workflow.file);
  const warnings: string[] = [];
  const resumed = request.resume === undefined
    ? undefined
    : resumedRun(store, workflow, file, request.resume);
  const resumedSteps = new Map<string, StepRow>();
  for (const row of resumed ? store.steps(resumed.id) : []) {
    if (row.status === "succeeded" && row.hash !== undefined) resumedSteps.set(row.name, row);
  }
  const kept = (row: StepRow): ReusedResult => ({
    result: row.result ?? "null",
    runId: row.reusedFrom ?? row.runId,
    hash: row.hash,
  });
  const chosen = chosenSteps(workflow, request);
  const given = new Map<string, ReusedResult>();
  let part = workflow;
  if (chosen) {
    const selection = selectSteps(workflow, chosen.names, chosen.flag);
    part = selection.workflow;
    const missing: string[] = [];
    for (const name of selection.given) {
      const row = resumedSteps.get(name) ?? store.latestReusable(name, workflow.name, file);
      if (!row) {
        missing.push(name);
        continue;
      }
      given.set(name, kept(row));
      const recordedIn = store.getRun(row.runId);
      if (fileSha256 && recordedIn?.fileSha256 && recordedIn.fileSha256 !== fileSha256) {
        warnings.push(
          `step '${name}' takes its result from run ${row.runId}, recorded before ` +
            `${workflow.file} last changed (run it too to bring it up to date)`,
        );
      }
    }
    if (missing.length) {
      const where = workflow.file ? `${workflow.file}: ` : "";
      throw new WorkflowError(
        missing.map((name) =>
          `${where}${chosen.flag}: step '${name}', which ${
            dependentsOf(part, name).map((s) => `'${s}'`).join(" and ")
          } depend${dependentsOf(part, name).length === 1 ? "s" : ""} on, has no result in ` +
          `hwfe's history to take; run it too (add it to ${chosen.flag}), or run the whole ` +
          `workflow once`
        ),
      );
    }
  }
  const cached = (step: Step) => !chosen && (request.cache === true || step.cache);
  return {
    workflow: part,
    resumedFrom: resumed?.id,
    warnings,
    reuse: {
      given,
      find(step, hash) {
        if (chosen) return undefined; // --from and --only run what they name
        const row = resumedSteps.get(step.name);
        if (row?.hash === hash) return kept(row);
        const stored = cached(step) ? store.stepByHash(hash) : undefined;
        return stored && kept(stored);
      },
    },
  };
}

/** The steps `--from` or `--only` chooses, with the flag that chose them. */
function chosenSteps(
  workflow: Workflow,
  request: ReuseRequest,
): { names: string[]; flag: string } | undefined {
  if (request.from !== undefined && request.only !== undefined) {
    throw new ConfigError("--from and --only choose steps in two ways: give one of them");
  }
  if (request.from !== undefined) {
    return { names: downstreamOf(workflow, request.from, "--from"), flag: "--from" };
  }
  if (request.only !== undefined) return { names: request.only, flag: "--only" };
  return undefined;
}

function dependentsOf(workflow: Workflow, name: string): string[] {
  return [...workflow.steps.values()].filter((s) => s.dependsOn.includes(name)).map((s) => s.name);
}

/** The run `--resume` names, checked: of this workflow, and finished. */
function resumedRun(
  store: RunStore,
  workflow: Workflow,
  file: string | undefined,
  ref: number | "last",
): RunRow {
  const filter = file === undefined ? { workflow: workflow.name } : { file };
  const run = store.getRun(ref, filter);
  if (!run) {
    throw new ConfigError(
      ref === "last"
        ? `--resume last: hwfe's history has no run of ${
          workflow.file ?? `workflow '${workflow.name}'`
        } to resume; run it without --resume first`
        : `--resume ${ref}: hwfe's history has no run ${ref}; \`hwfe runs\` lists the runs it has`,
    );
  }
  const sameFile = file === undefined || run.file === undefined || run.file === file;
  if (run.workflow !== workflow.name || !sameFile) {
    throw new ConfigError(
      `--resume ${ref}: run ${run.id} is of workflow '${run.workflow}'${
        run.file ? ` (${run.file})` : ""
      }, not of '${workflow.name}'${
        file ? ` (${file})` : ""
      }; \`hwfe runs ${workflow.name}\` lists the runs of this one`,
    );
  }
  if (run.status === "running" || run.status === "queued") {
    throw new ConfigError(
      `--resume ${ref}: run ${run.id} is still running (pid ${run.pid} on ${run.host}); ` +
        `wait for it to end, or stop it, then resume it`,
    );
  }
  return run;
}

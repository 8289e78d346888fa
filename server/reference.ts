/**
 * The reference engine's two endpoints, with its paths and its JSON, so
 * that its page and scripts work against hwfe: `GET /api/workflows` and
 * `POST /api/workflows/{name}/run`, which answers when the run has ended.
 * Its server's code, not its docs, fixed the shapes: a description is
 * null when there is none, `path` is `workflows/<stem>.lua`, a step's
 * `output` is its result as JSON text or `Error: <message>`.
 *
 * @module
 */

import type { RunResult } from "../engine/events.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import { json } from "./http.ts";
import type { Runs } from "./runs.ts";
import { workflowFile, workflowNames } from "./workflows.ts";

/** `GET /api/workflows`: every workflow, sorted by its name. */
export async function referenceWorkflows(dir: string): Promise<Response> {
  const list = [];
  for (const name of await workflowNames(dir)) {
    let displayName = name;
    let description: string | null = null;
    try {
      const { workflow } = await loadWorkflowFile(workflowFile(dir, name));
      displayName = workflow.name;
      description = workflow.description ?? null;
    } catch { /* listed by its file's name, as the reference engine does */ }
    list.push({ name, display_name: displayName, description, path: `workflows/${name}.lua` });
  }
  list.sort((
    a,
    b,
  ) => (a.display_name < b.display_name ? -1 : a.display_name > b.display_name ? 1 : 0));
  return json(list);
}

/** `POST /api/workflows/{name}/run`: runs it and answers with its outcome. */
export async function referenceRun(runs: Runs, name: string): Promise<Response> {
  const started = Date.now();
  let result: RunResult | undefined;
  let error: string | null = null;
  try {
    const { done } = await runs.submit({ workflow: name });
    result = await done;
    if (!result) error = "the run did not finish";
  } catch (thrown) {
    // A missing file is a 404, as the reference engine answers; the rest is a failed run.
    if ((thrown as { status?: number }).status === 404) throw thrown;
    error = thrown instanceof Error ? thrown.message : String(thrown);
  }
  return json(referenceResult(name, result, error, Date.now() - started));
}

/** A run's result in the reference engine's shape. */
export function referenceResult(
  name: string,
  result: RunResult | undefined,
  error: string | null,
  elapsedMs: number,
) {
  const ran = (result?.steps ?? [])
    .filter((s) => s.status === "succeeded" || s.status === "failed")
    .sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0));
  const failed = ran.find((s) => s.status === "failed" && !s.continued);
  const status = result?.status === "succeeded" ? "completed" : "failed";
  return {
    workflow_name: name,
    status,
    steps: ran.map((s, i) => ({
      step_number: i + 1,
      name: s.name,
      language: s.language,
      output: s.status === "succeeded" ? s.result ?? "null" : `Error: ${s.error ?? "failed"}`,
      status: s.status === "succeeded" ? "success" : "failed",
      duration_ms: Math.round(s.durationMs ?? 0),
    })),
    total_duration_ms: Math.round(result?.durationMs ?? elapsedMs),
    error: status === "completed" ? null : error ?? failed?.error ??
      (result?.status === "cancelled" ? "the run was cancelled" : "the run failed"),
  };
}

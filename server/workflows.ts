/**
 * The workflows a server offers: the `.lua` files directly in the
 * workflows directory, named by their file's stem. A name can only ever
 * name such a file: one with a path separator, `..` or a control character
 * is refused before any path is made of it.
 *
 * @module
 */

import { join } from "node:path";
import { errorText } from "../_util/errors.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import type { LoadedWorkflow, Workflow } from "../workflow/model.ts";
import type { GivenParams } from "../workflow/params.ts";
import { planLevels } from "../workflow/plan.ts";
import { GEOMETRY, layoutDag } from "../api/report_layout.ts";
import { HttpError } from "./http.ts";

/** What a workflow's name may be: a file stem, without separators or dots first. */
const NAME = /^[\p{L}\p{N}_][\p{L}\p{N}_.\- ]{0,199}$/u;

/** The name checked, or a 400 saying what is wrong with it. */
export function checkName(name: string): string {
  if (!NAME.test(name) || name.includes("..")) {
    throw new HttpError(
      400,
      `'${name.slice(0, 200)}' is not a workflow's name: give the name of a .lua file in the ` +
        `workflows directory, without its extension or any path`,
    );
  }
  return name;
}

/** The stems of the `.lua` files directly in `dir`, sorted; none when it cannot be read. */
export async function workflowNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".lua")) {
        const stem = entry.name.slice(0, -4);
        if (NAME.test(stem) && !stem.includes("..")) names.push(stem);
      }
    }
  } catch { /* no directory: no workflows */ }
  return names.sort();
}

/** The file of workflow `name` in `dir` (the name checked). */
export function workflowFile(dir: string, name: string): string {
  return join(dir, `${checkName(name)}.lua`);
}

/** Loads workflow `name` from `dir`: a 404 when there is no such file. */
export async function loadNamed(
  dir: string,
  name: string,
  options: { params?: GivenParams; cacheDir?: string } = {},
): Promise<LoadedWorkflow> {
  const file = workflowFile(dir, name);
  try {
    if (!(await Deno.stat(file)).isFile) throw new Deno.errors.NotFound();
  } catch {
    throw new HttpError(404, `no workflow '${name}' in the workflows directory (${dir})`);
  }
  try {
    return await loadWorkflowFile(file, options);
  } catch (error) {
    throw new HttpError(422, errorText(error));
  }
}

/** A workflow as `GET /api/v1/workflows` lists it. */
export function workflowJson(name: string, file: string, workflow: Workflow) {
  const plan = planLevels(workflow.steps.values());
  const languages = [...new Set([...workflow.steps.values()].map((s) => s.language))].sort();
  return {
    name,
    file,
    display_name: workflow.name,
    description: workflow.description ?? null,
    languages,
    params: workflow.params ?? null,
    levels: plan.levels,
    steps: workflow.steps.size,
  };
}

/** The DAG of a workflow, laid out as the HTML report lays it out (api/report_layout.ts). */
export function graphJson(name: string, workflow: Workflow) {
  const plan = planLevels(workflow.steps.values());
  const names = plan.levels.flat();
  const index = new Map(names.map((step, i) => [step, i]));
  const ranks = plan.levels.map((level) => level.map((step) => index.get(step)!));
  const edges = names.flatMap((step) =>
    workflow.steps.get(step)!.dependsOn.map((dep): [number, number] => [
      index.get(dep)!,
      index.get(step)!,
    ])
  );
  const layout = layoutDag(ranks, edges);
  const g = GEOMETRY;
  const mid = (id: number) => layout.nodes[id].y + layout.nodes[id].height / 2;
  return {
    name,
    width: layout.width,
    height: layout.height,
    nodes: layout.nodes.flatMap((node) => {
      if (node.step === undefined) return [];
      const step = workflow.steps.get(names[node.step])!;
      return [{
        id: step.name,
        language: step.language,
        level: node.rank + 1,
        x: node.x,
        y: node.y,
        width: g.nodeWidth,
        height: node.height,
      }];
    }),
    edges: layout.edges.map((edge) => ({
      from: names[edge.from],
      to: names[edge.to],
      // Out of each node's right side, into the next one's left.
      points: edge.chain.flatMap((id, i) => {
        const node = layout.nodes[id];
        const points: [number, number][] = [];
        if (i > 0) points.push([node.x, mid(id)]);
        if (i < edge.chain.length - 1) points.push([node.x + g.nodeWidth, mid(id)]);
        return points;
      }),
    })),
  };
}

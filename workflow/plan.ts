/**
 * The dependency graph as pure data: levels and cycle detection.
 *
 * A step without dependencies is in level 1; any other step is in
 * 1 + the highest level of its dependencies. Steps inside a level are sorted
 * by name so every listing is deterministic.
 *
 * @module
 */

/** The part of a step the planner looks at. */
export interface PlanNode {
  name: string;
  dependsOn: readonly string[];
}

/**
 * Steps grouped into dependency levels.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type Plan, planWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: { a: { code: "function run() end" }, b: { depends_on: "a", code: "function run() end" } },
 * });
 * const plan: Plan = planWorkflow(workflow);
 * console.log(plan.levelOf.get("b")); // 2
 * ```
 */
export interface Plan {
  /** `levels[0]` is level 1; names sorted inside each level. */
  levels: string[][];
  /** Level number (1-based) of each step. */
  levelOf: Map<string, number>;
}

/**
 * Most steps of a cycle its message names: a generated workflow's cycle can
 * hold every one of 100,000 steps, which made a 1 MB one-line error.
 */
export const MAX_CYCLE_SHOWN = 20;

/** Raised by {@link planLevels} when the graph has a cycle. */
export class CycleError extends Error {
  /** The cycle, first step repeated at the end: `["a", "b", "a"]`. */
  readonly cycle: string[];
  /** The message names the cycle's steps in order, the first {@link MAX_CYCLE_SHOWN} of a long one. */
  constructor(cycle: string[]) {
    const length = cycle.length - 1;
    const path = length <= MAX_CYCLE_SHOWN
      ? cycle.join(" -> ")
      : `${cycle.slice(0, MAX_CYCLE_SHOWN).join(" -> ")} -> ... (a cycle of ${length} steps; ` +
        `the first ${MAX_CYCLE_SHOWN} shown)`;
    super(`Circular dependency detected involving step '${cycle[0]}': ${path}`);
    this.name = "CycleError";
    this.cycle = cycle;
  }
}

/**
 * Groups steps into levels in O(steps + edges). Every name in `dependsOn`
 * must be a node (validation checks that first). Throws {@link CycleError}.
 */
export function planLevels(nodes: Iterable<PlanNode>): Plan {
  const byName = new Map<string, PlanNode>();
  for (const node of nodes) byName.set(node.name, node);

  const dependents = new Map<string, string[]>();
  const waitingOn = new Map<string, number>();
  const ready: string[] = [];
  for (const node of byName.values()) {
    const deps = new Set(node.dependsOn);
    waitingOn.set(node.name, deps.size);
    if (deps.size === 0) ready.push(node.name);
    for (const dep of deps) {
      let list = dependents.get(dep);
      if (!list) dependents.set(dep, list = []);
      list.push(node.name);
    }
  }

  const levelOf = new Map<string, number>();
  for (const name of ready) levelOf.set(name, 1);
  // Kahn's algorithm; `ready` doubles as the queue.
  for (let i = 0; i < ready.length; i++) {
    const name = ready[i];
    const level = levelOf.get(name)!;
    for (const dependent of dependents.get(name) ?? []) {
      if (level + 1 > (levelOf.get(dependent) ?? 0)) levelOf.set(dependent, level + 1);
      const left = waitingOn.get(dependent)! - 1;
      waitingOn.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }

  if (ready.length < byName.size) throw new CycleError(findCycle(byName));

  const levels: string[][] = [];
  for (const [name, level] of levelOf) (levels[level - 1] ??= []).push(name);
  for (const level of levels) level.sort(compareNames);
  return { levels, levelOf };
}

/** Orders names by code unit, the same on every machine and locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Finds one cycle, deterministically: depth-first from the steps in name
 * order, following dependencies in the order they were written.
 */
function findCycle(byName: Map<string, PlanNode>): string[] {
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: string[] = [];
  for (const start of [...byName.keys()].sort(compareNames)) {
    if (done.has(start)) continue;
    // Iterative DFS: a frame is a node and the index of its next dependency.
    const stack: [string, number][] = [[start, 0]];
    onPath.set(start, 0);
    path.push(start);
    while (stack.length) {
      const frame = stack[stack.length - 1];
      const deps = byName.get(frame[0])!.dependsOn;
      if (frame[1] < deps.length) {
        const dep = deps[frame[1]++];
        const at = onPath.get(dep);
        if (at !== undefined) return [...path.slice(at), dep];
        if (!done.has(dep) && byName.has(dep)) {
          onPath.set(dep, path.length);
          path.push(dep);
          stack.push([dep, 0]);
        }
      } else {
        stack.pop();
        onPath.delete(frame[0]);
        path.pop();
        done.add(frame[0]);
      }
    }
  }
  throw new Error("findCycle() called on a graph without a cycle");
}

/** The plan as `hwfe plan` prints it: one `Level N: [a, b]` line per level. */
export function formatPlan(plan: Plan): string {
  return plan.levels.map((names, i) => `Level ${i + 1}: [${names.join(", ")}]`).join("\n");
}

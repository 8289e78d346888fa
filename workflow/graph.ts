/**
 * A workflow's DAG as text others draw: Mermaid (GitHub renders it in
 * markdown), Graphviz DOT, or a compact tree for the terminal. Each step is
 * labelled with its name and language, and each level of the plan is a
 * rank: a Mermaid subgraph, a DOT `rank=same` group, a heading in the tree.
 *
 * The layout is left to Mermaid and Graphviz; this module only writes
 * their input, with every name escaped for it.
 *
 * @example
 * ```ts
 * import { defineWorkflow } from "./validate.ts";
 * import { planLevels } from "./plan.ts";
 * import { graphText } from "./graph.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: { fetch: { language: "python", code: "" }, report: { depends_on: ["fetch"], code: "" } },
 * });
 * console.log(graphText(workflow, planLevels(workflow.steps.values())));
 * ```
 *
 * @module
 */

import type { Workflow } from "./model.ts";
import type { Plan } from "./plan.ts";

/**
 * The formats `hwfe graph` writes.
 *
 * @example
 * ```ts
 * import { GRAPH_FORMATS } from "../mod.ts";
 *
 * console.log(`--format ${GRAPH_FORMATS.join("|")}`); // --format mermaid|dot|text
 * ```
 */
export const GRAPH_FORMATS = ["mermaid", "dot", "text"] as const;

/**
 * One of {@link GRAPH_FORMATS}.
 *
 * @example
 * ```ts
 * import type { GraphFormat } from "../mod.ts";
 *
 * const format: GraphFormat = "dot";
 * ```
 */
export type GraphFormat = typeof GRAPH_FORMATS[number];

/**
 * The DAG in `format`: Mermaid (a flowchart, a subgraph per level), Graphviz
 * DOT (each level a `rank=same` group) or a text tree.
 *
 * @example Mermaid for a README
 * ```ts
 * import { defineWorkflow, graph, planWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: { fetch: { language: "python", code: "" }, report: { depends_on: ["fetch"], code: "" } },
 * });
 * // Paste into a mermaid code block in markdown.
 * console.log(graph(workflow, planWorkflow(workflow), "mermaid"));
 * ```
 */
export function graph(workflow: Workflow, plan: Plan, format: GraphFormat): string {
  switch (format) {
    case "mermaid":
      return graphMermaid(workflow, plan);
    case "dot":
      return graphDot(workflow, plan);
    case "text":
      return graphText(workflow, plan);
  }
}

/** Every edge, dependency first, in plan order. */
function edges(workflow: Workflow, plan: Plan): [string, string][] {
  return plan.levels.flat().flatMap((name) =>
    (workflow.steps.get(name)?.dependsOn ?? []).map((dep): [string, string] => [dep, name])
  );
}

/** The step's language as the run's summary shows it (`python`, `typescript`). */
function languageOf(workflow: Workflow, name: string): string {
  return workflow.steps.get(name)?.language ?? "";
}

/**
 * Text inside a Mermaid label in quotes: letters, digits, spaces and
 * `_.-` as they are, anything else as an entity code (`#35;`), which
 * Mermaid decodes; so no name can close the quotes or inject markup.
 */
function mermaidText(text: string): string {
  return [...text].map((c) => /[\p{L}\p{N} _.-]/u.test(c) ? c : `#${c.codePointAt(0)};`).join("");
}

/**
 * Mermaid flowchart, top to bottom, one subgraph per level. Node ids are
 * generated (`s0`, `s1`...): step names may hold anything.
 */
export function graphMermaid(workflow: Workflow, plan: Plan): string {
  const ids = new Map(plan.levels.flat().map((name, i) => [name, `s${i}`]));
  const lines = ["flowchart TD"];
  plan.levels.forEach((names, i) => {
    lines.push(`  subgraph level${i + 1} ["level ${i + 1}"]`);
    for (const name of names) {
      const label = `${mermaidText(name)}<br/>${mermaidText(languageOf(workflow, name))}`;
      lines.push(`    ${ids.get(name)}["${label}"]`);
    }
    lines.push("  end");
  });
  for (const [from, to] of edges(workflow, plan)) {
    lines.push(`  ${ids.get(from)} --> ${ids.get(to)}`);
  }
  return lines.join("\n");
}

/** A DOT quoted string. */
function dotString(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Graphviz DOT, top to bottom, each level a `rank=same` group. */
export function graphDot(workflow: Workflow, plan: Plan): string {
  const lines = [
    `digraph ${dotString(workflow.name)} {`,
    "  rankdir=TB;",
    '  node [shape=box, style=rounded, fontname="sans-serif"];',
  ];
  for (const name of plan.levels.flat()) {
    // `\n` in a DOT label is a line break; a name cannot hold a newline.
    const label = dotString(`${name}\n${languageOf(workflow, name)}`).replace("\n", "\\n");
    lines.push(`  ${dotString(name)} [label=${label}];`);
  }
  plan.levels.forEach((names, i) => {
    lines.push(`  { rank=same; /* level ${i + 1} */ ${names.map(dotString).join("; ")}; }`);
  });
  for (const [from, to] of edges(workflow, plan)) {
    lines.push(`  ${dotString(from)} -> ${dotString(to)};`);
  }
  lines.push("}");
  return lines.join("\n");
}

/**
 * The compact tree: each level, its steps with their language and what
 * each waits for. Names are printed as they are: the caller escapes text
 * meant for a terminal.
 */
export function graphText(workflow: Workflow, plan: Plan): string {
  const width = Math.max(0, ...plan.levels.flat().map((name) => name.length));
  const langWidth = Math.max(0, ...plan.levels.flat().map((n) => languageOf(workflow, n).length));
  const lines = [
    `${workflow.name}: ${workflow.steps.size} steps in ${plan.levels.length} levels`,
  ];
  plan.levels.forEach((names, i) => {
    lines.push(`level ${i + 1}`);
    for (const name of names) {
      const deps = workflow.steps.get(name)?.dependsOn ?? [];
      const after = deps.length ? `  ← ${deps.join(", ")}` : "";
      lines.push(
        `  ${name.padEnd(width)}  ${languageOf(workflow, name).padEnd(langWidth)}${after}`
          .trimEnd(),
      );
    }
  });
  return lines.join("\n");
}

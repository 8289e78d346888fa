/**
 * The DAG of the HTML report as inline SVG: a column per level, each step a
 * link coloured by its outcome, each dependency a curve into its dependent.
 *
 * @module
 */

import { escapeHtml, formatMs, plural, shownHtml, shownShort } from "./_report_html.ts";
import { GEOMETRY, type Layout, layoutDag, type LayoutNode } from "./report_layout.ts";
import { OUTCOME_LABEL, OUTCOME_MARK, type ReportModel, type ReportStep } from "./report_model.ts";

/** Steps drawn at most: past it, the timeline and the list still show every step. */
export const MAX_GRAPH_STEPS = 1000;
/** Characters of a name a node shows (its title holds it all). */
const NAME_CHARS = 19;

/** The DAG section's content: the SVG, or why there is none. */
export function graphHtml(model: ReportModel): string {
  const { steps, result } = model;
  if (steps.length === 0) return `<p class="note">The workflow has no steps.</p>`;
  if (steps.length > MAX_GRAPH_STEPS) {
    return `<p class="note">${plural(steps.length, "step")} are too many to draw; ` +
      `the timeline and the list below show every one.</p>`;
  }
  const indexOf = new Map(steps.map((step) => [step.report.name, step.index]));
  const ranks = result.levels.map((names) => names.map((name) => indexOf.get(name)!));
  const edges = steps.flatMap((step) =>
    step.dependsOn.map((dep): [number, number] => [dep, step.index])
  );
  const layout = layoutDag(ranks, edges);
  const note = model.graphKnown ? "" : `<p class="note">The run's record did not hold the ` +
    `workflow's dependencies: the steps are drawn by level, without edges.</p>`;
  return `${note}<div class="scroll"><svg class="dag" ` +
    `width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" ` +
    `role="group" aria-label="Steps by level, with their dependencies">` +
    `<defs>${arrow("hwfe-arrow")}${arrow("hwfe-arrow-selected")}</defs>` +
    rankLabels(layout) +
    `<g class="edges">${layout.edges.map((edge) => edgeSvg(layout, edge, steps)).join("")}</g>` +
    `<g class="nodes">${
      layout.nodes.flatMap((node) => node.step === undefined ? [] : nodeSvg(node, steps[node.step]))
        .join("")
    }</g></svg></div>`;
}

const arrow = (id: string) =>
  `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" ` +
  `orient="auto"><path d="M0 1L9 5L0 9z"/></marker>`;

function rankLabels(layout: Layout): string {
  const g = GEOMETRY;
  return `<g class="ranks">${
    layout.ranks.map((_, r) => {
      const x = g.margin + r * (g.nodeWidth + g.rankGap) + g.nodeWidth / 2;
      return `<text x="${x}" y="${g.top - 14}" text-anchor="middle">Level ${r + 1}</text>`;
    }).join("")
  }</g>`;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A curve through the edge's nodes: straight across each virtual node, bent between ranks. */
function edgeSvg(layout: Layout, edge: Layout["edges"][number], steps: ReportStep[]): string {
  const g = GEOMETRY;
  const mid = (node: LayoutNode) => round(node.y + node.height / 2);
  const points: [number, number][] = [];
  for (const [i, id] of edge.chain.entries()) {
    const node = layout.nodes[id];
    if (i > 0) points.push([node.x, mid(node)]);
    if (i < edge.chain.length - 1) points.push([node.x + g.nodeWidth, mid(node)]);
  }
  let d = `M${points[0][0]} ${points[0][1]}`;
  for (let i = 1; i < points.length; i++) {
    const [[x0, y0], [x1, y1]] = [points[i - 1], points[i]];
    const bend = round((x1 - x0) / 2);
    // Odd points start a gap between ranks; even ones cross a virtual node.
    d += i % 2 ? `C${x0 + bend} ${y0} ${x1 - bend} ${y1} ${x1} ${y1}` : `L${x1} ${y1}`;
  }
  const source = steps[edge.from];
  const blocked = source.outcome !== "succeeded" && source.outcome !== "continued";
  return `<path class="edge${blocked ? " blocked" : ""}" data-from="${edge.from}" ` +
    `data-to="${edge.to}" d="${d}"/>`;
}

/** A step's node: a link to its details, its name, outcome, time and language. */
function nodeSvg(node: LayoutNode, step: ReportStep): string {
  const g = GEOMETRY;
  const { report, outcome } = step;
  const label = `${report.name} (${report.language}): ${OUTCOME_LABEL[outcome]}`;
  const tries = report.attempts && report.attempts > 1 ? ` · ${report.attempts} tries` : "";
  const how = report.durationMs === undefined
    ? OUTCOME_LABEL[outcome]
    : `${formatMs(report.durationMs)}${tries}`;
  const right = node.x + g.nodeWidth - 8;
  return `<a href="#step-${step.index}" class="node o-${outcome}" data-step="${step.index}" ` +
    `aria-label="${shownHtml(label)}"><title>${shownHtml(label)}</title>` +
    `<rect class="box" x="${node.x}" y="${node.y}" width="${g.nodeWidth}" height="${g.nodeHeight}" ` +
    `rx="7"/><rect class="stripe" x="${node.x}" y="${node.y}" width="6" height="${g.nodeHeight}" ` +
    `rx="3"/><text class="name" x="${node.x + 14}" y="${node.y + 18}">` +
    `${shownShort(report.name, NAME_CHARS)}</text>` +
    `<text class="sub" x="${node.x + 14}" y="${node.y + 35}"><tspan class="mark">` +
    `${OUTCOME_MARK[outcome]}</tspan> ${how}</text>` +
    `<text class="lang" x="${right}" y="${node.y + 35}" text-anchor="end">` +
    `${escapeHtml(report.language)}</text></a>`;
}

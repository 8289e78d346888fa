/**
 * The HTML report of a run (`hwfe run --report run.html`): one
 * self-contained page that opens without a network. A header (workflow,
 * file, status, mode, duration, when, hwfe's version), the DAG coloured by
 * outcome (`report_graph.ts`), the timeline of every attempt
 * (`report_timeline.ts`), the list of steps and each step's details
 * (`report_steps.ts`).
 *
 * Every name, line of output, error and result is a workflow's or a step's
 * text, and so hostile: it is only ever HTML-escaped text or a quoted
 * attribute's value (`_report_html.ts`), never markup or script, with the
 * characters that reorder or hide text shown escaped. The page's
 * Content-Security-Policy allows its own script and style by hash and
 * nothing else: no request of any kind, and no other script, even one that
 * an escaping mistake let through.
 *
 * @module
 */

import type { RunResult } from "../engine/events.ts";
import type { RunRecorder } from "./run_record.ts";
import { escapeHtml, formatMs, plural, sha256Base64, shownHtml } from "./_report_html.ts";
import { REPORT_SCRIPT, REPORT_STYLE } from "./report_assets.ts";
import { graphHtml } from "./report_graph.ts";
import {
  OUTCOME_LABEL,
  OUTCOME_MARK,
  OUTCOMES,
  type ReportModel,
  reportModel,
} from "./report_model.ts";
import { badge, stepDetailHtml, stepTableHtml } from "./report_steps.ts";
import { timelineHtml } from "./report_timeline.ts";

/** What the report says about where it came from. */
export interface ReportInfo {
  /** hwfe's version. */
  version: string;
  /** When the run started. */
  startedAt: Date;
}

let policy: string | undefined;

/**
 * The page's Content-Security-Policy: nothing may load (`default-src
 * 'none'`), only the report's own style and script may apply, by hash.
 */
export function reportPolicy(): string {
  return policy ??= [
    "default-src 'none'",
    `style-src 'sha256-${sha256Base64(REPORT_STYLE)}'`,
    `script-src 'sha256-${sha256Base64(REPORT_SCRIPT)}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** One self-contained HTML page (no network at view time) showing `result`. */
export function reportHtml(result: RunResult, record: RunRecorder, info: ReportInfo): string {
  const model = reportModel(result, record);
  const title = `${result.workflow}: ${result.status}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(reportPolicy())}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hwfe ${escapeHtml(info.version)}">
<title>${shownHtml(title)} · hwfe report</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
${headerHtml(model, info)}
<div class="layout">
<main>
${section("graph", "Graph", legend(model), graphHtml(model))}
${section("timeline", "Timeline", timelineLegend(model), timelineHtml(model))}
${section("steps", "Steps", "", stepTableHtml(model))}
</main>
<aside class="details card" aria-label="Step details" aria-live="polite">
<p class="placeholder">Pick a step in the graph, the timeline or the list to see its output, ` +
    `result and error.</p>
${model.steps.map((step) => stepDetailHtml(model, step)).join("\n")}
</aside>
</div>
<footer>Made by hwfe ${escapeHtml(info.version)}. This page is self-contained: it loads nothing ` +
    `from anywhere.</footer>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function section(id: string, heading: string, legendHtml: string, content: string): string {
  return `<section class="card" id="${id}" aria-labelledby="${id}-heading">` +
    `<h2><span id="${id}-heading">${heading}</span>${legendHtml}</h2>\n${content}\n</section>`;
}

/** The outcomes present in the run, as a legend of colours. */
function legend(model: ReportModel): string {
  const present = new Set(model.steps.map((step) => step.outcome));
  const keys = OUTCOMES.filter((outcome) => present.has(outcome))
    .map((outcome) =>
      `<span class="key o-${outcome}"><span class="mark">${OUTCOME_MARK[outcome]}</span>` +
      `${OUTCOME_LABEL[outcome]}</span>`
    );
  return `<span class="legend">${keys.join("")}</span>`;
}

function timelineLegend(model: ReportModel): string {
  const retried = model.steps.some((step) => step.record.attempts.length > 1);
  return `<span class="legend"><span class="key wait">waiting for a runtime</span>` +
    `<span class="key o-succeeded">running, coloured by outcome</span>` +
    (retried
      ? `<span class="key retried">failed attempt, retried</span>` +
        `<span class="key pause">pause before a retry</span>`
      : "") +
    `</span>`;
}

function headerHtml(model: ReportModel, info: ReportInfo): string {
  const { result, steps } = model;
  const counts = OUTCOMES.flatMap((outcome) => {
    const n = steps.filter((step) => step.outcome === outcome).length;
    return n ? [`<span class="badge o-${outcome}">${n} ${OUTCOME_LABEL[outcome]}</span>`] : [];
  });
  const started = info.startedAt.toISOString();
  const facts: [string, string][] = [
    ["File", result.file === undefined ? "defined in code" : shownHtml(result.file)],
    [
      "Mode",
      result.mode === "sequential"
        ? "sequential, one step at a time"
        : `parallel, ${result.strategy === "eager" ? "eager" : "by level"}, ` +
          `at most ${result.maxParallel} at once`,
    ],
    ["Duration", formatMs(result.durationMs)],
    [
      "Started",
      `<time datetime="${started}">${started.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>`,
    ],
    [plural(steps.length, "step"), `<span class="counts">${counts.join("")}</span>`],
    ["hwfe", escapeHtml(info.version)],
  ];
  return `<header class="run"><h1><span class="label">hwfe run</span> ` +
    `<span class="workflow">${shownHtml(result.workflow)}</span> ${badge(result.status)}</h1>` +
    `<dl class="run-facts">${
      facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join("")
    }</dl></header>`;
}

/**
 * The timeline (a Gantt chart) of the HTML report as inline SVG: one lane
 * per step on the run's clock, each attempt's wait for a runtime hatched
 * and thin, its run a bar, failed attempts marked and the pause before a
 * retry dashed, the last bar in the step's outcome colour.
 *
 * @module
 */

import { formatMs, plural, shownHtml, shownShort, truncate } from "./_report_html.ts";
import { OUTCOME_LABEL, OUTCOME_MARK, type ReportModel, type ReportStep } from "./report_model.ts";
import type { AttemptSpan } from "./run_record.ts";

/** Lanes drawn at most: past it, the list still shows every step. */
export const MAX_TIMELINE_STEPS = 2000;

/** Sizes of the chart, in pixels. */
export const TIMELINE = {
  width: 900,
  gutter: 196,
  right: 28,
  top: 30,
  lane: 26,
  bar: 14,
  wait: 6,
};
const NAME_CHARS = 24;
const TITLE_CHARS = 300;

/** A round step between ticks, for about `ticks` of them up to `endMs`. */
export function tickStep(endMs: number, ticks = 8): number {
  const raw = Math.max(endMs, 1) / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw)!;
}

/** A tick's time, as short as it reads: `0`, `250ms`, `2s`, `2.5s`, `1m 30s`. */
export function tickLabel(ms: number): string {
  if (ms === 0) return "0";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return ms < 60_000 ? `${Number((ms / 1000).toFixed(3))}s` : formatMs(ms);
}

/** The timeline section's content: the SVG, or why there is none. */
export function timelineHtml(model: ReportModel): string {
  const { steps } = model;
  if (steps.length === 0) return `<p class="note">The workflow has no steps.</p>`;
  if (steps.length > MAX_TIMELINE_STEPS) {
    return `<p class="note">${plural(steps.length, "step")} are too many to draw; ` +
      `the list below shows every one.</p>`;
  }
  const t = TIMELINE;
  const plot = t.width - t.gutter - t.right;
  const endMs = Math.max(model.endMs, 1);
  const x = (ms: number) => Math.round((t.gutter + (Math.max(0, ms) / endMs) * plot) * 10) / 10;
  const height = t.top + steps.length * t.lane + 8;
  return `<div class="scroll"><svg class="gantt" ` +
    `width="${t.width}" height="${height}" viewBox="0 0 ${t.width} ${height}" role="group" ` +
    `aria-label="Timeline: each step's attempts on the run's clock">` +
    `<defs><pattern id="hwfe-hatch" width="6" height="6" patternUnits="userSpaceOnUse" ` +
    `patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"/>` +
    `<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs>` +
    axis(endMs, height, x) +
    steps.map((step) => laneSvg(step, t.top + step.index * t.lane, x)).join("") +
    endLine(model, height, x) + `</svg></div>`;
}

function axis(endMs: number, height: number, x: (ms: number) => number): string {
  const step = tickStep(endMs);
  let ticks = "";
  for (let ms = 0; ms <= endMs + step / 1000; ms += step) {
    ticks += `<line class="grid" x1="${x(ms)}" y1="${TIMELINE.top - 6}" x2="${x(ms)}" ` +
      `y2="${height - 4}"/><text class="tick" x="${x(ms)}" y="${TIMELINE.top - 12}" ` +
      `text-anchor="middle">${tickLabel(ms)}</text>`;
  }
  return `<g class="axis">${ticks}</g>`;
}

function endLine(model: ReportModel, height: number, x: (ms: number) => number): string {
  const at = x(model.result.durationMs);
  return `<g class="end r-${model.result.status}"><line x1="${at}" y1="${TIMELINE.top - 6}" ` +
    `x2="${at}" y2="${height - 4}"/><title>The run ended (${model.result.status}) at ` +
    `${formatMs(model.result.durationMs)}</title></g>`;
}

/** One step's lane: a link to its details holding its label and its attempts. */
function laneSvg(step: ReportStep, top: number, x: (ms: number) => number): string {
  const t = TIMELINE;
  const { report, outcome, record } = step;
  const mid = top + t.lane / 2;
  const label = `${report.name}: ${OUTCOME_LABEL[outcome]}`;
  let marks = record.attempts.map((attempt, i) => attemptSvg(step, i, attempt, mid, x)).join("");
  if (record.attempts.length === 0) {
    const at = record.finishedMs ?? 0;
    const why = report.error ? `: ${truncate(report.error, TITLE_CHARS)}` : "";
    const note = report.reusedFrom !== undefined
      ? `↺ reused from run ${report.reusedFrom}`
      : OUTCOME_LABEL[outcome];
    marks = `<g class="mark"><title>${shownHtml(`${note}${why}`)}</title>` +
      (outcome === "skipped"
        ? `<path class="diamond" d="M${x(at)} ${mid - 5}l5 5l-5 5l-5 -5z"/>`
        : "") +
      noteSvg(x(at), mid, note) + `</g>`;
  }
  return `<a href="#step-${step.index}" class="lane o-${outcome}" data-step="${step.index}" ` +
    `aria-label="${shownHtml(label)}"><rect class="hit" x="0" y="${top}" width="${t.width}" ` +
    `height="${t.lane}"/><text class="lane-mark" x="8" y="${mid + 4}">${OUTCOME_MARK[outcome]}` +
    `</text><text class="lane-name" x="24" y="${mid + 4}">` +
    `${shownShort(report.name, NAME_CHARS)}<title>${shownHtml(label)}</title></text>${marks}</a>`;
}

/** A note beside a mark: after it, or before it near the right edge. */
function noteSvg(at: number, mid: number, text: string): string {
  const before = at > TIMELINE.width - TIMELINE.right - 90;
  return `<text class="lane-note" x="${before ? at - 9 : at + 9}" y="${mid + 4}"` +
    `${before ? ` text-anchor="end"` : ""}>${text}</text>`;
}

/** An attempt: the pause before it (a retry), its wait, its run, a cross when it failed. */
function attemptSvg(
  step: ReportStep,
  i: number,
  attempt: AttemptSpan,
  mid: number,
  x: (ms: number) => number,
): string {
  const t = TIMELINE;
  const attempts = step.record.attempts;
  const last = i === attempts.length - 1;
  const end = attempt.endMs ?? attempt.runningMs ?? attempt.startMs;
  const runFrom = attempt.runningMs ?? end;
  const failed = attempt.error !== undefined || (last && step.outcome === "failed");
  const error = attempt.error ?? (last ? step.report.error : undefined);
  const what = last ? OUTCOME_LABEL[step.outcome] : "failed, retried";
  const title = `attempt ${i + 1} of ${attempts.length}: ` +
    (attempt.runningMs === undefined
      ? `waited ${formatMs(end - attempt.startMs)} and never ran`
      : `waited ${formatMs(runFrom - attempt.startMs)}, ran ${formatMs(end - runFrom)}`) +
    `, ${what}${error ? `: ${truncate(error, TITLE_CHARS)}` : ""}`;
  let svg = "";
  const previous = attempts[i - 1];
  if (previous?.endMs !== undefined && attempt.startMs > previous.endMs) {
    svg += `<line class="pause" x1="${x(previous.endMs)}" y1="${mid}" x2="${x(attempt.startMs)}" ` +
      `y2="${mid}"><title>pause before attempt ${i + 1}: ` +
      `${formatMs(attempt.startMs - previous.endMs)}</title></line>`;
  }
  if (runFrom > attempt.startMs) {
    svg += `<rect class="wait" x="${x(attempt.startMs)}" y="${mid - t.wait / 2}" ` +
      `width="${Math.max(1, x(runFrom) - x(attempt.startMs))}" height="${t.wait}"/>`;
  }
  if (attempt.runningMs !== undefined) {
    const kind = last ? `o-${step.outcome}` : "o-failed retried";
    svg += `<rect class="run ${kind}" x="${x(runFrom)}" y="${mid - t.bar / 2}" ` +
      `width="${Math.max(2, x(end) - x(runFrom))}" height="${t.bar}" rx="2"/>`;
  }
  if (failed) {
    const at = Math.max(x(end), x(runFrom) + 2);
    svg += `<path class="cross" d="M${at - 3} ${mid - 3}l6 6m0 -6l-6 6"/>`;
  }
  return `<g class="attempt"><title>${shownHtml(title)}</title>${svg}</g>`;
}

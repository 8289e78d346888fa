/**
 * The step list of the HTML report (a table that reads without script) and
 * each step's details: outcome, durations, attempts and their errors, the
 * result as indented JSON, the error, and the output with stderr apart.
 *
 * @module
 */

import { parseJsonExact, stringifyJson } from "../_util/json.ts";
import { count, escapeHtml, formatMs, plural, shownHtml, shownShort } from "./_report_html.ts";
import { OUTCOME_LABEL, OUTCOME_MARK, type ReportModel, type ReportStep } from "./report_model.ts";

/** Characters of a result or an error shown at most; the rest is counted. */
export const MAX_SHOWN_CHARS = 256 * 1024;
const NOTE_CHARS = 120;

/** A status badge: its mark and its name, in its colour. */
export function badge(outcome: keyof typeof OUTCOME_LABEL): string {
  return `<span class="badge o-${outcome}">${OUTCOME_MARK[outcome]} ${
    OUTCOME_LABEL[outcome]
  }</span>`;
}

const ms = (value: number | undefined) => value === undefined ? "" : formatMs(value);

/** The table of every step, each a link to its details (attempts and errors when any). */
export function stepTableHtml(model: ReportModel): string {
  const retries = model.steps.some((step) => step.report.attempts !== undefined);
  const errors = model.steps.some((step) => step.report.error);
  const rows = model.steps.map((step) => {
    const { report, outcome } = step;
    const note = report.error ? shownShort(report.error.split("\n")[0], NOTE_CHARS) : "";
    return `<tr data-step="${step.index}"><td class="name"><a href="#step-${step.index}" ` +
      `data-step="${step.index}">${shownHtml(report.name)}</a></td><td>${badge(outcome)}</td>` +
      `<td>${escapeHtml(report.language)}</td><td class="num">${report.level}</td>` +
      `<td class="num">${ms(report.startMs)}</td><td class="num">${ms(report.waitedMs)}</td>` +
      `<td class="num">${ms(report.durationMs)}</td>` +
      (retries ? `<td class="num">${report.attempts ?? ""}</td>` : "") +
      (errors ? `<td class="note-cell">${note}</td>` : "") + `</tr>`;
  });
  return `<div class="scroll table"><table class="steps"><thead><tr><th>Step</th><th>Outcome</th>` +
    `<th>Language</th><th class="num">Level</th><th class="num">Started</th>` +
    `<th class="num">Waited</th><th class="num">Ran</th>` +
    (retries ? `<th class="num">Attempts</th>` : "") + (errors ? `<th>Error</th>` : "") +
    `</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

/** `text` as a `<pre>`, at most {@link MAX_SHOWN_CHARS} of it. */
function preHtml(kind: string, text: string): string {
  const cut = text.length > MAX_SHOWN_CHARS
    ? `<p class="dropped">${count(text.length - MAX_SHOWN_CHARS)} characters not shown</p>`
    : "";
  return `<pre class="${kind}">${shownHtml(text.slice(0, MAX_SHOWN_CHARS), true)}</pre>${cut}`;
}

/** A result's JSON text, indented (exact: big integers stay as written). */
export function prettyJson(text: string): string {
  if (text.length > MAX_SHOWN_CHARS) return text;
  try {
    return stringifyJson(parseJsonExact(text), 2);
  } catch {
    return text;
  }
}

const links = (model: ReportModel, indices: number[]) =>
  indices.map((i) =>
    `<a href="#step-${i}" data-step="${i}">${shownHtml(model.steps[i].report.name)}</a>`
  ).join(", ");

function factsHtml(model: ReportModel, step: ReportStep): string {
  const { report } = step;
  const facts: [string, string][] = [
    ["Outcome", badge(step.outcome)],
    ["Language", escapeHtml(report.language)],
    ["Level", String(report.level)],
  ];
  if (report.reusedFrom !== undefined) {
    facts.push(["Reused", `↺ the result of run ${report.reusedFrom}, not run again`]);
  }
  if (step.dependsOn.length) facts.push(["Depends on", links(model, step.dependsOn)]);
  if (step.dependents.length) facts.push(["Needed by", links(model, step.dependents)]);
  if (report.startMs !== undefined) {
    facts.push(["Started", `${formatMs(report.startMs)} into the run`]);
  }
  if (report.waitedMs !== undefined) {
    facts.push(["Waited for a runtime", formatMs(report.waitedMs)]);
  }
  if (report.durationMs !== undefined) facts.push(["Ran", formatMs(report.durationMs)]);
  if (report.attempts !== undefined) facts.push(["Attempts", String(report.attempts)]);
  return `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

function attemptsHtml(step: ReportStep): string {
  const { attempts } = step.record;
  if (attempts.length < 2 && !step.report.attemptErrors?.length) return "";
  const items = attempts.map((attempt, i) => {
    const last = i === attempts.length - 1;
    const end = attempt.endMs ?? attempt.runningMs ?? attempt.startMs;
    const ran = attempt.runningMs === undefined
      ? `waited ${formatMs(end - attempt.startMs)}, never ran`
      : `waited ${formatMs(attempt.runningMs - attempt.startMs)}, ran ${
        formatMs(end - attempt.runningMs)
      }`;
    const error = attempt.error ?? step.report.attemptErrors?.[i];
    const outcome = last ? step.outcome : "failed";
    return `<li>${badge(outcome)} <span class="when">at ${
      formatMs(attempt.startMs)
    }: ${ran}</span>` +
      `${error && !last ? preHtml("error", error) : ""}</li>`;
  });
  return `<h4>Attempts</h4><ol class="attempts">${items.join("")}</ol>`;
}

function outputHtml(step: ReportStep): string {
  const { output, droppedChars } = step.record;
  const errLines = output.filter((line) => line.stream === "stderr").length;
  const summary = output.length
    ? `${plural(output.length, "line")}${errLines ? `, ${count(errLines)} on stderr` : ""}`
    : "none";
  const retried = step.record.attempts.length > 1;
  const lines = output.map(({ stream, line, attempt }, i) =>
    // Where each attempt's output begins: a label the page draws, not text to copy.
    (retried && attempt !== undefined && attempt !== output[i - 1]?.attempt
      ? `<span class="attempt-start" data-attempt="${attempt}"></span>`
      : "") +
    `<span class="line ${stream === "stderr" ? "err" : "out"}">${shownHtml(line)}\n</span>`
  );
  const dropped = droppedChars
    ? `<p class="dropped">${count(droppedChars)} characters not kept</p>`
    : "";
  return `<h4>Output <small>${summary}</small></h4>` +
    (output.length ? `<pre class="output">${lines.join("")}</pre>` : "") + dropped;
}

/** One step's details, shown when the step is picked (its id is the link's target). */
export function stepDetailHtml(model: ReportModel, step: ReportStep): string {
  const { report } = step;
  const error = report.error ? `<h4>Error</h4>${preHtml("error", report.error)}` : "";
  const result = report.result !== undefined
    ? `<h4>Result</h4>${preHtml("result", prettyJson(report.result))}`
    : "";
  return `<article class="detail o-${step.outcome}" id="step-${step.index}" ` +
    `data-step="${step.index}" tabindex="-1" aria-labelledby="step-${step.index}-name">` +
    `<h3 id="step-${step.index}-name"><span class="mark">${OUTCOME_MARK[step.outcome]}</span> ` +
    `<span class="step-name">${shownHtml(report.name)}</span></h3>` +
    factsHtml(model, step) + error + attemptsHtml(step) + result + outputHtml(step) +
    `</article>`;
}

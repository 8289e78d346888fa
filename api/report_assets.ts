/**
 * The HTML report's style sheet and script: constant text, inlined in every
 * report and allowed by their hashes in its Content-Security-Policy. The
 * script reads no data: it shows the picked step's details (rendered in the
 * page already), marks the step in every view and moves between steps with
 * the arrow keys. Without it, links to `#step-N` show the details by
 * `:target`.
 *
 * @module
 */

/** Colours of the outcomes and the page, light and dark. */
const COLOURS = `
:root {
  color-scheme: light dark;
  --bg: #f4f6f9; --panel: #ffffff; --text: #1c2430; --muted: #5e6a7a; --line: #dfe4ea;
  --edge: #9aa6b4; --accent: #2563eb; --code: #f6f8fa; --wait: #98a4b3;
  --succeeded: #16a34a; --failed: #dc2626; --continued: #d97706; --cancelled: #7c3aed;
  --skipped: #8b95a3; --pending: #b4bcc7; --running: #2563eb;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11151b; --panel: #1a1f27; --text: #e2e7ee; --muted: #97a2b1; --line: #2c333e;
    --edge: #5f6b79; --accent: #60a5fa; --code: #141920; --wait: #6b7786;
    --succeeded: #22c55e; --failed: #f87171; --continued: #fbbf24; --cancelled: #a78bfa;
    --skipped: #8b95a3; --pending: #5d6774; --running: #60a5fa;
  }
}
.o-succeeded { --c: var(--succeeded); } .o-failed { --c: var(--failed); }
.o-continued { --c: var(--continued); } .o-cancelled { --c: var(--cancelled); }
.o-skipped { --c: var(--skipped); } .o-pending { --c: var(--pending); }
.o-running { --c: var(--running); }
`;

const PAGE = `
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
header.run { background: var(--panel); border-bottom: 1px solid var(--line); padding: 18px 24px 14px; }
header.run h1 { margin: 0 0 10px; font-size: 22px; display: flex; flex-wrap: wrap; gap: 4px 12px;
  align-items: center; overflow-wrap: anywhere; }
header.run h1 .label { color: var(--muted); font-weight: 500; }
.run-facts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 0; }
.run-facts div { min-width: 0; }
.run-facts dt { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .06em; }
.run-facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.counts { display: flex; flex-wrap: wrap; gap: 6px; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(320px, 460px); gap: 16px;
  padding: 16px 24px; align-items: start; }
@media (max-width: 1100px) { .layout { grid-template-columns: minmax(0, 1fr); } }
main { min-width: 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 16px 14px; margin-bottom: 16px; }
.card h2 { margin: 0 0 8px; font-size: 15px; display: flex; flex-wrap: wrap; gap: 4px 16px;
  align-items: baseline; justify-content: space-between; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; font-weight: 400;
  color: var(--muted); }
.key::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  background: var(--c); margin-right: 5px; vertical-align: -1px; }
.key:has(.mark)::before { display: none; }
.key .mark { color: var(--c); font-weight: 700; margin-right: 4px; }
.key.wait::before { background: repeating-linear-gradient(45deg, var(--wait) 0 2px, transparent 2px 4px);
  height: 6px; vertical-align: 1px; }
.key.pause::before { background: none; border-top: 2px dotted var(--failed); height: 0;
  vertical-align: 3px; }
.key.retried::before { background: color-mix(in srgb, var(--failed) 50%, var(--panel)); }
.scroll { overflow: auto; max-height: 72vh; }
.note { color: var(--muted); margin: 4px 0 8px; }
a { color: var(--accent); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px;
  font-weight: 600; white-space: nowrap; color: var(--c);
  background: color-mix(in srgb, var(--c) 14%, transparent); }
h1 .badge { font-size: 14px; padding: 2px 12px; }
footer { color: var(--muted); font-size: 12px; padding: 0 24px 24px; }
`;

const SVG = `
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--text); }
svg a { cursor: pointer; }
svg a:focus { outline: none; }
.ranks text { fill: var(--muted); font-size: 11px; letter-spacing: .06em; text-transform: uppercase; }
.dag .box { fill: color-mix(in srgb, var(--c) 9%, var(--panel)); stroke: var(--c); stroke-width: 1.5; }
.dag .stripe { fill: var(--c); }
.dag .name { font-weight: 600; }
.dag .sub, .dag .lang { fill: var(--muted); font-size: 11px; }
.dag .sub .mark { fill: var(--c); font-weight: 700; }
.node.o-skipped .box, .node.o-pending .box { stroke-dasharray: 4 3; }
.node:hover .box { stroke-width: 2.5; }
.node.selected .box, .node:focus-visible .box { stroke: var(--accent); stroke-width: 3; }
.edge { fill: none; stroke: var(--edge); stroke-width: 1.5; marker-end: url(#hwfe-arrow); }
.edge.blocked { stroke-dasharray: 5 4; }
.edge.selected { stroke: var(--accent); stroke-width: 2.5; marker-end: url(#hwfe-arrow-selected); }
#hwfe-arrow path { fill: var(--edge); }
#hwfe-arrow-selected path { fill: var(--accent); }
.gantt .grid { stroke: var(--line); }
.gantt .tick { fill: var(--muted); font-size: 11px; }
.lane .hit { fill: transparent; }
.lane:nth-of-type(even) .hit { fill: color-mix(in srgb, var(--text) 3%, transparent); }
.lane:hover .hit { fill: color-mix(in srgb, var(--accent) 8%, transparent); }
.lane.selected .hit, .lane:focus-visible .hit { fill: color-mix(in srgb, var(--accent) 16%, transparent); }
.lane-mark { fill: var(--c); font-weight: 700; }
.lane.selected .lane-name { font-weight: 700; }
.run { fill: var(--c); }
.run.retried { fill: color-mix(in srgb, var(--failed) 50%, var(--panel)); }
.wait { fill: url(#hwfe-hatch); }
.hatch-bg { fill: color-mix(in srgb, var(--wait) 25%, var(--panel)); }
.hatch-line { stroke: var(--wait); stroke-width: 3; }
.pause { stroke: var(--failed); stroke-width: 2; stroke-dasharray: 1 3; stroke-linecap: round; }
.cross { stroke: var(--failed); stroke-width: 2; stroke-linecap: round; }
.diamond { fill: var(--c); }
.lane-note { fill: var(--muted); font-size: 11px; font-style: italic; }
.end line { stroke: var(--text); stroke-width: 1.5; stroke-dasharray: 4 3; opacity: .45; }
`;

const STEPS = `
table.steps { border-collapse: collapse; width: 100%; }
.steps th, .steps td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line);
  white-space: nowrap; vertical-align: top; }
.steps th { font-size: 12px; color: var(--muted); font-weight: 600; }
.steps .num { text-align: right; font-variant-numeric: tabular-nums; }
.steps td.name { white-space: normal; min-width: 8em; max-width: 22em; overflow-wrap: anywhere; }
.steps td.name a { color: inherit; font-weight: 600; text-decoration: none; }
.steps td.name a:hover { text-decoration: underline; }
.steps .note-cell { white-space: normal; color: var(--muted); min-width: 12em; max-width: 26em;
  overflow-wrap: anywhere; font-size: 12px; }
.steps tbody tr:hover td { background: color-mix(in srgb, var(--accent) 5%, transparent); }
.steps tr.selected td { background: color-mix(in srgb, var(--accent) 12%, transparent); }
.details { position: sticky; top: 16px; max-height: calc(100vh - 32px); overflow: auto; }
.placeholder { color: var(--muted); margin: 6px 0; }
html:not(.js) .details:has(.detail:target) .placeholder { display: none; }
.detail { display: none; }
html:not(.js) .detail:target, .js .detail.shown { display: block; }
.detail:focus { outline: none; }
.detail h3 { margin: 2px 0 10px; font-size: 17px; overflow-wrap: anywhere; }
.detail h3 .mark { color: var(--c); }
.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 14px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.detail h4 { margin: 16px 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em;
  color: var(--muted); }
.detail h4 small { text-transform: none; letter-spacing: 0; font-weight: 400; margin-left: 6px; }
pre { margin: 0; padding: 8px 10px; background: var(--code); border: 1px solid var(--line);
  border-radius: 6px; max-height: 420px; overflow: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.error { color: var(--failed); }
.output .line { display: block; padding-left: 8px; border-left: 3px solid transparent; }
.output .line.err { color: var(--failed); border-left-color: var(--failed);
  background: color-mix(in srgb, var(--failed) 7%, transparent); }
.output .line.err::before { content: "stderr"; float: right; margin-left: 8px; font-size: 10px;
  opacity: .75; }
.output .attempt-start { display: block; color: var(--muted); font-size: 10px;
  text-transform: uppercase; letter-spacing: .06em; border-top: 1px dashed var(--line); margin-top: 2px; }
.output .attempt-start:first-child { border-top: none; margin-top: 0; }
.output .attempt-start::before { content: "attempt " attr(data-attempt); }
.dropped { color: var(--continued); font-size: 12px; margin: 4px 0 0; }
ol.attempts { margin: 0; padding-left: 22px; }
ol.attempts li { margin-bottom: 6px; }
ol.attempts pre { margin-top: 4px; }
.when { color: var(--muted); font-size: 12px; }
.step-name, .steps td.name a, .facts dd a { unicode-bidi: isolate; }
`;

/** The report's style sheet. */
export const REPORT_STYLE = (COLOURS + PAGE + SVG + STEPS).trim();

/** The report's script (plain ES2020 over the page's own attributes: no data, no innerHTML). */
export const REPORT_SCRIPT = `
"use strict";
(() => {
  document.documentElement.classList.add("js");
  const panel = document.querySelector(".details");
  const placeholder = document.querySelector(".placeholder");
  const marked = [];
  let shown = null;
  const stepOf = (href) => (/^#step-(\\d+)$/.exec(href || "") || [])[1];
  function select(step) {
    const detail = document.getElementById("step-" + step);
    if (!detail || !detail.classList.contains("detail")) return false;
    if (shown) shown.classList.remove("shown");
    for (const element of marked.splice(0)) element.classList.remove("selected");
    detail.classList.add("shown");
    shown = detail;
    if (placeholder) placeholder.hidden = true;
    const selector = '[data-step="' + step + '"], .edge[data-from="' + step + '"], ' +
      '.edge[data-to="' + step + '"]';
    for (const element of document.querySelectorAll(selector)) {
      element.classList.add("selected");
      marked.push(element);
    }
    try {
      history.replaceState(null, "", "#step-" + step);
    } catch (_) {
      // A page opened from a file may refuse: the selection stands.
    }
    panel.scrollTop = 0;
    const box = panel.getBoundingClientRect();
    if (box.top >= innerHeight || box.bottom <= 0) panel.scrollIntoView({ block: "start" });
    return true;
  }
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    const step = link ? stepOf(link.getAttribute("href")) : undefined;
    if (step !== undefined && select(step)) event.preventDefault();
  });
  // The arrow keys move to the next or previous step in the same view.
  const keys = new Map([["ArrowDown", 1], ["ArrowRight", 1], ["ArrowUp", -1], ["ArrowLeft", -1]]);
  document.addEventListener("keydown", (event) => {
    const delta = keys.get(event.key);
    const here = document.activeElement;
    const link = delta && here instanceof Element ? here.closest("a[data-step]") : null;
    const view = link ? link.closest("svg, table") : null;
    if (!view) return;
    const step = Number(link.getAttribute("data-step")) + delta;
    const next = view.querySelector('a[data-step="' + step + '"]');
    if (!next) return;
    event.preventDefault();
    next.focus();
    select(String(step));
  });
  const fromHash = () => {
    const step = stepOf(location.hash);
    if (step !== undefined) select(step);
  };
  addEventListener("hashchange", fromHash);
  fromHash();
  for (const time of document.querySelectorAll("time[datetime]")) {
    const date = new Date(time.getAttribute("datetime"));
    if (!isNaN(date.getTime())) time.textContent = date.toLocaleString();
  }
})();
`.trim();

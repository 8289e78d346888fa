/**
 * Terminal rendering of run events and results for the CLI. Pure
 * functions of events: the caller decides where the text goes.
 *
 * @module
 */

import type { RunEvent, RunResult, StepReport } from "../engine/events.ts";
import { escapeMessage, escapeTerminal } from "../_util/terminal_text.ts";

/** Colour helpers; identity functions when colour is off. */
export interface Palette {
  /** Whether colour is on: step output keeps its own colours then. */
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  /** The colour of step `name`'s `[name]` prefix: the same in every run. */
  step(name: string): (s: string) => string;
}

/**
 * Colours of step prefixes: none that means an outcome (red, green,
 * yellow) or that fades (dim, grey).
 */
const STEP_COLOURS = [
  "cyan",
  "magenta",
  "blue",
  "cyanBright",
  "magentaBright",
  "blueBright",
] as const;

/** FNV-1a: a step's colour follows from its name alone, so it is stable across runs. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const same = (s: string) => s;

/**
 * A palette with ANSI colours when `enabled`, from picocolors, which is
 * loaded only then: importing it costs 8-14 ms of start-up even after
 * commander (measured: 15 piped runs each, the fastest 244 ms with it
 * imported and 229 ms without), which a run into a pipe or file need not pay.
 */
export async function palette(enabled: boolean): Promise<Palette> {
  if (!enabled) {
    return {
      enabled,
      green: same,
      red: same,
      yellow: same,
      cyan: same,
      dim: same,
      bold: same,
      step: () => same,
    };
  }
  const c = (await import("../_util/npm/picocolors.ts")).createColors(true);
  return {
    enabled,
    green: c.green,
    red: c.red,
    yellow: c.yellow,
    cyan: c.cyan,
    dim: c.dim,
    bold: c.bold,
    step: (name) => c[STEP_COLOURS[hash(name) % STEP_COLOURS.length]],
  };
}

/** `35ms` below a second, `1.23s` above. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

const MARK: Record<string, string> = {
  succeeded: "✓",
  failed: "✗",
  cancelled: "■",
  skipped: "-",
};

/**
 * Text for one event, as whole lines (without trailing newline), or
 * undefined when the event shows nothing.
 */
export function renderEvent(event: RunEvent, p: Palette): string | undefined {
  switch (event.type) {
    case "step_started":
      return `${p.dim("▶")} ${escapeTerminal(event.step)} started ${
        p.dim(`(${event.language}, level ${event.level})`)
      }`;
    case "step_output": {
      const line = escapeTerminal(event.line, { colour: p.enabled });
      // A colour the step leaves on must not run into the next line.
      const reset = line.includes("\x1b") ? "\x1b[0m" : "";
      return `${p.step(event.step)(`[${escapeTerminal(event.step)}]`)} ${line}${reset}`;
    }
    case "step_finished":
      return renderFinished(event.report, p);
    case "step_retrying":
      return p.yellow(
        `↻ ${escapeTerminal(event.step)} failed (attempt ${event.attempt} of ${event.attempts}), ` +
          `retrying in ${formatDuration(event.delayMs)}: ${escapeMessage(event.error)}`,
      );
    case "runtime_starting":
      return p.dim(
        `· starting ${escapeTerminal(event.runtime)} from scratch, which takes a few seconds ` +
          `the first time on this machine; later runs restore a saved snapshot, several times faster`,
      );
    case "runtime_started":
      // Only the slow case is worth a line: it explains a first run's pause.
      return event.from === "cold"
        ? p.dim(
          `· ${event.runtime} started cold in ${formatDuration(event.ms)}` +
            (event.note ? ` (${escapeMessage(event.note)})` : ""),
        )
        : undefined;
    // The run's header, its summary and warnings are printed by the
    // command itself (cli/run_command.ts), around the events; a step's
    // wait for its runtime shows in its finished line and the live view.
    case "run_started":
    case "step_running":
    case "run_finished":
    case "warning":
      return undefined;
    default:
      // A new kind of event must be rendered or listed above: this fails to compile otherwise.
      return unrendered(event);
  }
}

function unrendered(event: never): never {
  throw new Error(`no rendering for event ${JSON.stringify(event)}`);
}

function colourFor(status: string, p: Palette): (s: string) => string {
  return status === "succeeded" ? p.green : status === "failed" ? p.red : p.yellow;
}

function statusText(report: StepReport): string {
  if (report.reusedFrom !== undefined) return `↺ reused from run ${report.reusedFrom}`;
  return report.continued ? "failed (continued)" : report.status;
}

/** Waits shorter than this are not shown: a warm worker takes a few milliseconds. */
const SHOWN_WAIT_MS = 100;

/** Whether a step's wait for a runtime is worth showing. */
function waited(report: StepReport): boolean {
  return (report.waitedMs ?? 0) >= SHOWN_WAIT_MS;
}

function renderFinished(report: StepReport, p: Palette): string {
  if (report.reusedFrom !== undefined) {
    return `${p.green("↺")} ${escapeTerminal(report.name)} ${
      p.green(`reused from run ${report.reusedFrom}`)
    }`;
  }
  const colour = colourFor(report.continued ? "continued" : report.status, p);
  const took = (report.durationMs === undefined ? "" : ` in ${formatDuration(report.durationMs)}`) +
    (waited(report) ? ` (waited ${formatDuration(report.waitedMs!)} for ${report.language})` : "");
  const tries = report.attempts && report.attempts > 1 ? ` after ${report.attempts} attempts` : "";
  const why = report.error ? `: ${escapeMessage(report.error)}` : "";
  return `${colour(MARK[report.status] ?? "?")} ${escapeTerminal(report.name)} ${
    colour(statusText(report))
  }${took}${tries}${why}`;
}

/** The final summary table and verdict line. */
export function renderSummary(result: RunResult, p: Palette, width = SUMMARY_WIDTH): string {
  // A WAITED column only when a step waited for its runtime.
  const waits = result.steps.some(waited);
  const rows = result.steps.map((s) => [
    escapeTerminal(s.name),
    s.language,
    String(s.level),
    statusText(s),
    s.durationMs === undefined || s.reusedFrom !== undefined ? "-" : formatDuration(s.durationMs),
    ...(waits ? [waited(s) ? formatDuration(s.waitedMs!) : "-"] : []),
    s.result === undefined ? "-" : s.result,
  ]);
  const header = [
    "STEP",
    "LANGUAGE",
    "LEVEL",
    "STATUS",
    "DURATION",
    ...(waits ? ["WAITED"] : []),
    "RESULT",
  ];
  const last = header.length - 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The result, as the reference engine printed it, in what is left of the line.
  const used = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 2);
  const room = Math.max(MIN_RESULT_WIDTH, width - used);
  for (const row of rows) row[last] = shorten(row[last], room);
  widths[last] = Math.max(header[last].length, ...rows.map((r) => r[last].length));
  const line = (cells: string[], step?: StepReport) =>
    "  " + cells.map((cell, i) => {
      const padded = cell.padEnd(widths[i]);
      return i === 3 && step
        ? colourFor(step.continued ? "continued" : step.status, p)(padded)
        : padded;
    }).join("  ").trimEnd();
  const verdict = colourFor(result.status, p)(result.status);
  const reused = result.steps.filter((s) => s.reusedFrom !== undefined).length;
  return [
    "",
    p.bold("Summary"),
    line(header),
    ...rows.map((row, i) => line(row, result.steps[i])),
    "",
    `Workflow '${escapeTerminal(result.workflow)}' ${verdict} in ${
      formatDuration(result.durationMs)
    } ` +
    `(${result.mode}${result.mode === "parallel" ? `, up to ${result.maxParallel} at once` : ""}${
      result.strategy === "eager" ? ", eager" : ""
    }${reused ? `; ${reused} of ${result.steps.length} steps reused from history` : ""})`,
  ].join("\n");
}

/** The summary's width when the terminal's is unknown (output to a file or pipe). */
const SUMMARY_WIDTH = 100;
/** The fewest characters of a result the summary shows, however wide the rest. */
const MIN_RESULT_WIDTH = 20;

/**
 * JSON text (one line already) as at most `max` characters, escaped for the
 * terminal and cut with "…". Characters, not columns: a wide character
 * takes two.
 */
export function shorten(json: string, max: number): string {
  const text = escapeTerminal(json);
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join("") + "…";
}

/** Lines of each error the recap quotes. */
const RECAP_LINES = 4;

/**
 * The make-style recap that ends a failed run, so that nobody scrolls back
 * through pages of output to find what broke: one `*** step 'x' failed: ...`
 * per failed step (continued failures too, marked), with the first lines of
 * its error. Undefined when no step failed.
 */
export function renderRecap(result: RunResult, p: Palette): string | undefined {
  const failed = result.steps.filter((s) => s.status === "failed");
  if (failed.length === 0) return undefined;
  return failed.map((s) => {
    // The error usually starts by naming the step again: say it once.
    const again = `step '${s.name}' `;
    let error = s.error ?? "no error message";
    if (error.startsWith(again)) error = error.slice(again.length).replace(/^\([\w-]+\): /, "");
    const lines = escapeTerminal(error, { newlines: true }).split("\n");
    const more = lines.length - RECAP_LINES;
    const name = escapeTerminal(s.name);
    return [
      p.red(`*** step '${name}' ${s.continued ? "failed (continued)" : "failed"}: `) + lines[0],
      ...lines.slice(1, RECAP_LINES).map((line) => `    ${line}`),
      ...(more > 0 ? [p.dim(`    ... ${more} more line${more > 1 ? "s" : ""}`)] : []),
    ].join("\n");
  }).join("\n");
}

/**
 * Terminal rendering of run events and results for the CLI, and the JSON
 * form of a result. Pure functions of events: the caller decides where the
 * text goes.
 *
 * @module
 */

import type { RunEvent, RunResult, StepReport } from "../engine/events.ts";
import { parseJsonExact, stringifyJson } from "../_util/json.ts";

/**
 * What a terminal may act on rather than show: C0 controls but tab, then
 * DEL, C1 controls (some terminals take U+009B as CSI), the line and
 * paragraph separators, and the bidi embeddings, overrides and isolates
 * that reorder text on screen (U+202A-U+202E, U+2066-U+2069: "Trojan
 * Source"). JSON.stringify escapes C0 itself, and nothing but these.
 */
const C0 = "\\x00-\\x08\\x0a-\\x1f";
const BEYOND_C0 = "\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069";
const HAS_UNSAFE = new RegExp(`[${C0}${BEYOND_C0}]`);
/** An SGR sequence (colour and style: ESC [ params m) or one unsafe character. */
const SGR_OR_UNSAFE = new RegExp(`\\x1b\\[[0-9;:]{0,64}m|[${C0}${BEYOND_C0}]`, "g");
const JSON_UNSAFE = new RegExp(`[${BEYOND_C0}]`, "g");

const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, "0");
/** `\x1b` for characters below U+0100, `\u202e` above. */
const escapeCharacter = (c: string) =>
  c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;

/**
 * Whether SGR parameters only colour or style text: all but conceal (8),
 * which would hide text that a copy and paste still takes.
 */
function harmlessSgr(params: string): boolean {
  const list = params.split(";");
  for (let i = 0; i < list.length; i++) {
    const code = Number(list[i].split(":")[0] || "0");
    if (code === 8) return false;
    // 38;5;n and 38;2;r;g;b (and 48, 58): the numbers after are a colour, not codes.
    if ((code === 38 || code === 48 || code === 58) && !list[i].includes(":")) {
      i += list[i + 1] === "5" ? 2 : list[i + 1] === "2" ? 4 : 0;
    }
  }
  return true;
}

/** Options of {@link escapeTerminal}. */
export interface EscapeOptions {
  /** Keep line feeds (a message of several lines); otherwise `\x0a`. */
  newlines?: boolean;
  /** Keep colour and style sequences (SGR, conceal excepted): step output on a colour terminal. */
  colour?: boolean;
}

/**
 * Text from a workflow or a step (names, output lines, error messages,
 * warnings) as hwfe prints it for people: every character a terminal would
 * act on is shown escaped (`\x1b`, `\u202e`), so a workflow cannot move
 * the cursor, erase lines, set the title, write the clipboard (OSC 52) or
 * reorder text. Tab is kept. Backslashes are not doubled: an escape is for
 * reading, and output with backslashes stays as written.
 *
 * Hand-written: libraries strip escape sequences (strip-ansi, Node's
 * stripVTControlCharacters) or quote whole strings (jsesc); none shows
 * them while keeping colour.
 */
export function escapeTerminal(text: string, options: EscapeOptions = {}): string {
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(SGR_OR_UNSAFE, (match) => {
    if (match.length === 1) {
      return options.newlines && match === "\n" ? match : escapeCharacter(match);
    }
    return options.colour && harmlessSgr(match.slice(2, -1))
      ? match
      : escapeCharacter("\x1b") + match.slice(1);
  });
}

/**
 * A message of one or more lines (an error) for a terminal: escaped, and
 * every line after the first indented, so that none can pass for one of
 * hwfe's own lines (a fake `✓ deploy succeeded`).
 */
export function escapeMessage(text: string): string {
  return escapeTerminal(text, { newlines: true }).replaceAll("\n", "\n    ");
}

/** Colour helpers; identity functions when colour is off. */
export interface Palette {
  /** Whether colour is on: step output keeps its own colours then. */
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** A palette with ANSI colours when `enabled`. */
export function palette(enabled: boolean): Palette {
  const wrap = (code: number, reset: number) => (s: string) =>
    enabled ? `\x1b[${code}m${s}\x1b[${reset}m` : s;
  return {
    enabled,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
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
      return `${p.dim(`[${escapeTerminal(event.step)}]`)} ${line}${reset}`;
    }
    case "step_finished":
      return renderFinished(event.report, p);
    case "step_retrying":
      return p.yellow(
        `↻ ${escapeTerminal(event.step)} failed (attempt ${event.attempt} of ${event.attempts}), ` +
          `retrying in ${formatDuration(event.delayMs)}: ${escapeMessage(event.error)}`,
      );
    case "runtime_started":
      // Only the slow case is worth a line: it explains a first run's pause.
      return event.from === "cold"
        ? p.dim(
          `· ${event.runtime} started cold in ${formatDuration(event.ms)}` +
            (event.note ? ` (${escapeMessage(event.note)})` : ""),
        )
        : undefined;
    default:
      return undefined;
  }
}

function colourFor(status: string, p: Palette): (s: string) => string {
  return status === "succeeded" ? p.green : status === "failed" ? p.red : p.yellow;
}

function statusText(report: StepReport): string {
  return report.continued ? "failed (continued)" : report.status;
}

function renderFinished(report: StepReport, p: Palette): string {
  const colour = colourFor(report.continued ? "continued" : report.status, p);
  const took = report.durationMs === undefined ? "" : ` in ${formatDuration(report.durationMs)}`;
  const tries = report.attempts && report.attempts > 1 ? ` after ${report.attempts} attempts` : "";
  const why = report.error ? `: ${escapeMessage(report.error)}` : "";
  return `${colour(MARK[report.status] ?? "?")} ${escapeTerminal(report.name)} ${
    colour(statusText(report))
  }${took}${tries}${why}`;
}

/** The final summary table and verdict line. */
export function renderSummary(result: RunResult, p: Palette, width = SUMMARY_WIDTH): string {
  const rows = result.steps.map((s) => [
    escapeTerminal(s.name),
    s.language,
    String(s.level),
    statusText(s),
    s.durationMs === undefined ? "-" : formatDuration(s.durationMs),
    s.result === undefined ? "-" : s.result,
  ]);
  const header = ["STEP", "LANGUAGE", "LEVEL", "STATUS", "DURATION", "RESULT"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The result, as the reference engine printed it, in what is left of the line.
  const used = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 2);
  const room = Math.max(MIN_RESULT_WIDTH, width - used);
  for (const row of rows) row[5] = shorten(row[5], room);
  widths[5] = Math.max(header[5].length, ...rows.map((r) => r[5].length));
  const line = (cells: string[], status?: string) =>
    "  " + cells.map((cell, i) => {
      const padded = cell.padEnd(widths[i]);
      return i === 3 && status
        ? colourFor(status === "failed (continued)" ? "continued" : status, p)(padded)
        : padded;
    }).join("  ").trimEnd();
  const verdict = colourFor(result.status, p)(result.status);
  return [
    "",
    p.bold("Summary"),
    line(header),
    ...rows.map((row) => line(row, row[3])),
    "",
    `Workflow '${escapeTerminal(result.workflow)}' ${verdict} in ${
      formatDuration(result.durationMs)
    } ` +
    `(${result.mode}${result.mode === "parallel" ? `, up to ${result.maxParallel} at once` : ""}${
      result.strategy === "eager" ? ", eager" : ""
    })`,
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

const seconds = (ms: number | undefined) => ms === undefined ? undefined : Math.round(ms) / 1000;

/**
 * The `--json` form of a result: durations and start offsets in seconds,
 * steps keyed by name, results as JSON with integers of any size exact.
 * The same document as `hwfe run --json`. Characters a terminal may act
 * on are `\u` escapes even where JSON allows them raw (C1, bidi controls).
 *
 * @example
 * ```ts
 * import { defineWorkflow, resultToJson, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { big: { code: "function run() return 9007199254740993 end" } } });
 * const json = resultToJson(await runWorkflow(workflow));
 * console.log(json.includes("9007199254740993")); // true: exact, not rounded
 * ```
 */
export function resultToJson(result: RunResult): string {
  // fromEntries defines keys: a step named "__proto__" would set the
  // prototype if assigned where the accessor exists (--unstable-unsafe-proto).
  const steps = Object.fromEntries(result.steps.map((s) => [s.name, {
    status: s.status,
    language: s.language,
    level: s.level,
    start: seconds(s.startMs) ?? null,
    duration: seconds(s.durationMs) ?? null,
    ...(s.result !== undefined ? { result: parseJsonExact(s.result) } : {}),
    ...(s.error !== undefined ? { error: s.error } : {}),
    ...(s.attempts !== undefined ? { attempts: s.attempts } : {}),
    ...(s.attemptErrors?.length ? { attempt_errors: s.attemptErrors } : {}),
    ...(s.continued ? { continue_on_error: true } : {}),
  }]));
  return stringifyJson(
    {
      workflow: result.workflow,
      file: result.file ?? null,
      mode: result.mode,
      strategy: result.strategy,
      max_parallel_steps: result.maxParallel,
      status: result.status,
      duration: seconds(result.durationMs),
      levels: result.levels,
      steps,
    },
    2,
  ).replace(JSON_UNSAFE, (c) => `\\u${hex(c, 4)}`); // only strings hold these: same value
}

/**
 * The live view's board as data and text: what each run event changes
 * ({@link BoardState}) and the lines of one frame ({@link renderBoard}), a
 * pure function of the state, the clock and the terminal's size. The
 * terminal side, which draws the frames, is cli/live.ts.
 *
 * @module
 */

import type { RunEvent, StepStatus, Strategy } from "../engine/events.ts";
import { escapeTerminal } from "../_util/terminal_text.ts";
import { stringWidth } from "../_util/npm/string_width.ts";
import { sliceAnsi } from "../_util/npm/slice_ansi.ts";
import type { Palette } from "./render.ts";

/** A step that holds a slot: its runtime is coming, its code runs, or it waits to retry. */
export interface ActiveStep {
  /** The name as the board shows it: escaped, at most {@link NAME_COLUMNS} wide. */
  label: string;
  language: string;
  level: number;
  /** From step_started to step_running it waits for its runtime (a worker, Python). */
  phase: "waiting" | "running" | "retrying";
  /** When it entered its phase, by the board's clock. */
  since: number;
  attempt: number;
  attempts?: number;
}

/** The widest a step's name is shown on the board; longer names end in "…". */
export const NAME_COLUMNS = 32;
/** The most step lines a board has, whatever the terminal's height. */
export const MAX_STEP_LINES = 10;

/** What the board knows of a run, changed by each event ({@link BoardState.apply}). */
export class BoardState {
  /** When the run started, by the board's clock; undefined until run_started. */
  started?: number;
  strategy: Strategy = "levels";
  levels: string[][] = [];
  /** Steps holding a slot, in the order they got it. */
  readonly active = new Map<string, ActiveStep>();
  /** How each ended step ended. */
  readonly ended = new Map<string, StepStatus>();
  /** Each step's {@link boardLabel}, made once: a name may be long. */
  readonly #labels = new Map<string, string>();
  /** Ended steps whose dependents may run: succeeded, or failed with continue_on_error. */
  readonly #satisfied = new Set<string>();
  readonly #dependsOn: (step: string) => readonly string[];

  /** `dependsOn` tells the board which steps are queued: those whose dependencies all ended well. */
  constructor(dependsOn: (step: string) => readonly string[] = () => []) {
    this.#dependsOn = dependsOn;
  }

  /** Takes in one event that arrived at `now` (the board's clock, in milliseconds). */
  apply(event: RunEvent, now: number): void {
    switch (event.type) {
      case "run_started":
        this.started = now;
        this.strategy = event.strategy;
        this.levels = event.levels;
        break;
      case "step_started":
        this.active.set(event.step, {
          label: this.label(event.step),
          language: escapeTerminal(event.language),
          level: event.level,
          phase: "waiting",
          since: now,
          attempt: 1,
        });
        break;
      case "step_running":
        this.#update(event.step, { phase: "running", since: now, attempt: event.attempt });
        break;
      case "step_retrying":
        this.#update(event.step, {
          phase: "retrying",
          since: now,
          attempt: event.attempt,
          attempts: event.attempts,
        });
        break;
      case "step_finished": {
        const { report } = event;
        this.active.delete(report.name);
        this.ended.set(report.name, report.status);
        if (report.status === "succeeded" || report.continued) this.#satisfied.add(report.name);
        break;
      }
    }
  }

  /** The step's name as the board shows it ({@link boardLabel}). */
  label(step: string): string {
    let label = this.#labels.get(step);
    if (label === undefined) this.#labels.set(step, label = boardLabel(step));
    return label;
  }

  #update(step: string, patch: Partial<ActiveStep>): void {
    const active = this.active.get(step);
    if (active) Object.assign(active, patch);
  }

  /** How many steps ended each way, and how many have not started. */
  counts(): Record<StepStatus, number> {
    const counts = { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
    for (const status of this.ended.values()) counts[status]++;
    counts.running = this.active.size;
    counts.pending = this.levels.flat().length - this.ended.size - this.active.size;
    return counts;
  }

  /** The level being worked (levels strategy): that of the first step not ended. */
  level(): number | undefined {
    const index = this.levels.findIndex((names) => names.some((name) => !this.ended.has(name)));
    return index < 0 ? undefined : index + 1;
  }

  /**
   * The steps that could start now but wait for a slot: their dependencies
   * ended well, and with the levels strategy they are of the level being
   * worked.
   */
  queued(): string[] {
    const level = this.level();
    const candidates = this.strategy === "levels"
      ? (level === undefined ? [] : this.levels[level - 1])
      : this.levels.flat();
    return candidates.filter((name) =>
      !this.active.has(name) && !this.ended.has(name) &&
      this.#dependsOn(name).every((dep) => this.#satisfied.has(dep))
    );
  }
}

/**
 * A step's name for the board: escaped as everywhere (a name cannot move
 * the cursor), tabs as spaces (a tab would jump past the columns), and at
 * most {@link NAME_COLUMNS} wide.
 */
export function boardLabel(name: string): string {
  return fit(escapeTerminal(name).replaceAll("\t", " "), NAME_COLUMNS);
}

/**
 * `text` cut to `columns` terminal columns, ending in "…" when cut; wide
 * characters count two and colour none. Cheap on long text: the cut
 * stops reading at the last column.
 */
export function fit(text: string, columns: number): string {
  if (columns <= 0) return "";
  // A short text is measured whole; a long one only as far as the cut.
  const head = text.length > columns * 4 ? sliceAnsi(text, 0, columns + 1) : text;
  if (head === text && stringWidth(text) <= columns) return text;
  return sliceAnsi(text, 0, columns - 1) + "…";
}

/** Pads `text` (escaped, maybe coloured) with spaces to `columns` terminal columns. */
function pad(text: string, columns: number): string {
  return text + " ".repeat(Math.max(0, columns - stringWidth(text)));
}

/** Elapsed time as the board shows it: `0.4s`, `12.3s`, `2m05s`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
}

const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
/** The longest language name ("javascript"), so the elapsed times line up. */
const LANGUAGE_COLUMNS = 10;

/** The terminal and the moment a frame is drawn for. */
export interface View {
  /** The board's clock, as given to {@link BoardState.apply}. */
  now: number;
  columns: number;
  rows: number;
  palette: Palette;
}

/**
 * One frame: a line per active step (running ones with their language,
 * waiting ones with the runtime they wait for, each with its time in that
 * state), a "+N more" line when they do not fit, the queued steps, and a
 * line of counts with the level being worked and the run's elapsed time.
 * Every line fits in `columns - 1` (no wrapping, whatever the names), and
 * the frame in about a third of `rows`. No lines before run_started.
 */
export function renderBoard(state: BoardState, view: View): string[] {
  if (state.started === undefined) return [];
  const { palette: p, now } = view;
  const width = Math.max(1, view.columns - 1);
  const room = Math.max(1, Math.min(MAX_STEP_LINES, Math.floor(view.rows / 3) - 1));
  const active = [...state.active.values()];
  const shown = active.length > room ? active.slice(0, room - 1) : active;
  const nameColumns = Math.max(0, ...shown.map((step) => stringWidth(step.label)));
  const spinner = SPINNER[Math.floor(now / 100) % SPINNER.length];
  const lines = shown.map((step) => {
    const elapsed = p.dim(formatElapsed(now - step.since));
    const name = pad(step.label, nameColumns);
    const attempt = step.attempt > 1 ? p.dim(`  attempt ${step.attempt}`) : "";
    switch (step.phase) {
      case "running":
        return `${p.cyan(spinner)} ${name}  ${
          pad(step.language, LANGUAGE_COLUMNS)
        }  ${elapsed}${attempt}`;
      case "waiting":
        return `${p.dim("…")} ${name}  ${p.yellow(`waiting for ${step.language}`)}  ${elapsed}`;
      case "retrying":
        return `${p.yellow("↻")} ${name}  ${
          p.yellow(`retrying after attempt ${step.attempt} of ${step.attempts}`)
        }  ${elapsed}`;
    }
  });
  const hidden = active.slice(shown.length);
  if (hidden.length) {
    const waiting = hidden.filter((step) => step.phase !== "running").length;
    lines.push(p.dim(
      `+${hidden.length} more` +
        (waiting ? ` (${hidden.length - waiting} running, ${waiting} waiting)` : " running"),
    ));
  }
  const queued = state.queued();
  if (queued.length) {
    lines.push(
      p.dim(`queued ${queued.length}: ${queued.map((name) => state.label(name)).join(", ")}`),
    );
  }
  lines.push(countsLine(state, now, p));
  return lines.map((line) => fit(line, width));
}

/** `3.2s · level 2 of 3 · 2 running, 1 waiting · 3 done, 1 failed, 0 skipped, 4 pending` */
function countsLine(state: BoardState, now: number, p: Palette): string {
  const counts = state.counts();
  const level = state.level();
  const waiting = [...state.active.values()].filter((step) => step.phase === "waiting").length;
  const where = state.strategy === "eager"
    ? "eager"
    : level === undefined
    ? `${state.levels.length} levels`
    : `level ${level} of ${state.levels.length}`;
  const some = (n: number, colour: (s: string) => string) => (n ? colour : p.dim);
  const comma = p.dim(", ");
  const running = [
    `${counts.running - waiting} running`,
    ...(waiting ? [p.yellow(`${waiting} waiting`)] : []),
  ];
  const ended = [
    some(counts.succeeded, p.green)(`${counts.succeeded} done`),
    some(counts.failed, p.red)(`${counts.failed} failed`),
    ...(counts.cancelled ? [p.yellow(`${counts.cancelled} cancelled`)] : []),
    some(counts.skipped, p.yellow)(`${counts.skipped} skipped`),
    `${counts.pending} pending`,
  ];
  // The elapsed time first: a narrow terminal cuts the end of the line.
  return [
    p.bold(formatElapsed(now - state.started!)),
    where,
    running.join(comma),
    ended.join(comma),
  ]
    .join(p.dim(" · "));
}

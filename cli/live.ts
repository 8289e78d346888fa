/**
 * The live view of `hwfe run` on a terminal: a board of the steps running
 * now, those waiting for a runtime, the counts and the elapsed time
 * (cli/live_board.ts), redrawn in place under the run's lines, which keep
 * scrolling above it. cli/run_command.ts loads this module only when the
 * view is wanted (`liveWanted` in cli/output.ts), so a piped run neither
 * loads log-update nor writes a byte differently.
 *
 * log-update redraws the board. Its default instance and `showCursor:
 * false` hide the cursor through cli-cursor, whose restore-cursor installs
 * signal-exit's SIGINT handler on the first frame; in Deno that handler,
 * finding no Node listener of its own, re-raises the signal, so hwfe's
 * handler saw one Ctrl-C twice and quit instead of cancelling (measured
 * with a script under `script`: one `kill -INT`, two calls of a
 * Deno.addSignalListener handler; one with `showCursor: true`). So the
 * view draws with `showCursor: true` and hides and shows the cursor
 * itself, also when hwfe exits at a second Ctrl-C (the unload event).
 *
 * @module
 */

import { createLogUpdate } from "../_util/npm/log_update.ts";
import { ansiEscapes } from "../_util/npm/ansi_escapes.ts";
import type { RunEvent } from "../engine/events.ts";
import { BoardState, renderBoard } from "./live_board.ts";
import { type Overlay, writeAll } from "./output.ts";
import type { Palette } from "./render.ts";
import { escapeTerminal } from "../_util/terminal_text.ts";

/** Where the view writes, and the size it fits: the real terminal, or a test's. */
export interface Terminal {
  write(stream: "stdout" | "stderr", text: string): void;
  size(): { columns: number; rows: number };
}

/** The terminal hwfe runs on. */
export const denoTerminal: Terminal = {
  write: (stream, text) => writeAll(stream === "stdout" ? Deno.stdout : Deno.stderr, text),
  size: () => {
    try {
      return Deno.consoleSize();
    } catch {
      return { columns: 80, rows: 24 };
    }
  },
};

/** Options of a {@link LiveView}. */
export interface LiveOptions {
  palette: Palette;
  /** A step's dependencies, for the queued steps (the workflow's `depends_on`). */
  dependsOn?: (step: string) => readonly string[];
  terminal?: Terminal;
  /** The clock, in milliseconds. */
  now?: () => number;
  /** Milliseconds between redraws, for the elapsed times; 0 for none (tests). */
  intervalMs?: number;
}

/** How often the board is redrawn for its clocks alone. */
const INTERVAL_MS = 100;

/**
 * The board at the bottom of the terminal. Events change it
 * ({@link onEvent}); lines printed meanwhile ({@link print}, which
 * cli/output.ts calls while the view is its overlay) go above it: the
 * board is erased, the lines written, the board drawn again, in one
 * write of synchronized output (the terminal shows no half-drawn frame).
 * Lines printed in one task share one redraw, so a step that prints a
 * thousand lines at once does not draw a thousand boards.
 */
export class LiveView implements Overlay {
  readonly #state: BoardState;
  readonly #terminal: Terminal;
  readonly #now: () => number;
  readonly #palette: Palette;
  readonly #intervalMs: number;
  readonly #update: ReturnType<typeof createLogUpdate>;
  /** What log-update wrote for the last call, not yet sent. */
  #drawn = "";
  #queue: { stream: "stdout" | "stderr"; text: string }[] = [];
  #scheduled = false;
  #timer?: ReturnType<typeof setInterval>;
  #phase = "idle" as "idle" | "live" | "stopped";
  /** At Deno.exit (a second Ctrl-C): the lines queued go out, the board stays, the cursor returns. */
  readonly #onUnload = () => {
    this.#flush();
    this.#terminal.write("stdout", ansiEscapes.cursorShow);
  };

  constructor(options: LiveOptions) {
    this.#state = new BoardState(options.dependsOn);
    this.#terminal = options.terminal ?? denoTerminal;
    this.#now = options.now ?? (() => performance.now());
    this.#palette = options.palette;
    this.#intervalMs = options.intervalMs ?? INTERVAL_MS;
    const terminal = this.#terminal;
    // What log-update writes is kept, to go out with the lines in one write.
    const stream = {
      write: (text: string) => {
        this.#drawn += text;
        return true;
      },
      get columns() {
        return terminal.size().columns;
      },
      get rows() {
        return terminal.size().rows;
      },
    };
    // It reads no more of a Node stream than these (log-update 8.0.0's index.js).
    this.#update = createLogUpdate(stream as unknown as NodeJS.WritableStream, {
      showCursor: true,
    });
  }

  /** Takes in one event of the run; the board is redrawn once the current task ends. */
  onEvent(event: RunEvent): void {
    if (this.#phase === "stopped") return;
    this.#state.apply(event, this.#now());
    if (event.type === "run_started") this.#start();
    this.#schedule();
  }

  /** Writes `text` (whole lines, escaped) to `stream`, above the board. */
  print(stream: "stdout" | "stderr", text: string): void {
    if (this.#phase !== "live") return this.#terminal.write(stream, text);
    this.#queue.push({ stream, text });
    this.#schedule();
  }

  /**
   * Writes what is queued, erases the board and shows the cursor: the
   * terminal is as if the view had never been, but for the lines above it.
   * Lines printed afterwards go straight out. Safe to call twice.
   */
  stop(): void {
    if (this.#phase === "stopped") return;
    this.#flush();
    const live = this.#phase === "live";
    this.#phase = "stopped";
    clearInterval(this.#timer);
    if (!live) return;
    globalThis.removeEventListener("unload", this.#onUnload);
    this.#update.clear();
    this.#terminal.write("stdout", this.#take() + ansiEscapes.cursorShow);
  }

  #start(): void {
    if (this.#phase !== "idle") return;
    this.#phase = "live";
    this.#terminal.write("stdout", ansiEscapes.cursorHide);
    // A second Ctrl-C ends hwfe with Deno.exit: the cursor comes back all the same.
    globalThis.addEventListener("unload", this.#onUnload);
    if (this.#intervalMs > 0) {
      const timer = setInterval(() => this.#flush(), this.#intervalMs);
      Deno.unrefTimer(timer); // never what keeps hwfe running
      this.#timer = timer;
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #take(): string {
    const drawn = this.#drawn;
    this.#drawn = "";
    return drawn;
  }

  /**
   * Erases the board if lines are queued, writes them, and draws the board
   * as it is now. A view that fails gives the terminal back to plain lines
   * with a warning: a drawing bug must not end a run.
   */
  #flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    if (this.#phase !== "live") return;
    try {
      this.#draw(queue);
    } catch (error) {
      this.#phase = "stopped";
      clearInterval(this.#timer);
      globalThis.removeEventListener("unload", this.#onUnload);
      this.#terminal.write("stdout", ansiEscapes.cursorShow);
      for (const { stream, text } of queue) this.#terminal.write(stream, text);
      this.#terminal.write(
        "stderr",
        `warning: the live view failed, lines go on without it: ${escapeTerminal(String(error))}\n`,
      );
    }
  }

  #draw(queue: { stream: "stdout" | "stderr"; text: string }[]): void {
    let stdout = ansiEscapes.beginSynchronizedOutput;
    if (queue.length) this.#update.clear();
    stdout += this.#take();
    for (const { stream, text } of queue) {
      if (stream === "stdout") {
        stdout += text;
      } else {
        // stdout and stderr are one terminal, most often: in order, around the board.
        this.#terminal.write("stdout", stdout);
        this.#terminal.write("stderr", text);
        stdout = "";
      }
    }
    const size = this.#terminal.size();
    const lines = renderBoard(this.#state, { ...size, now: this.#now(), palette: this.#palette });
    if (lines.length) this.#update(lines.join("\n"));
    stdout += this.#take();
    if (stdout === ansiEscapes.beginSynchronizedOutput) return; // nothing changed
    this.#terminal.write("stdout", stdout + ansiEscapes.endSynchronizedOutput);
  }
}

import assert from "node:assert/strict";
import {
  BoardState,
  fit,
  formatElapsed,
  NAME_COLUMNS,
  renderBoard,
  type View,
} from "./live_board.ts";
import { LiveView, type Terminal } from "./live.ts";
import { palette } from "./render.ts";
import type { RunEvent, StepReport } from "../engine/events.ts";
import type { Language } from "../workflow/model.ts";
import { stringWidth } from "../_util/npm/string_width.ts";

const plain = await palette(false);
const view = (now: number, columns = 100, rows = 30): View => ({
  now,
  columns,
  rows,
  palette: plain,
});

const started = (levels: string[][], strategy: "levels" | "eager" = "levels"): RunEvent => ({
  type: "run_started",
  workflow: "w",
  mode: "parallel",
  strategy,
  maxParallel: 4,
  levels,
});
const stepStarted = (step: string, language: Language = "shell", level = 1): RunEvent => ({
  type: "step_started",
  step,
  language,
  level,
  atMs: 0,
});
const running = (step: string, attempt = 1): RunEvent => ({
  type: "step_running",
  step,
  attempt,
  atMs: 0,
});
const finished = (name: string, status: StepReport["status"], extra = {}): RunEvent => ({
  type: "step_finished",
  report: { name, language: "shell", level: 1, status, ...extra },
});

/** A board fed `events`, each as [clock, event]. */
function board(
  events: [number, RunEvent][],
  dependsOn?: Record<string, string[]>,
): BoardState {
  const state = new BoardState((step) => dependsOn?.[step] ?? []);
  for (const [now, event] of events) state.apply(event, now);
  return state;
}

Deno.test("renderBoard() draws nothing before the run starts", () => {
  assert.deepEqual(renderBoard(new BoardState(), view(0)), []);
});

Deno.test("renderBoard() shows running steps with language and time, waiting ones, counts, level and elapsed time", () => {
  const state = board([
    [1000, started([["build", "fetch", "train"], ["test"]])],
    [1000, stepStarted("build")],
    [1010, running("build")],
    [1200, stepStarted("train", "python")],
    [1500, stepStarted("fetch", "javascript")],
    [1600, running("fetch")],
  ]);
  assert.deepEqual(renderBoard(state, view(3450)), [
    "⠼ build  shell       2.4s",
    "… train  waiting for python  2.3s",
    "⠼ fetch  javascript  1.9s",
    "2.5s · level 1 of 2 · 2 running, 1 waiting · 0 done, 0 failed, 0 skipped, 1 pending",
  ]);
  // Later, by the same clock: the times move on, the spinner turns.
  state.apply(running("train"), 3500);
  state.apply(finished("build", "succeeded"), 3600);
  assert.deepEqual(renderBoard(state, view(4000)), [
    "⠋ train  python      0.5s",
    "⠋ fetch  javascript  2.4s",
    "3.0s · level 1 of 2 · 2 running · 1 done, 0 failed, 0 skipped, 1 pending",
  ]);
});

Deno.test("renderBoard() shows the steps queued for a slot: the level's (levels) or the ready ones (eager)", () => {
  const levels = [["a", "b", "c"], ["d", "e"]];
  const dependsOn = { d: ["a"], e: ["b"] };
  const events: [number, RunEvent][] = [
    [0, started(levels)],
    [0, stepStarted("a")],
    [0, running("a")],
    [10, finished("a", "succeeded")],
    [10, stepStarted("b")],
    [10, running("b")],
  ];
  // Levels: d is ready, but level 1 is not done; c waits for a slot.
  assert.equal(renderBoard(board(events, dependsOn), view(100))[1], "queued 1: c");
  // Eager: d's dependency ended, so it may start as soon as a slot frees.
  events[0] = [0, started(levels, "eager")];
  assert.deepEqual(renderBoard(board(events, dependsOn), view(100)).slice(1), [
    "queued 2: c, d",
    "0.1s · eager · 1 running · 1 done, 0 failed, 0 skipped, 3 pending",
  ]);
  // A failed dependency queues nothing; a continued failure does.
  const failed = board([...events, [20, finished("b", "failed")]], dependsOn);
  assert.equal(renderBoard(failed, view(100))[0], "queued 2: c, d");
  const continued = board([...events, [20, finished("b", "failed", { continued: true })]], {
    ...dependsOn,
  });
  assert.equal(renderBoard(continued, view(100))[0], "queued 3: c, d, e");
});

Deno.test("renderBoard() counts every ending and shows a step waiting to retry", () => {
  const state = board([
    [0, started([["a", "b", "c", "d", "e"]])],
    [0, finished("a", "succeeded")],
    [0, finished("b", "failed")],
    [0, finished("c", "skipped")],
    [0, finished("d", "cancelled")],
    [0, stepStarted("e")],
    [0, running("e")],
    [100, { type: "step_retrying", step: "e", attempt: 1, attempts: 3, error: "x", delayMs: 500 }],
  ]);
  assert.deepEqual(renderBoard(state, view(400)), [
    "↻ e  retrying after attempt 1 of 3  0.3s",
    "0.4s · level 1 of 1 · 1 running · 1 done, 1 failed, 1 cancelled, 1 skipped, 0 pending",
  ]);
  state.apply(running("e", 2), 600);
  assert.equal(renderBoard(state, view(700))[0], "⠧ e  shell       0.1s  attempt 2");
});

Deno.test("renderBoard() fits a third of the terminal's height, the rest as '+N more'", () => {
  const names = Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, "0")}`);
  const events: [number, RunEvent][] = [[0, started([names])]];
  for (const name of names) events.push([0, stepStarted(name)], [0, running(name)]);
  events.push([0, stepStarted("s19-late", "python")]);
  const lines = renderBoard(board(events), view(1000, 100, 30));
  assert.equal(lines.length, 10);
  assert.deepEqual(lines.slice(7, 9), [
    "⠋ s07  shell       1.0s",
    "+13 more (12 running, 1 waiting)",
  ]);
  // However small the terminal, the steps get a line.
  assert.equal(renderBoard(board(events), view(1000, 100, 2)).length, 2);
});

Deno.test("renderBoard() keeps hostile and huge names escaped and every line within the width", () => {
  const names = [
    "x".repeat(10_000),
    "界".repeat(10_000),
    "👩‍👩‍👧".repeat(500),
    "e\u0301".repeat(5000),
    "evil\x1b[2J\x1b]0;title\x07\r\u202e\tname",
  ];
  const events: [number, RunEvent][] = [[0, started([names])]];
  for (const name of names) events.push([0, stepStarted(name)], [0, running(name)]);
  for (const columns of [100, 40, 7]) {
    const lines = renderBoard(board(events), view(500, columns));
    assert.equal(lines.length, names.length + 1);
    for (const line of lines) {
      assert.ok(stringWidth(line) <= columns - 1, `${stringWidth(line)} columns: ${line}`);
      // deno-lint-ignore no-control-regex -- finding control characters is the point
      assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u202e]/);
    }
    if (columns === 100) {
      assert.equal(lines[0], `⠴ ${"x".repeat(NAME_COLUMNS - 1)}…  shell       0.5s`);
      assert.equal(lines[1], `⠴ ${"界".repeat(15)}… ${" ".repeat(1)} shell       0.5s`);
      assert.match(lines[4], /^⠴ evil\\x1b\[2J\\x1b\]0;title\\x07\\x0d… +shell {7}0\.5s$/);
    }
  }
});

Deno.test("fit() cuts by terminal columns, keeping colour, and leaves what fits alone", async () => {
  const coloured = await palette(true);
  assert.equal(fit("short", 10), "short");
  assert.equal(fit("exactly 10", 10), "exactly 10");
  assert.equal(fit("one too long", 11), "one too lo…");
  assert.equal(fit("界界界", 5), "界界…");
  assert.equal(stringWidth(fit(coloured.green("x".repeat(50)), 10)), 10);
  assert.ok(fit(coloured.green("x".repeat(50)), 10).endsWith("\x1b[39m…"));
  assert.equal(fit("anything", 0), "");
});

Deno.test("formatElapsed() shows tenths below a minute, minutes and seconds above", () => {
  assert.equal(formatElapsed(0), "0.0s");
  assert.equal(formatElapsed(1234), "1.2s");
  assert.equal(formatElapsed(59_940), "59.9s");
  assert.equal(formatElapsed(125_000), "2m05s");
  assert.equal(formatElapsed(-5), "0.0s");
});

/**
 * A terminal for tests: it records every write and keeps a screen, acting
 * on the sequences log-update and the view send (erase line, cursor up,
 * down and to column 1, erase to the end of the line); colour and modes
 * are ignored. One character is one cell.
 */
class FakeTerminal implements Terminal {
  writes: { stream: "stdout" | "stderr"; text: string }[] = [];
  screen: string[] = [""];
  row = 0;
  col = 0;
  constructor(readonly columns = 80, readonly rows = 24) {}
  size() {
    return { columns: this.columns, rows: this.rows };
  }
  write(stream: "stdout" | "stderr", text: string): void {
    this.writes.push({ stream, text });
    // deno-lint-ignore no-control-regex -- reading escape sequences is the point
    for (const [token] of text.matchAll(/\x1b\[[?\d;]*[A-Za-z]|[^]/gu)) this.#act(token);
  }
  #act(token: string): void {
    const line = () => (this.screen[this.row] ??= "");
    const n = Number(token.slice(2, -1) || "1");
    if (token === "\n") {
      this.row++;
      this.col = 0;
      line();
    } else if (token === "\x1b[2K") this.screen[this.row] = "";
    else if (token === "\x1b[K") this.screen[this.row] = line().slice(0, this.col);
    else if (token.endsWith("A") && token.startsWith("\x1b[")) this.row = Math.max(0, this.row - n);
    else if (token.endsWith("B") && token.startsWith("\x1b[")) this.row += n;
    else if (token === "\x1b[G") this.col = 0;
    else if (token.startsWith("\x1b[")) return; // colour, cursor shown or hidden, synchronized output
    else {
      const text = line().padEnd(this.col);
      this.screen[this.row] = text.slice(0, this.col) + token + text.slice(this.col + 1);
      this.col++;
    }
  }
  /** The screen's lines, without the empty ones at the end. */
  shown(): string[] {
    const lines = this.screen.map((line) => line.trimEnd());
    while (lines.length && lines.at(-1) === "") lines.pop();
    return lines;
  }
}

/** Lets the microtasks run that draw the view. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function liveView(terminal: FakeTerminal, clock: { now: number }) {
  return new LiveView({ palette: plain, terminal, now: () => clock.now, intervalMs: 0 });
}

Deno.test("LiveView draws the board in place and keeps printed lines above it", async () => {
  const terminal = new FakeTerminal(100);
  const clock = { now: 0 };
  const live = liveView(terminal, clock);
  live.onEvent(started([["a", "b"]]));
  live.onEvent(stepStarted("a"));
  live.onEvent(running("a"));
  await settle();
  assert.equal(terminal.writes[0].text, "\x1b[?25l", "the cursor is hidden first");
  assert.deepEqual(terminal.shown(), [
    "⠋ a  shell       0.0s",
    "queued 1: b",
    "0.0s · level 1 of 1 · 1 running · 0 done, 0 failed, 0 skipped, 1 pending",
  ]);
  clock.now = 1500;
  live.print("stdout", "[a] one\n");
  live.print("stdout", "[a] two\n");
  live.print("stderr", "warning: on stderr\n");
  live.print("stdout", "[a] three\n");
  const before = terminal.writes.length;
  await settle();
  assert.deepEqual(terminal.shown(), [
    "[a] one",
    "[a] two",
    "warning: on stderr",
    "[a] three",
    "⠴ a  shell       1.5s",
    "queued 1: b",
    "1.5s · level 1 of 1 · 1 running · 0 done, 0 failed, 0 skipped, 1 pending",
  ]);
  // Four lines, one board: the erase and the lines before stderr, the line, the rest and the board.
  assert.deepEqual(terminal.writes.slice(before).map((write) => write.stream), [
    "stdout",
    "stderr",
    "stdout",
  ]);
  assert.ok(terminal.writes.at(-1)!.text.endsWith("\x1b[?2026l"), "synchronized output");
  live.onEvent(finished("a", "succeeded"));
  live.onEvent(stepStarted("b", "python"));
  clock.now = 2000;
  await settle();
  assert.deepEqual(terminal.shown().slice(4), [
    "… b  waiting for python  0.5s",
    "2.0s · level 1 of 1 · 0 running, 1 waiting · 1 done, 0 failed, 0 skipped, 0 pending",
  ]);
  live.stop();
  assert.deepEqual(terminal.shown(), ["[a] one", "[a] two", "warning: on stderr", "[a] three"]);
  assert.ok(terminal.writes.at(-1)!.text.endsWith("\x1b[?25h"), "the cursor is shown again");
  assert.equal(terminal.row, 4, "the cursor is where the board began");
  // After the view, lines go straight out, and stopping again changes nothing.
  live.print("stdout", "Summary\n");
  live.stop();
  assert.deepEqual(terminal.writes.at(-1), { stream: "stdout", text: "Summary\n" });
});

Deno.test("LiveView writes nothing when the frame has not changed", async () => {
  const terminal = new FakeTerminal();
  const clock = { now: 0 };
  const live = liveView(terminal, clock);
  live.onEvent(started([["a"]]));
  live.onEvent(stepStarted("a"));
  live.onEvent(running("a"));
  await settle();
  const before = terminal.writes.length;
  live.onEvent({ type: "warning", message: "shown by the command, not the board" });
  await settle();
  assert.equal(terminal.writes.length, before, "an unchanged frame writes nothing");
  clock.now = 200;
  live.onEvent({ type: "warning", message: "again" });
  await settle();
  assert.equal(terminal.writes.length, before + 1, "a new frame is one write");
  live.stop();
});

Deno.test("LiveView that never started writes nothing of its own, and lines go straight out", async () => {
  const terminal = new FakeTerminal();
  const live = liveView(terminal, { now: 0 });
  live.print("stderr", "Error: refused\n");
  await settle();
  live.stop();
  assert.deepEqual(terminal.writes, [{ stream: "stderr", text: "Error: refused\n" }]);
});

Deno.test("LiveView's board never wraps on a narrow terminal", async () => {
  const terminal = new FakeTerminal(30, 24);
  const live = liveView(terminal, { now: 0 });
  live.onEvent(started([["a-step-with-a-rather-long-name"]]));
  live.onEvent(stepStarted("a-step-with-a-rather-long-name", "javascript"));
  await settle();
  assert.deepEqual(terminal.shown(), [
    "… a-step-with-a-rather-long-…",
    "0.0s · level 1 of 1 · 0 runn…",
  ]);
  live.stop();
  assert.deepEqual(terminal.shown(), []);
});

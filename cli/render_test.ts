import assert from "node:assert/strict";
import { palette, renderEvent, renderRecap, renderSummary } from "./render.ts";
import { escapeMessage, escapeTerminal } from "../_util/terminal_text.ts";
import { resultToJson } from "../api/result_json.ts";
import type { RunResult } from "../engine/events.ts";

const plain = await palette(false);

Deno.test("renderEvent() explains a cold runtime start and stays quiet about a warm one", () => {
  assert.equal(
    renderEvent({ type: "runtime_started", runtime: "python", from: "cold", ms: 1920 }, plain),
    "· python started cold in 1.92s",
  );
  assert.equal(
    renderEvent(
      { type: "runtime_started", runtime: "python", from: "cold", ms: 80, note: "why" },
      plain,
    ),
    "· python started cold in 80ms (why)",
  );
  assert.equal(
    renderEvent({ type: "runtime_started", runtime: "python", from: "snapshot", ms: 250 }, plain),
    undefined,
  );
});

Deno.test("renderEvent() announces a runtime's first start from scratch before the wait", () => {
  assert.equal(
    renderEvent({ type: "runtime_starting", runtime: "python" }, plain),
    "· starting python from scratch, which takes a few seconds the first time on this machine; " +
      "later runs restore a saved snapshot, several times faster",
  );
});

Deno.test("renderEvent() prefixes step output with the step name", () => {
  assert.equal(
    renderEvent({ type: "step_output", step: "a", stream: "stdout", line: "hi" }, plain),
    "[a] hi",
  );
});

Deno.test("renderRecap() names each failed step once, with the first lines of its error", () => {
  const step = { language: "python" as const, level: 1 };
  const recap = renderRecap({
    workflow: "w",
    mode: "sequential",
    strategy: "levels",
    maxParallel: 1,
    status: "failed",
    durationMs: 10,
    levels: [["a", "b", "c"]],
    steps: [
      { ...step, name: "a", status: "failed", error: "step 'a' timed out after 5s" },
      { ...step, name: "b", status: "succeeded", result: "1" },
      { ...step, name: "c", status: "failed", error: "step 'c' (python): ValueError\n  at 1" },
    ],
  }, plain);
  assert.equal(
    recap,
    "*** step 'a' failed: timed out after 5s\n*** step 'c' failed: ValueError\n      at 1",
  );
});

Deno.test("escapeTerminal() shows every character a terminal acts on escaped, and keeps tab", () => {
  const cases: [string, string][] = [
    ["plain ✓ Zoë 名前 \\x1b stays", "plain ✓ Zoë 名前 \\x1b stays"],
    ["\x1b]0;PWNED\x07", "\\x1b]0;PWNED\\x07"], // the terminal title
    ["\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"], // the clipboard
    ["\x1b[1A\x1b[2K\r✓ fake succeeded", "\\x1b[1A\\x1b[2K\\x0d✓ fake succeeded"],
    ["\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"], // colour too, unless asked for
    ["lone \x1b at the end \x1b", "lone \\x1b at the end \\x1b"],
    ["\x00\x08\x0b\x0c\x1f\x7f", "\\x00\\x08\\x0b\\x0c\\x1f\\x7f"],
    ["a\tb\nc", "a\tb\\x0ac"],
    ["\x9b31m C1 \x85 \x9d", "\\x9b31m C1 \\x85 \\x9d"],
    ["line\u2028para\u2029", "line\\u2028para\\u2029"],
    [
      "bidi \u202a\u202b\u202c\u202d\u202e \u2066\u2067\u2068\u2069",
      "bidi \\u202a\\u202b\\u202c\\u202d\\u202e \\u2066\\u2067\\u2068\\u2069",
    ],
    ["marks stay: \u200e\u200f", "marks stay: \u200e\u200f"],
  ];
  for (const [text, shown] of cases) {
    assert.equal(escapeTerminal(text), shown, JSON.stringify(text));
  }
  assert.equal(escapeTerminal("a\nb\r\n", { newlines: true }), "a\nb\\x0d\n");
});

Deno.test("escapeTerminal() keeps colour and style only when asked, never conceal or other sequences", () => {
  const colour = (text: string) => escapeTerminal(text, { colour: true });
  for (
    const kept of [
      "\x1b[31mred\x1b[0m",
      "\x1b[1;4;32mbold\x1b[m",
      "\x1b[38;5;8mgrey 256\x1b[39m",
      "\x1b[38;2;8;8;8mgrey rgb\x1b[39m",
      "\x1b[48:5:8mcolon form\x1b[49m",
    ]
  ) {
    assert.equal(colour(kept), kept);
  }
  assert.equal(colour("\x1b[8mhidden\x1b[0m"), "\\x1b[8mhidden\x1b[0m");
  assert.equal(colour("\x1b[1;8mhidden"), "\\x1b[1;8mhidden");
  assert.equal(colour("\x1b[38;5;1;8mhidden"), "\\x1b[38;5;1;8mhidden");
  assert.equal(colour("\x1b[2K\x1b[1A\x1b[?25l"), "\\x1b[2K\\x1b[1A\\x1b[?25l");
  assert.equal(colour("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  assert.equal(colour(`\x1b[${"1;".repeat(40)}m`), `\\x1b[${"1;".repeat(40)}m`);
});

Deno.test("escapeMessage() escapes a message and indents its later lines", () => {
  assert.equal(
    escapeMessage("boom\n✓ deploy succeeded\n  at x\x1b[2K"),
    "boom\n    ✓ deploy succeeded\n      at x\\x1b[2K",
  );
});

Deno.test("renderEvent() escapes step names and output; keeps the output's colour on a colour terminal, reset after", async () => {
  const output = { type: "step_output", step: "a\x1b[2K", stream: "stdout" } as const;
  const line = "\x1b[32mgreen\x1b[1A\r\u202eevil";
  assert.equal(
    renderEvent({ ...output, line }, plain),
    "[a\\x1b[2K] \\x1b[32mgreen\\x1b[1A\\x0d\\u202eevil",
  );
  const coloured = await palette(true);
  assert.equal(
    renderEvent({ ...output, line }, coloured),
    `${coloured.step("a\x1b[2K")("[a\\x1b[2K]")} \x1b[32mgreen\\x1b[1A\\x0d\\u202eevil\x1b[0m`,
  );
  assert.equal(
    renderEvent({ ...output, line: "plain" }, coloured),
    `${coloured.step("a\x1b[2K")("[a\\x1b[2K]")} plain`,
  );
  assert.equal(
    renderEvent({
      type: "step_retrying",
      step: "r",
      attempt: 1,
      attempts: 2,
      delayMs: 5,
      error: "no\x07\n✓ r succeeded",
    }, plain),
    "↻ r failed (attempt 1 of 2), retrying in 5ms: no\\x07\n    ✓ r succeeded",
  );
});

const failedRun: RunResult = {
  workflow: "w\x1b]0;t\x07",
  mode: "sequential",
  strategy: "levels",
  maxParallel: 1,
  status: "failed",
  durationMs: 10,
  levels: [["a\x1b[1A"]],
  steps: [{
    name: "a\x1b[1A",
    language: "lua",
    level: 1,
    status: "failed",
    durationMs: 3,
    error: "step 'a\x1b[1A' (lua): bad\x1b[2K\n✓ b succeeded",
  }],
};

Deno.test("renderEvent(), renderSummary() and renderRecap() escape names and errors; later lines indented", () => {
  assert.equal(
    renderEvent({ type: "step_finished", report: failedRun.steps[0] }, plain),
    "✗ a\\x1b[1A failed in 3ms: step 'a\\x1b[1A' (lua): bad\\x1b[2K\n    ✓ b succeeded",
  );
  const summary = renderSummary(failedRun, plain);
  assert.match(summary, /^ {2}a\\x1b\[1A {2}lua /m);
  assert.match(summary, /^Workflow 'w\\x1b\]0;t\\x07' failed in 10ms/m);
  assert.equal(
    renderRecap(failedRun, plain),
    "*** step 'a\\x1b[1A' failed: bad\\x1b[2K\n    ✓ b succeeded",
  );
});

Deno.test("resultToJson() writes C1 and bidi controls as \\u escapes, the same JSON value", () => {
  const value = "\x1b[31m\x7f\x9b\x85\u2028\u202e\u2066 ✓";
  const json = resultToJson({
    ...failedRun,
    status: "succeeded",
    steps: [{
      ...failedRun.steps[0],
      status: "succeeded",
      error: undefined,
      result: JSON.stringify(value),
    }],
  });
  assert.equal(escapeTerminal(json, { newlines: true }), json, "nothing left to escape");
  assert.match(json, /"\\u001b\[31m\\u007f\\u009b\\u0085\\u2028\\u202e\\u2066 ✓"/);
  assert.equal(JSON.parse(json).steps["a\x1b[1A"].result, value);
});

Deno.test("a step's wait for its runtime shows in its line, in a WAITED column and in --json", () => {
  const run: RunResult = {
    workflow: "w",
    mode: "parallel",
    strategy: "levels",
    maxParallel: 2,
    status: "succeeded",
    durationMs: 2000,
    levels: [["py", "sh"]],
    steps: [
      {
        name: "py",
        language: "python",
        level: 1,
        status: "succeeded",
        startMs: 0,
        waitedMs: 1200,
        durationMs: 400,
        result: "1",
      },
      {
        name: "sh",
        language: "shell",
        level: 1,
        status: "succeeded",
        startMs: 0,
        waitedMs: 0,
        durationMs: 50,
        result: "2",
      },
    ],
  };
  assert.equal(
    renderEvent({ type: "step_finished", report: run.steps[0] }, plain),
    "✓ py succeeded in 400ms (waited 1.20s for python)",
  );
  assert.equal(
    renderEvent({ type: "step_finished", report: run.steps[1] }, plain),
    "✓ sh succeeded in 50ms",
  );
  const summary = renderSummary(run, plain);
  assert.match(
    summary,
    /^ {2}STEP {2}LANGUAGE {2}LEVEL {2}STATUS {5}DURATION {2}WAITED {2}RESULT$/m,
  );
  const table = summary.split("\n");
  assert.ok(table.includes("  py    python    1      succeeded  400ms     1.20s   1"), summary);
  assert.ok(table.includes("  sh    shell     1      succeeded  50ms      -       2"), summary);
  const json = JSON.parse(resultToJson(run));
  assert.equal(json.steps.py.waited, 1.2);
  assert.equal(json.steps.py.duration, 0.4);
  // Without waits worth showing, the summary has no WAITED column.
  const quick = { ...run, steps: [run.steps[1]] };
  assert.doesNotMatch(renderSummary(quick, plain), /WAITED/);
});

Deno.test("palette() colours as the hand-written codes did, and not at all when off", async () => {
  const coloured = await palette(true);
  assert.equal(coloured.green("ok"), "\x1b[32mok\x1b[39m");
  assert.equal(coloured.red("no"), "\x1b[31mno\x1b[39m");
  assert.equal(coloured.yellow("hm"), "\x1b[33mhm\x1b[39m");
  assert.equal(coloured.dim("d"), "\x1b[2md\x1b[22m");
  assert.equal(coloured.bold("b"), "\x1b[1mb\x1b[22m");
  for (const colour of ["green", "red", "yellow", "cyan", "dim", "bold"] as const) {
    assert.equal(plain[colour]("text"), "text");
  }
  assert.equal(plain.step("build")("[build]"), "[build]");
});

Deno.test("palette().step() gives each step a colour of its own, the same in every run", async () => {
  const coloured = await palette(true);
  const names = ["build", "test", "lint", "deploy", "fetch", "train", "report", "a", "b", "c"];
  const colourOf = (name: string) => coloured.step(name)("x").split("x")[0];
  for (const name of names) {
    assert.equal(colourOf(name), colourOf(name));
    const codes = ["34", "35", "36", "94", "95", "96"].map((code) => `\x1b[${code}m`);
    assert.ok(codes.includes(colourOf(name)), `${name}: blue, magenta or cyan`);
  }
  // Ten names spread over several colours, not one.
  assert.ok(new Set(names.map(colourOf)).size >= 4, "step colours are spread");
});

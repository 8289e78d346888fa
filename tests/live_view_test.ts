/**
 * The live view end to end (issue 18): on a terminal, tmux's, the board
 * redraws in place while steps of different lengths run, and is gone when
 * the run ends; into a pipe, the output is the lines it always was, byte
 * for byte, with no cursor movement, even with FORCE_COLOR.
 *
 * The steps of the terminal test wait for files the test writes, so that
 * what the board shows at each capture is decided by the test, not by
 * timing; the test polls the screen (bounded, against a deadline).
 */

import assert from "node:assert/strict";
import { CLI, hwfe, PERMISSIONS, ROOT, SUITE_CACHE, writeWorkflow } from "./_helpers.ts";
import { v8FlagsArg } from "../_util/v8_flags.ts";
import { shellQuote } from "../_util/quote.ts";
import { palette } from "../cli/render.ts";

/** What moves the cursor or erases: CSI with a cursor or erase final byte, or a private mode. */
// deno-lint-ignore no-control-regex -- finding escape sequences is the point
const CURSOR_OR_ERASE = /\x1b\[[0-9;]*[ABCDEFGHJKST]|\x1b\[\?/;
/** Colour and style. */
// deno-lint-ignore no-control-regex -- finding escape sequences is the point
const SGR = /\x1b\[[0-9;]*m/g;

async function installed(program: string): Promise<boolean> {
  try {
    return (await new Deno.Command(program, { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** Durations as `<t>`, the one thing that changes from run to run. */
const timeless = (text: string) => text.replace(/\b\d+(\.\d+)?m?s\b */g, "<t> ");

Deno.test("a piped run prints the same lines as ever: no board, no cursor movement", async () => {
  const file = await writeWorkflow("pinned", {
    a: { language: "shell", code: `echo hi; echo "two  words"` },
    b: { language: "shell", depends_on: ["a"], code: `printf 'world\\n'` },
  });
  // Neither NO_COLOR nor CI: a pipe alone keeps the run line-based and plain.
  const result = await hwfe(["run", "--allow-run", file], { env: { NO_COLOR: "", CI: "" } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "Execution mode: sequential\n");
  assert.equal(
    timeless(result.stdout),
    [
      "▶ a started (shell, level 1)",
      "[a] hi",
      "[a] two  words",
      "✓ a succeeded in <t> ",
      "▶ b started (shell, level 2)",
      "[b] world",
      "✓ b succeeded in <t> ",
      "",
      "Summary",
      "  STEP  LANGUAGE  LEVEL  STATUS     DURATION  RESULT",
      `  a     shell     1      succeeded  <t> {"stdout":"hi\\ntwo  words","stderr":"","exit_code":0}`,
      `  b     shell     2      succeeded  <t> {"stdout":"world","stderr":"","exit_code":0}`,
      "",
      "Workflow 'pinned' succeeded in <t> (sequential)",
      "",
    ].join("\n"),
  );
  assert.ok(!result.stdout.includes("\x1b"), "no escape sequence at all");

  // FORCE_COLOR colours the pipe, each step's prefix in its own colour, and brings no board.
  const forced = await hwfe(["run", "--allow-run", file], { env: { FORCE_COLOR: "1" } });
  assert.equal(forced.code, 0, forced.stderr);
  const colours = await palette(true);
  assert.ok(forced.stdout.includes(`${colours.step("a")("[a]")} hi\n`), forced.stdout);
  assert.ok(forced.stdout.includes(`${colours.step("b")("[b]")} world\n`), forced.stdout);
  assert.ok(forced.stdout.includes(`${colours.green("✓")} a `), forced.stdout);
  assert.doesNotMatch(forced.stdout + forced.stderr, CURSOR_OR_ERASE);
  assert.equal(timeless(forced.stdout.replace(SGR, "")), timeless(result.stdout));
});

/**
 * A tmux server of the test's own, 100x30, running one shell command once
 * told to; its socket is in the test's folder, removed with it.
 */
class Tmux {
  constructor(readonly dir: string) {}

  async tmux(...args: string[]): Promise<string> {
    const output = await new Deno.Command("tmux", {
      args: ["-S", `${this.dir}/tmux.socket`, "-f", "/dev/null", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    assert.ok(output.success, `tmux ${args[0]}: ${new TextDecoder().decode(output.stderr)}`);
    return text;
  }

  /**
   * Starts `command` in a new session once the pane's raw output is being
   * recorded (tmux pipe-pane), and keeps the pane after it ends.
   */
  async start(command: string): Promise<void> {
    const go = `${this.dir}/go`;
    const wait = `i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`;
    await this.tmux(
      "new-session",
      "-d",
      "-x",
      "100",
      "-y",
      "30",
      "-s",
      "live",
      `${wait}; ${command}; echo "hwfe exited $?"`,
    );
    await this.tmux("set-option", "-t", "live", "remain-on-exit", "on");
    await this.tmux("pipe-pane", "-t", "live", "-o", `cat >> ${this.dir}/raw`);
    await Deno.writeTextFile(go, "");
  }

  /** The screen's text, without trailing blank lines. */
  async screen(): Promise<string> {
    return (await this.tmux("capture-pane", "-p", "-t", "live")).trimEnd();
  }

  /** The screen once `ready` holds; fails with the last screen at the deadline. */
  async waitFor(what: string, ready: (screen: string) => boolean, ms = 60_000): Promise<string> {
    const deadline = Date.now() + ms;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (ready(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}; the screen:\n${screen}`);
  }

  async raw(): Promise<string> {
    return await Deno.readTextFile(`${this.dir}/raw`).catch(() => "");
  }

  async stop(): Promise<void> {
    await this.tmux("kill-server").catch(() => {});
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** The command line the suite runs hwfe with (tests/_helpers.ts), for a shell in tmux. */
function hwfeCommand(args: string[], env: Record<string, string>): string {
  const argv = [
    "env",
    "-u",
    "CI",
    "-u",
    "NO_COLOR",
    "-u",
    "FORCE_COLOR",
    `HWFE_CACHE_DIR=${SUITE_CACHE}`,
    ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
    Deno.execPath(),
    "run",
    "--quiet",
    "--unstable-worker-options",
    v8FlagsArg(),
    ...PERMISSIONS,
    CLI,
    ...args,
  ];
  return `cd ${shellQuote(ROOT.pathname)} && ${argv.map(shellQuote).join(" ")}`;
}

/** A shell step that prints, waits (bounded) for `file`, and prints again. */
const waitsFor = (name: string, file: string) =>
  `echo ${name} started; i=0; while [ ! -e ${file} ] && [ $i -lt 1200 ]; do sleep 0.05; ` +
  `i=$((i+1)); done; echo ${name} done`;

/** The last line of a board, whatever the level: its elapsed time and counts. */
const BOARD_COUNTS = /^\d+\.\ds · .* running.* · \d+ done, /gm;
const stepLine = (name: string) => new RegExp(`^\\S ${name} +shell +(\\d+\\.\\d)s$`, "m");

Deno.test({
  name: "on a terminal the board redraws in place while steps run, and is gone at the end",
  ignore: !(await installed("tmux")),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hwfe-live-" });
    const file = await writeWorkflow("live", {
      quick: { language: "shell", code: waitsFor("quick", `${dir}/quick.go`) },
      slow: { language: "shell", code: waitsFor("slow", `${dir}/slow.go`) },
      after: { language: "shell", depends_on: ["quick", "slow"], code: "echo after done" },
    });
    const tmux = new Tmux(dir);
    try {
      await tmux.start(hwfeCommand(["run", "--allow-run", "-j", "3", file], { TERM: "xterm" }));
      // Both running: one board, with both steps, their language and time, and the counts.
      const both = await tmux.waitFor(
        "both steps on the board",
        (screen) =>
          stepLine("quick").test(screen) && stepLine("slow").test(screen) &&
          screen.includes("[slow] slow started") && screen.includes("[quick] quick started"),
      );
      assert.equal(both.match(BOARD_COUNTS)?.length, 1, both);
      assert.match(both, /level 1 of 2 · 2 running · 0 done, 0 failed, 0 skipped, 1 pending$/m);
      assert.doesNotMatch(both, /▶/, "no 'started' lines: the board shows them");
      const slowAt = Number(both.match(stepLine("slow"))![1]);

      // The clock alone moves the board: the same steps, a later time, still one board.
      const later = await tmux.waitFor(
        "slow's time to move on",
        (screen) => Number(screen.match(stepLine("slow"))?.[1]) >= slowAt + 0.3,
      );
      assert.equal(later.match(BOARD_COUNTS)?.length, 1, later);

      // quick ends: its lines go above the board, which now shows slow alone.
      await Deno.writeTextFile(`${dir}/quick.go`, "");
      const one = await tmux.waitFor(
        "quick to end",
        (screen) => /^✓ quick succeeded in /m.test(screen) && !stepLine("quick").test(screen),
      );
      assert.match(one, stepLine("slow"));
      assert.match(one, /level 1 of 2 · 1 running · 1 done, 0 failed, 0 skipped, 1 pending$/m);
      assert.equal(one.match(BOARD_COUNTS)?.length, 1, one);
      assert.ok(
        one.indexOf("[quick] quick done") < one.search(stepLine("slow")),
        `output above the board:\n${one}`,
      );

      await Deno.writeTextFile(`${dir}/slow.go`, "");
      const end = await tmux.waitFor("hwfe to exit", (screen) => /^hwfe exited \d+$/m.test(screen));
      assert.match(end, /^hwfe exited 0$/m);
      // The final screen: lines and the summary, each once, and no board left.
      assert.equal(end.match(BOARD_COUNTS), null, end);
      assert.doesNotMatch(end, stepLine("slow"));
      for (const line of ["[quick] quick done", "[slow] slow done", "[after] after done"]) {
        assert.equal(end.split("\n").filter((l) => l === line).length, 1, `${line}:\n${end}`);
      }
      assert.match(end, /✓ after succeeded in .*\n\nSummary\n {2}STEP/);
      assert.match(end, /^Workflow 'live' succeeded in /m);

      // The raw stream: the cursor hidden and shown again, the board erased many times.
      const raw = await tmux.raw();
      assert.equal(raw.split("\x1b[?25l").length - 1, 1);
      assert.ok(raw.lastIndexOf("\x1b[?25h") > raw.lastIndexOf("\x1b[?25l"), "cursor shown");
      assert.ok(raw.split("\x1b[2K").length > 10, "the board was erased and redrawn");
      assert.ok(raw.indexOf("Summary") > raw.lastIndexOf("\x1b[2K"), "nothing erased after");
    } finally {
      await tmux.stop();
    }
  },
});

Deno.test({
  name: "on a terminal with CI=true or TERM=dumb, the run stays line-based",
  ignore: !(await installed("tmux")),
  async fn() {
    const file = await writeWorkflow("plain", {
      a: { language: "shell", code: "echo hello" },
    });
    const cases: Record<string, string>[] = [{ TERM: "xterm", CI: "true" }, { TERM: "dumb" }];
    for (const env of cases) {
      const dir = await Deno.makeTempDir({ prefix: "hwfe-live-" });
      const tmux = new Tmux(dir);
      try {
        await tmux.start(hwfeCommand(["run", "--allow-run", file], env));
        const end = await tmux.waitFor(
          "hwfe to exit",
          (screen) => /^hwfe exited \d+$/m.test(screen),
        );
        assert.match(end, /^▶ a started \(shell, level 1\)\n\[a\] hello\n✓ a succeeded/m);
        assert.doesNotMatch(await tmux.raw(), CURSOR_OR_ERASE, JSON.stringify(env));
      } finally {
        await tmux.stop();
      }
    }
  },
});

Deno.test({
  name:
    "Ctrl-C under the board cancels the run once: the summary follows, no board, the cursor back",
  ignore: !(await installed("tmux")),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hwfe-live-" });
    const file = await writeWorkflow("interrupted", {
      long: { language: "shell", code: waitsFor("long", `${dir}/never`) },
    });
    const tmux = new Tmux(dir);
    try {
      await tmux.start(hwfeCommand(["run", "--allow-run", file], { TERM: "xterm" }));
      await tmux.waitFor("the board", (screen) => stepLine("long").test(screen));
      await tmux.tmux("send-keys", "-t", "live", "C-c");
      const end = await tmux.waitFor("hwfe to exit", (screen) => /^hwfe exited \d+$/m.test(screen));
      // One Ctrl-C, one cancellation: not the quit at once of a second one.
      assert.match(end, /^hwfe exited 130$/m);
      assert.equal(end.split("Interrupted: cancelling").length - 1, 1, end);
      assert.match(end, /^■ long cancelled in .*: the run was interrupted$/m);
      assert.match(end, /^Workflow 'interrupted' cancelled in /m);
      assert.equal(end.match(BOARD_COUNTS), null, end);
      const raw = await tmux.raw();
      assert.ok(raw.lastIndexOf("\x1b[?25h") > raw.lastIndexOf("\x1b[?25l"), "cursor shown");
    } finally {
      await tmux.stop();
    }
  },
});

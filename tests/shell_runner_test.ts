import assert from "node:assert/strict";
import { defineWorkflow } from "../workflow/validate.ts";
import {
  inputEnvironment,
  inputVariable,
  shellLauncher,
  shellResult,
  shellRunner,
} from "../runners/shell.ts";
import { loneStep } from "../runners/_lone_step.ts";

Deno.test("shellResult() takes the first stdout line that is a JSON object, as the reference engine does", () => {
  assert.equal(shellResult('preparing\n{"n": 1}\n{"n": 2}\ndone', "", 0), '{"n":1}');
  // Other JSON values, and an object over several lines, are stdout like any text.
  for (
    const stdout of ["42", "true", "[1,2]", '"hi"', "      12 file.txt", 'log\n{\n  "a": 1\n}']
  ) {
    assert.equal(
      shellResult(`${stdout}\n`, "", 0),
      JSON.stringify({ stdout: stdout.trim(), stderr: "", exit_code: 0 }),
      stdout,
    );
  }
});

Deno.test("shellResult() takes the whole stdout when it is a JSON object, over several lines too", () => {
  assert.equal(shellResult('{\n  "a": [1, 2]\n}\n', "", 0), '{"a":[1,2]}');
});

Deno.test('shellResult() with result = "json" takes the whole stdout when it is JSON, compacted', () => {
  assert.equal(
    shellResult('{\n  "a": [1, 2],\n  "big": 9007199254740993\n}\n', "", 0, "json"),
    '{"a":[1,2],"big":9007199254740993}',
  );
  assert.equal(shellResult("42\n", "", 0, "json"), "42");
  assert.equal(shellResult('log\n{"n": 1}\n', "", 0, "json"), '{"n":1}');
});

Deno.test("shellResult() otherwise returns stdout, stderr and the exit code, trimmed", () => {
  assert.equal(
    shellResult("Task A\nresult_a\n", "  warn\n", 0),
    '{"stdout":"Task A\\nresult_a","stderr":"warn","exit_code":0}',
  );
  assert.equal(shellResult("", "", 0), '{"stdout":"","stderr":"","exit_code":0}');
  assert.equal(
    shellResult("{ not json }", "", 0),
    '{"stdout":"{ not json }","stderr":"","exit_code":0}',
  );
});

Deno.test("inputVariable() upper-cases the step name and replaces other characters", () => {
  assert.equal(inputVariable("task_a"), "INPUT_TASK_A");
  assert.equal(inputVariable("fetch-data.v2"), "INPUT_FETCH_DATA_V2");
});

/** A shell step's context, with its output gathered in `output`. */
function shellContext(code: string, signal = new AbortController().signal) {
  const { workflow } = defineWorkflow({ steps: { sh: { language: "shell", code } } });
  const output: string[] = [];
  const ctx = loneStep(workflow, "sh", {
    signal,
    write: (_stream, text) => output.push(text),
    grants: { run: true },
  });
  return { ctx, output };
}

/** The pids of processes whose command line contains `text`. */
async function pidsWith(text: string): Promise<number[]> {
  const { stdout } = await new Deno.Command("pgrep", { args: ["-f", text], stdout: "piped" })
    .output();
  return new TextDecoder().decode(stdout).split("\n").filter((line) => line).map(Number);
}

/** A unique sleep argument, so a test finds only its own processes. */
function marker(): string {
  return `${40 + Math.floor(Math.random() * 10)}.${Math.floor(Math.random() * 1e9)}`;
}

/** Runs `test`, then kills whatever `sleep <mark>` processes are left. */
async function withCleanup(mark: string, test: () => Promise<void>): Promise<void> {
  try {
    await test();
  } finally {
    for (const pid of await pidsWith(`sleep ${mark}`)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone meanwhile */ }
    }
    await shellRunner.close?.();
  }
}

const linux = Deno.build.os === "linux";

/** `promise`, or a rejection if it has not settled within `seconds`. */
async function within<T>(promise: Promise<T>, seconds: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`not done within ${seconds} s`)), seconds * 1000)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bash code that starts `command` (a `setsid sleep ...`) in the background
 * and waits until it is the sleep, past setsid: the step must not end
 * before its process has left the group.
 */
function inBackground(command: string): string {
  return `${command} &\n` +
    `for ((i = 0; i < 100000; i++)); do\n` +
    `  { read -r -d '' arg0 < "/proc/$!/cmdline"; } 2>/dev/null && [ "$arg0" = sleep ] && break\n` +
    `done\n`;
}

Deno.test({
  name: "shellRunner.run() stops a process that left the step's group when bash exits",
  ignore: !linux,
  fn: () => {
    const mark = marker();
    return withCleanup(mark, async () => {
      const { ctx } = shellContext(
        inBackground(`setsid sleep ${mark} >/dev/null 2>&1 </dev/null`) +
          inBackground(`setsid sleep ${mark}`) + `echo '{"bg":1}'`,
      );
      assert.equal(await within(shellRunner.run(ctx), 15), '{"bg":1}');
      assert.deepEqual(await pidsWith(`sleep ${mark}`), []);
    });
  },
});

Deno.test({
  name: "shellRunner.run() kills a leftover that ignores SIGTERM, after the grace",
  ignore: !linux,
  fn: () => {
    const mark = marker();
    return withCleanup(mark, async () => {
      const { ctx } = shellContext(
        // The loop says when it is ready, through a file: it ignores SIGTERM from then on.
        `ready=$(mktemp)\n` +
          `setsid bash -c 'trap "" TERM; echo >"$0"; while :; do sleep ${mark}; done' "$ready" &\n` +
          `for ((i = 0; i < 100000; i++)); do [ -s "$ready" ] && break; done\n` +
          `rm "$ready"\necho '{"ok":1}'`,
      );
      assert.equal(await within(shellRunner.run(ctx), 15), '{"ok":1}');
      assert.deepEqual(await pidsWith(`sleep ${mark}`), []);
    });
  },
});

Deno.test({
  name: "shellRunner.run() ends at its abort while a process that left its group holds its pipes",
  ignore: !linux,
  fn: () => {
    const mark = marker();
    return withCleanup(mark, async () => {
      const controller = new AbortController();
      const { ctx, output } = shellContext(
        inBackground(`setsid sleep ${mark}`) + `echo started; sleep ${mark}`,
        controller.signal,
      );
      const running = shellRunner.run(ctx);
      while (!output.join("").includes("started")) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const abortedAt = performance.now();
      controller.abort();
      await assert.rejects(within(running, 15), /step 'sh' was interrupted/);
      const ms = performance.now() - abortedAt;
      assert.ok(ms < 5000, `the step ended ${ms.toFixed(0)} ms after its abort`);
      assert.deepEqual(await pidsWith(`sleep ${mark}`), []);
    });
  },
});

Deno.test({
  name:
    "shellRunner.run() does not wait for a process that shed the step's mark but holds its pipes",
  ignore: !linux,
  fn: () => {
    const mark = marker();
    return withCleanup(mark, async () => {
      // env -i drops every variable, the mark too: such a process cannot be
      // found, and the step ends anyway once bash has exited.
      const { ctx } = shellContext(inBackground(`env -i setsid sleep ${mark}`) + `echo '{"n":2}'`);
      const started = performance.now();
      assert.equal(await within(shellRunner.run(ctx), 15), '{"n":2}');
      const ms = performance.now() - started;
      assert.ok(ms < 5000, `the step took ${ms.toFixed(0)} ms`);
    });
  },
});

Deno.test("inputEnvironment() passes what fits in INPUT_<STEP> and the rest through files, largest first", async () => {
  const big = JSON.stringify("x".repeat(200 * 1024));
  const medium = JSON.stringify("m".repeat(100 * 1024));
  const inputs = new Map([["small", "1"], ["big", big]]);
  for (let i = 0; i < 12; i++) inputs.set(`m${i}`, medium);
  const { env, files } = await inputEnvironment("s", inputs);
  try {
    assert.equal(env.INPUT_SMALL, "1");
    assert.equal(env.INPUT_BIG, undefined);
    assert.equal(await Deno.readTextFile(env.INPUT_BIG_FILE), big);
    assert.equal((await Deno.stat(env.INPUT_BIG_FILE)).mode! & 0o777, 0o600);
    // Twelve of 100 KiB do not fit together: some go to files, each readable.
    const inEnv = Object.keys(env).filter((k) => /^INPUT_M\d+$/.test(k));
    const inFiles = Object.keys(env).filter((k) => /^INPUT_M\d+_FILE$/.test(k));
    assert.ok(inEnv.length >= 8 && inEnv.length < 12, `${inEnv.length} in the environment`);
    assert.equal(inEnv.length + inFiles.length, 12);
    for (const k of inFiles) assert.equal(await Deno.readTextFile(env[k]), medium);
  } finally {
    if (files) await Deno.remove(files, { recursive: true });
  }
  const nothing = await inputEnvironment("s", new Map([["a", "1"]]));
  assert.equal(nothing.files, undefined, "no directory when everything fits");
  await assert.rejects(
    inputEnvironment("s", new Map([["a", big], ["a_file", "2"]])),
    /the result of 'a' is too large for INPUT_A and goes to a file named by INPUT_A_FILE, but that is also the variable of its dependency 'a_file'; rename one of the two steps/,
  );
});

/** What a step reports of its own bash: its pid, process group and session (Linux's /proc). */
const WHO_AM_I =
  'read -ra f < /proc/$$/stat; echo "{\\"pid\\": $$, \\"group\\": ${f[4]}, \\"session\\": ${f[5]}}"';

Deno.test({
  name: "shellRunner.run() starts bash as the leader of a session and process group of its own",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { ctx } = shellContext(WHO_AM_I);
    const me = JSON.parse(await shellRunner.run(ctx));
    assert.deepEqual(me, { pid: me.pid, group: me.pid, session: me.pid });
    await shellRunner.close?.();
  },
});

Deno.test({
  name: "a shell step leads its own session too where hwfe may start bash only (no setsid)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const script = `
      import { shellRunner } from ${
      JSON.stringify(new URL("../runners/shell.ts", import.meta.url).href)
    };
      import { loneStep } from ${
      JSON.stringify(new URL("../runners/_lone_step.ts", import.meta.url).href)
    };
      import { defineWorkflow } from ${
      JSON.stringify(new URL("../workflow/validate.ts", import.meta.url).href)
    };
      const { workflow } = defineWorkflow({ steps: { sh: { language: "shell", code: ${
      JSON.stringify(WHO_AM_I)
    } } } });
      const ctx = loneStep(workflow, "sh", { signal: new AbortController().signal, write() {}, grants: { run: true } });
      console.log(await shellRunner.run(ctx));
      await shellRunner.close?.();
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-prompt", "--allow-read", "--allow-env", "--allow-run=bash", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    const me = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(me, { pid: me.pid, group: me.pid, session: me.pid });
  },
});

Deno.test({
  name: "shell steps start through setsid where it exists (Deno's detached spawn forks hwfe whole)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const which = await new Deno.Command("bash", { args: ["-c", "command -v setsid"] }).output();
    assert.equal(await shellLauncher(), which.success ? "setsid" : "detached");
  },
});

/**
 * Shell steps whose processes try to outlive them: a background
 * process that calls setsid, drops the step's pipes, or outlives hwfe
 * itself. Each run is the real CLI; afterwards no process of the step may
 * be left, and the run must not wait for one.
 */

import assert from "node:assert/strict";
import { hwfe, readUntil, runJson, spawnHwfe, writeWorkflow } from "./_helpers.ts";

const linux = Deno.build.os === "linux";

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

/** A unique sleep duration, so that a test finds only its own processes. */
function uniqueSleep(seconds: number): string {
  return `${seconds}.${Math.floor(Math.random() * 1e9)}`;
}

/** The pids of processes whose command line contains `text`. */
async function pidsWith(text: string): Promise<number[]> {
  const { stdout } = await new Deno.Command("pgrep", { args: ["-f", text], stdout: "piped" })
    .output();
  return new TextDecoder().decode(stdout).split("\n").filter((line) => line).map(Number);
}

/** Runs `test`, then kills whatever processes with these sleeps are left. */
async function cleaningUp(sleeps: string[], test: () => Promise<void>): Promise<void> {
  try {
    await test();
  } finally {
    for (const sleep of sleeps) {
      for (const pid of await pidsWith(`sleep ${sleep}`)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
    }
  }
}

/** `hwfe run --json --allow-run <file>`, timed. */
async function timedRun(file: string) {
  const started = performance.now();
  const result = await hwfe(["run", "--json", "--allow-run", file]);
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** Waits for `child` to exit, at most `seconds`; undefined if it has not. */
async function exitWithin(
  child: Deno.ChildProcess,
  seconds: number,
): Promise<Deno.CommandStatus | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      child.status,
      new Promise<undefined>((
        resolve,
      ) => (timer = setTimeout(() => resolve(undefined), seconds * 1000))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("a setsid background process ends with its step, which does not wait for it", async () => {
  const sleep = uniqueSleep(40);
  await cleaningUp([sleep], async () => {
    const file = await writeWorkflow("setsid", {
      bg: {
        language: "shell",
        timeout: 3,
        code: `setsid sleep ${sleep} & sleep 0.3; echo '{"bg":1}'`,
      },
    });
    const { result, seconds } = await timedRun(file);
    assert.ok(seconds < 15, `the run took ${seconds.toFixed(1)} s`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(runJson(result).steps.bg.result, { bg: 1 });
    if (linux) assert.deepEqual(await pidsWith(`sleep ${sleep}`), [], "the sleep is gone");
  });
});

Deno.test("a step's timeout fires on time while a setsid process holds its pipes", async () => {
  const [escaped, own] = [uniqueSleep(40), uniqueSleep(30)];
  await cleaningUp([escaped, own], async () => {
    const file = await writeWorkflow("setsid_timeout", {
      bg: {
        language: "shell",
        timeout: 3,
        code: `setsid sleep ${escaped} & echo started; sleep ${own}`,
      },
    });
    const { result, seconds } = await timedRun(file);
    assert.ok(seconds < 15, `the run took ${seconds.toFixed(1)} s`);
    assert.equal(result.code, 1, result.stderr);
    const bg = runJson(result).steps.bg;
    assert.equal(bg.status, "failed");
    assert.equal(bg.error, "step 'bg' timed out after 3s");
    assert.ok(bg.duration < 10, `the step took ${bg.duration} s`);
    if (linux) {
      assert.deepEqual(await pidsWith(`sleep ${escaped}`), [], "the setsid sleep is gone");
      assert.deepEqual(await pidsWith(`sleep ${own}`), [], "the step's own sleep is gone");
    }
  });
});

Deno.test({
  name: "a background process with its pipes redirected does not outlive its successful step",
  ignore: !linux,
  fn: async () => {
    const [detached, inGroup] = [uniqueSleep(40), uniqueSleep(41)];
    await cleaningUp([detached, inGroup], async () => {
      const file = await writeWorkflow("redirected", {
        bg: {
          language: "shell",
          code: inBackground(`setsid sleep ${detached} >/dev/null 2>&1 </dev/null`) +
            `nohup sleep ${inGroup} >/dev/null 2>&1 </dev/null &\n` +
            `echo '{"bg":1}'`,
        },
        after: {
          language: "shell",
          depends_on: ["bg"],
          // [p]: a pattern that does not match this step's own command line
          code: `pgrep -f 'slee[p] ${detached}|slee[p] ${inGroup}' || echo '{"none":true}'`,
        },
      });
      const { result, seconds } = await timedRun(file);
      assert.ok(seconds < 15, `the run took ${seconds.toFixed(1)} s`);
      assert.equal(result.code, 0, result.stderr);
      const run = runJson(result);
      assert.deepEqual(run.steps.bg.result, { bg: 1 });
      // Gone when the step ended, before the next step started.
      assert.deepEqual(run.steps.after.result, { none: true });
      assert.deepEqual(await pidsWith(`sleep ${detached}`), []);
      assert.deepEqual(await pidsWith(`sleep ${inGroup}`), []);
    });
  },
});

/** A workflow whose step starts processes of every kind, then prints "started" and waits. */
async function escapingWorkflow(sleeps: string[]): Promise<string> {
  const [held, redirected, own] = sleeps;
  return await writeWorkflow("escaping", {
    bg: {
      language: "shell",
      code: inBackground(`setsid sleep ${held}`) +
        inBackground(`setsid sleep ${redirected} >/dev/null 2>&1 </dev/null`) +
        `echo started\nsleep ${own}`,
    },
  });
}

Deno.test({
  name: "one SIGTERM stops hwfe and every process of its steps, including escaped ones",
  ignore: !linux,
  fn: async () => {
    const sleeps = [uniqueSleep(40), uniqueSleep(41), uniqueSleep(30)];
    await cleaningUp(sleeps, async () => {
      const child = spawnHwfe(["run", "--allow-run", await escapingWorkflow(sleeps)]);
      try {
        const { rest } = await readUntil(child.stdout, "[bg] started");
        child.kill("SIGTERM");
        const status = await exitWithin(child, 10);
        await rest.cancel();
        await child.stderr.cancel();
        assert.ok(status, "hwfe did not exit within 10 s of one SIGTERM");
        assert.equal(status.code, 143);
        for (const sleep of sleeps) {
          assert.deepEqual(await pidsWith(`sleep ${sleep}`), [], `sleep ${sleep} is gone`);
        }
      } finally {
        try {
          child.kill("SIGKILL");
          await child.status;
        } catch { /* exited */ }
      }
    });
  },
});

Deno.test({
  name: "after SIGKILL of hwfe no process of its steps survives",
  ignore: !linux,
  fn: async () => {
    const sleeps = [uniqueSleep(40), uniqueSleep(41), uniqueSleep(30)];
    await cleaningUp(sleeps, async () => {
      const child = spawnHwfe(["run", "--allow-run", await escapingWorkflow(sleeps)]);
      const { rest } = await readUntil(child.stdout, "[bg] started");
      child.kill("SIGKILL");
      const status = await child.status;
      await rest.cancel();
      await child.stderr.cancel();
      assert.equal(status.signal, "SIGKILL");
      // hwfe cannot run code after SIGKILL: its reaper notices the death and
      // stops the step's processes, which cannot be awaited from here.
      let left: number[] = [];
      for (let i = 0; i < 100; i++) {
        left = (await Promise.all(sleeps.map((sleep) => pidsWith(`sleep ${sleep}`)))).flat();
        if (left.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(left, [], "processes left 5 s after hwfe was killed");
    });
  },
});

/**
 * The run history (issue 19): runs recorded by real processes, four at
 * once into one store, and read back with `hwfe runs`, `show` and `logs`
 * (`--follow` of a run another process is writing); a run killed mid-way,
 * and stores that cannot be used (corrupt, newer, unwritable), which never
 * cost a run its exit status.
 *
 * Runs are recorded by `hwfe run` once cli/run_command.ts calls
 * api/history.ts (the tests marked WIRED wait for it), and meanwhile by
 * tests/testdata/history_run.ts, which records a run through the same
 * api/history.ts in a process of its own.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  hwfe,
  readUntil,
  ROOT,
  spawnHwfe,
  SUITE_CACHE,
  TESTDATA,
  type TestStep,
  writeWorkflow,
} from "./_helpers.ts";
import { v8FlagsArg } from "../_util/v8_flags.ts";
import { historyPath } from "../store/location.ts";
import { SCHEMA_VERSION } from "../store/schema.ts";

/** Whether `hwfe run` records runs yet (cli/run_command.ts calls api/history.ts). */
const WIRED = (await Deno.readTextFile(new URL("cli/run_command.ts", ROOT)))
  .includes("runWithHistory");

/** A fresh data directory, and the environment that points hwfe at it. */
async function dataDir(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-data-" });
  return { dir, env: { HWFE_DATA_DIR: dir } };
}

/** Starts the recording driver on `file`, writing into `env`'s data directory. */
function record(file: string, env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--unstable-worker-options",
      v8FlagsArg(),
      "-A",
      `${TESTDATA}history_run.ts`,
      file,
    ],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1", HWFE_CACHE_DIR: SUITE_CACHE, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Records a whole run with the driver; returns its id and status. */
async function recordRun(
  file: string,
  env: Record<string, string>,
): Promise<{ id: number; status: string }> {
  const output = await record(file, env).output();
  const text = new TextDecoder().decode(output.stdout);
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

const lua = (code: string, extra: Partial<TestStep> = {}): TestStep => ({
  language: "lua",
  code,
  ...extra,
});

/** A workflow of `count` Lua steps, each printing `lines` lines. */
function manySteps(count: number, lines: number): Promise<string> {
  return writeWorkflow(
    "many",
    Object.fromEntries(Array.from({ length: count }, (_, i) => [
      `s${i}`,
      lua(`function run() for i = 1, ${lines} do print("s${i} line " .. i) end return ${i} end`),
    ])),
  );
}

async function json(args: string[], env: Record<string, string>) {
  const result = await hwfe([...args, "--json"], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Every run in the store has all its steps, lines and events: nothing lost. */
async function assertComplete(
  env: Record<string, string>,
  runs: number,
  steps: number,
  lines: number,
) {
  const list = await json(["runs", "-n", "0"], env);
  assert.deepEqual(
    list.runs.map((r: { id: number }) => r.id).sort(),
    Array.from({ length: runs }, (_, i) => i + 1),
  );
  const db = new DatabaseSync(historyPath(env.HWFE_DATA_DIR), { readOnly: true });
  for (let id = 1; id <= runs; id++) {
    const count = (sql: string) => Number(Object.values(db.prepare(sql).get(id)!)[0]);
    assert.equal(
      count("SELECT count(*) FROM steps WHERE run_id = ? AND status = 'succeeded'"),
      steps,
    );
    assert.equal(
      count("SELECT sum(lines) FROM events WHERE run_id = ? AND type = 'step_output'"),
      steps * lines,
    );
    assert.equal(
      count("SELECT count(*) FROM events WHERE run_id = ? AND type = 'step_finished'"),
      steps,
    );
    assert.equal(
      count(
        "SELECT max(seq + coalesce(lines, 1) - 1) - sum(coalesce(lines, 1)) FROM events WHERE run_id = ?",
      ),
      0,
      "no gap",
    );
    assert.equal(count("SELECT status = 'succeeded' FROM runs WHERE id = ?"), 1);
  }
  db.close();
}

Deno.test("four processes recording into one store at once lose nothing", async () => {
  const { env } = await dataDir();
  const file = await manySteps(40, 5);
  const results = await Promise.all(Array.from({ length: 4 }, () => recordRun(file, env)));
  assert.deepEqual(results.map((r) => r.status), Array(4).fill("succeeded"));
  await assertComplete(env, 4, 40, 5);
});

Deno.test(
  "four concurrent hwfe run processes lose nothing (WIRED)",
  { ignore: !WIRED },
  async () => {
    const { env } = await dataDir();
    const file = await manySteps(40, 5);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => hwfe(["run", "-q", "--mode", "parallel", file], { env })),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    await assertComplete(env, 4, 40, 5);
  },
);

Deno.test("hwfe runs, show and logs read what was recorded, escaped", async () => {
  const { env } = await dataDir();
  const file = await writeWorkflow("hostile", {
    fine: lua(
      `function run() print("plain") print("\\27]0;title\\7 \\226\\128\\174 evil") return 9007199254740993 end`,
    ),
    broken: lua(`function run() io.stderr:write("to stderr\\n") error("it \\27[2J broke") end`, {
      depends_on: ["fine"],
    }),
  });
  assert.equal((await recordRun(file, env)).status, "failed");
  const runs = await hwfe(["runs"], { env });
  assert.equal(runs.code, 0, runs.stderr);
  const [header, row, ...rest] = runs.stdout.split("\n");
  assert.match(header, /^ID +WORKFLOW +STATUS +STARTED +DURATION$/);
  assert.match(row, /^1 +hostile +failed +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+(ms|\.\d\ds)$/);
  assert.deepEqual(rest, [""]);
  assert.deepEqual((await json(["runs", "hostile"], env)).runs.map((r: { id: number }) => r.id), [
    1,
  ]);
  assert.deepEqual((await json(["runs", file], env)).runs.length, 1, "a file names its runs");
  assert.deepEqual((await json(["runs", "other"], env)).runs, []);

  const show = await hwfe(["show", "last"], { env });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^Run 1: hostile failed\n/);
  assert.match(show.stdout, /\n {2}file {5}\S+hostile\.lua\n/);
  assert.match(show.stdout, /\nfine {4}lua {7}succeeded {2}1 {9}\d+ms/);
  assert.match(show.stdout, /\n✗ broken: .*it \\x1b\[2J broke/, "errors are escaped");
  assert.ok(!show.stdout.includes("\x1b"));
  const document = await json(["show", "1"], env);
  assert.equal(document.status, "failed");
  assert.match(show.stdout, /\n✗ broken: /);
  // The raw JSON keeps the result's digits: no rounding through a JS number.
  assert.match((await hwfe(["show", "1", "--json"], { env })).stdout, /"result": 9007199254740993/);
  assert.equal(document.steps.broken.status, "failed");
  assert.equal(document.steps.fine.attempts, 1);

  const logs = await hwfe(["logs", "1"], { env });
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(
    logs.stdout,
    "[fine] plain\n[fine] \\x1b]0;title\\x07 \\u202e evil\n[broken] to stderr\n",
  );
  const step = await hwfe(["logs", "last", "broken"], { env });
  assert.deepEqual([step.stdout, step.stderr], ["", "to stderr\n"], "a step's stderr on stderr");
  const lines = (await hwfe(["logs", "1", "fine", "--json"], { env })).stdout.trim().split("\n");
  assert.deepEqual(lines.map((line) => JSON.parse(line).line), [
    "plain",
    "\x1b]0;title\x07 \u202e evil",
  ]);
  assert.ok(!lines.join("").includes("\u202e"), "JSON escapes what a terminal acts on");
});

Deno.test("run references: last of a workflow, and errors for runs and steps that do not exist", async () => {
  const { env } = await dataDir();
  const empty = await hwfe(["runs"], { env });
  assert.equal(empty.code, 0);
  assert.match(empty.stdout, /^No runs recorded in .*history\.db\n$/);
  const none = await hwfe(["show", "last"], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /error: There is no run in .*history\.db: hwfe runs lists the runs/);
  const a = await writeWorkflow("first", { a: lua("function run() print('from a') end") });
  const b = await writeWorkflow("second", { b: lua("function run() print('from b') end") });
  await recordRun(a, env);
  await recordRun(b, env);
  assert.equal((await hwfe(["logs", "last"], { env })).stdout, "[b] from b\n");
  assert.equal((await hwfe(["logs", "last", "-w", "first"], { env })).stdout, "[a] from a\n");
  const bad = await hwfe(["show", "x1"], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /'x1' is not a run: give a run's id \(hwfe runs lists them\) or last/);
  const missing = await hwfe(["show", "9"], { env });
  assert.match(missing.stderr, /There is no run 9 in /);
  const step = await hwfe(["logs", "1", "b"], { env });
  assert.equal(step.code, 2);
  assert.match(
    step.stderr,
    /Run 1 \(first\) has no step 'b' \(did you mean 'a'\?\): hwfe show 1 lists its steps/,
  );
});

Deno.test("hwfe logs --follow prints a running run's lines as another process records them", async () => {
  const { dir, env } = await dataDir();
  const go = `${dir}/go`;
  const file = await writeWorkflow("slow", {
    wait: {
      language: "shell",
      code: `echo first; while [ ! -e '${go}' ]; do sleep 0.05; done; echo second`,
    },
  });
  const writer = record(file, env);
  const { rest } = await readUntil(writer.stdout, '{"recorded":1}');
  const follower = spawnHwfe(["logs", "--follow", "1"], { env });
  const seen = await readUntil(follower.stdout, "[wait] first\n");
  await Deno.writeTextFile(go, ""); // the step goes on only once the follower has printed
  let text = seen.text;
  for (let chunk = await seen.rest.read(); !chunk.done; chunk = await seen.rest.read()) {
    text += chunk.value;
  }
  assert.equal(text, "[wait] first\n[wait] second\n");
  assert.equal((await follower.status).code, 0, "it ends with the run");
  await rest.cancel();
  await writer.stderr.cancel();
  assert.ok((await writer.status).success);
});

Deno.test("a run whose process is killed is shown interrupted", async () => {
  const { env } = await dataDir();
  const file = await writeWorkflow("killed", {
    spin: lua("function run() print('spinning') while true do end end"),
  });
  const writer = record(file, env);
  const { rest } = await readUntil(writer.stdout, '{"recorded":1}');
  writer.kill("SIGKILL");
  await writer.status;
  await rest.cancel();
  await writer.stderr.cancel();
  const runs = await json(["runs"], env);
  assert.equal(runs.runs[0].status, "interrupted");
  const show = await hwfe(["show", "1"], { env });
  assert.match(show.stdout, /^Run 1: killed interrupted\n/);
  assert.match(show.stdout, /✗ interrupted: its process \(pid \d+ on .*\) ended before it did/);
});

Deno.test("hwfe gc keeps the newest runs", async () => {
  const { env } = await dataDir();
  const file = await writeWorkflow("kept", { a: lua("function run() end") });
  for (let i = 0; i < 3; i++) await recordRun(file, env);
  const usage = await hwfe(["gc"], { env });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /gc: which runs\? Give --keep N/);
  const gc = await hwfe(["gc", "--keep", "1"], { env });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /^Removed 2 runs from .*history\.db; 1 kept\n$/);
  assert.deepEqual((await json(["runs"], env)).runs.map((r: { id: number }) => r.id), [3]);
  assert.deepEqual(await json(["gc", "--older-than", "0"], env), {
    path: historyPath(env.HWFE_DATA_DIR),
    removed: 1,
    kept: 0,
  });
});

Deno.test("reading a corrupt store is an error naming the file", async () => {
  const { dir, env } = await dataDir();
  await Deno.writeTextFile(historyPath(dir), "garbage ".repeat(1000));
  const runs = await hwfe(["runs"], { env });
  assert.equal(runs.code, 2);
  assert.match(
    runs.stderr,
    /history\.db is not a readable hwfe history database .*: move it aside/,
  );
});

/** `hwfe run` over a store spoiled by `spoil`: the run's own exit code, and one warning. */
async function runOver(spoil: (dir: string) => Promise<Record<string, string>>) {
  const { dir } = await dataDir();
  const env = await spoil(dir);
  const ok = await writeWorkflow("ok", { a: lua("function run() return 1 end") });
  const bad = await writeWorkflow("bad", { a: lua("function run() error('no') end") });
  const results = [await hwfe(["run", ok], { env }), await hwfe(["run", bad], { env })];
  assert.deepEqual(results.map((r) => r.code), [0, 1], "the runs' exit codes stand");
  for (const result of results) {
    const warnings = result.stderr.match(/warning: .*/g) ?? [];
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(warnings[0], /^warning: This run is not recorded in hwfe's history: /);
  }
  return results[0].stderr;
}

Deno.test("hwfe run over a corrupt store runs, warns once and keeps its exit code (WIRED)", {
  ignore: !WIRED,
}, async () => {
  const stderr = await runOver(async (dir) => {
    await Deno.writeTextFile(historyPath(dir), "garbage ".repeat(1000));
    return { HWFE_DATA_DIR: dir };
  });
  assert.match(stderr, /history\.db is not a readable hwfe history database/);
});

Deno.test("hwfe run over a newer store runs, warns once and keeps its exit code (WIRED)", {
  ignore: !WIRED,
}, async () => {
  const stderr = await runOver((dir) => {
    const db = new DatabaseSync(historyPath(dir));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    return Promise.resolve({ HWFE_DATA_DIR: dir });
  });
  assert.match(stderr, /was written by a newer hwfe .*: upgrade hwfe/);
});

Deno.test("hwfe run where the data directory cannot be written runs and warns once (WIRED)", {
  ignore: !WIRED,
}, async () => {
  const stderr = await runOver(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "");
    return { HWFE_DATA_DIR: `${dir}/file/hwfe` };
  });
  assert.match(stderr, /cannot be opened for writing .*set HWFE_DATA_DIR/);
});

Deno.test(
  "hwfe run records the run, and --no-history does not (WIRED)",
  { ignore: !WIRED },
  async () => {
    const { env } = await dataDir();
    const file = await writeWorkflow("plain", {
      a: lua("function run() print('hi') return 2 end"),
    });
    const run = await hwfe(["run", "--mode", "parallel", file], { env });
    assert.equal(run.code, 0, run.stderr);
    const none = await hwfe(["run", "--no-history", file], { env });
    assert.equal(none.code, 0, none.stderr);
    const { runs } = await json(["runs"], env);
    assert.equal(runs.length, 1);
    const document = await json(["show", "last"], env);
    assert.equal(document.workflow, "plain");
    assert.equal(document.mode, "parallel");
    assert.equal(document.settings.mode, "parallel", "the settings the run was given");
    assert.match(document.file_sha256, /^[0-9a-f]{64}$/);
    assert.equal(document.steps.a.result, 2);
    assert.equal((await hwfe(["logs", "last", "a"], { env })).stdout, "hi\n");
  },
);

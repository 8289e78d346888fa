/** End-to-end tests: the real `cli.ts` in a subprocess. */

import assert from "node:assert/strict";
import { SETTINGS } from "../engine/settings.ts";
import {
  hwfe,
  outputLines,
  processesMatching,
  readUntil,
  runJson,
  spawnHwfe,
  TESTDATA,
  workflowCopy,
  writeWorkflow,
} from "./_helpers.ts";

const DEMO = "workflows/parallel_demo.lua";
/** Scheduling tests run under both strategies. */
const STRATEGIES = ["levels", "eager"] as const;

Deno.test("hwfe plan prints the dependency levels of parallel_demo, sorted by name", async () => {
  const result = await hwfe(["plan", DEMO]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "Level 1: [init]\nLevel 2: [task_a, task_b, task_c, task_d]\nLevel 3: [merge_results]\nLevel 4: [finalize]\n",
  );
});

Deno.test("hwfe run finds a workflow by name in the workflows directory", async () => {
  const result = await hwfe(["plan", "parallel_demo"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Level 1: \[init\]/);
});

Deno.test("hwfe run names a workflow it cannot find and exits 2", async () => {
  const result = await hwfe(["run", "no_such_workflow"]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /Workflow 'no_such_workflow' not found: .* workflows directory 'workflows' \(default\)/,
  );
});

const VALIDATION_CASES: [string, RegExp[]][] = [
  ["syntax_error.lua", [/syntax_error\.lua: Lua syntax error: line 6:/]],
  ["no_workflow.lua", [/no_workflow\.lua: no 'workflow' global/]],
  ["steps_missing.lua", [/steps_missing\.lua: workflow\.steps is missing/]],
  ["steps_empty.lua", [/steps_empty\.lua: workflow\.steps is empty/]],
  ["steps_not_table.lua", [/steps_not_table\.lua: workflow\.steps must be a table, got a string/]],
  ["bad_steps.lua", [
    /bad_steps\.lua: step 'not_a_table' must be a table, got a string/,
    /step 'unknown_lang': unknown language 'cobol'; known languages: lua, shell, sh, bash, python/,
    /step 'no_code': missing 'code'/,
    /step 'self_dep' depends on itself/,
    /step 'typo_dep' depends on unknown step 'unknown_lnag' \(did you mean 'unknown_lang'\?\)/,
    /step 'misspelt': unknown field 'depend_on' \(did you mean 'depends_on'\?\)/,
    /step 'extra': unknown field 'timout' \(did you mean 'timeout'\?\): correct the name/,
  ]],
  ["cycle.lua", [
    /cycle\.lua: Circular dependency detected involving step 'step_a': step_a -> step_b -> step_a/,
  ]],
  ["host_access.lua", [
    /host_access\.lua: error while evaluating the workflow file: .*line 1|host_access\.lua:1: attempt to call a nil value \(field 'execute'\)/,
  ]],
];

for (const [file, patterns] of VALIDATION_CASES) {
  Deno.test(`hwfe validate rejects ${file} with exit 2 and names the problem`, async () => {
    const result = await hwfe(["validate", `${TESTDATA}${file}`]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    for (const pattern of patterns) assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });
}

Deno.test("hwfe validate accepts a valid workflow and warns about unknown fields", async () => {
  const result = await hwfe(["validate", `${TESTDATA}warn_only.lua`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /workflow 'warn_only' is valid \(1 step in 1 level\)/);
  assert.match(
    result.stderr,
    /warning: .*warn_only\.lua: step 'a': unknown field 'colour' is ignored/,
  );
});

Deno.test("loading a workflow file never touches the host", async () => {
  const marker = "/tmp/hwfe-should-not-exist";
  await Deno.remove(marker).catch(() => {});
  await hwfe(["validate", `${TESTDATA}host_access.lua`]);
  await assert.rejects(Deno.stat(marker));
});

Deno.test("hwfe run refuses shell steps without --allow-run before starting anything", async () => {
  const result = await hwfe(["run", "--mode", "parallel", DEMO]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /step 'finalize' \(shell\) needs --allow-run; rerun as: hwfe run --allow-run --mode parallel workflows\/parallel_demo\.lua/,
  );
  assert.doesNotMatch(result.stdout + result.stderr, /started/);
});

Deno.test("hwfe run --json runs parallel_demo in parallel: level 2 steps overlap", async () => {
  const result = await hwfe(["run", "--allow-run", "--json", "--mode", "parallel", DEMO]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Execution mode: parallel \(up to 4 steps at once\)/);
  const run = runJson(result);
  assert.equal(run.status, "succeeded");
  assert.equal(run.mode, "parallel");
  assert.deepEqual(run.levels[1], ["task_a", "task_b", "task_c", "task_d"]);
  assert.equal(run.steps.init.result, "initialized");
  assert.equal(run.steps.task_b.result, "result_b");
  assert.deepEqual(run.steps.task_a.result, {
    stdout: "Task A\nresult_a",
    stderr: "",
    exit_code: 0,
  });
  assert.deepEqual(run.steps.merge_results.result, { merged: 4, status: "merged" });
  assert.deepEqual(run.steps.finalize.result, { status: "complete" });
  // Every level-2 step started before any of them (each takes about 1 s) ended.
  const level2 = ["task_a", "task_b", "task_c", "task_d"].map((n) => run.steps[n]);
  const firstEnd = Math.min(...level2.map((s) => s.start + s.duration));
  for (const step of level2) assert.ok(step.start < firstEnd, JSON.stringify(run.steps));
  // A step's wait for its runtime is apart from its own time (Python's start, here).
  for (const step of Object.values(run.steps)) {
    assert.ok(typeof step.waited === "number" && step.waited >= 0, JSON.stringify(step));
  }
  // Step output is prefixed with the step name, on stderr under --json.
  assert.match(result.stderr, /^\[init\] Initializing\.\.\.$/m);
  // In order, though other steps' lines may come between them.
  assert.deepEqual(outputLines(result.stderr).task_b, [
    "Task B starting",
    "Task B total: 499999500000",
  ]);
});

Deno.test("polyglot_flow: nested data survives Lua -> Python -> shell -> Python -> Lua", async () => {
  const result = await hwfe(["run", "--allow-run", "--json", "workflows/polyglot_flow.lua"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(runJson(result).steps.summary.result, {
    label: "PARCEL-142.25",
    customer_id: 9007199254740994,
    cells: 6,
    checked: ["label", "total"],
    name: "Zoë Ørsted",
    notes: [],
  });
  // 2^53 + 2 is exact in JSON.parse too; the text shows no rounding happened on the way.
  assert.match(result.stdout, /"customer_id": 9007199254740994\b/);
});

Deno.test("HWFE_EXECUTION_MODE=sequential runs one step at a time", async () => {
  const result = await hwfe(["run", "--allow-run", "--json", DEMO], {
    env: { HWFE_EXECUTION_MODE: "sequential" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Execution mode: sequential/);
  const run = runJson(result);
  const steps = Object.values(run.steps).sort((a, b) => a.start - b.start);
  for (let i = 1; i < steps.length; i++) {
    // Offsets are rounded to the millisecond: allow 2 ms.
    const previousEnd = steps[i - 1].start + steps[i - 1].duration;
    assert.ok(steps[i].start >= previousEnd - 0.002, JSON.stringify(run.steps));
  }
  const sumOfWork = run.steps.task_a.duration + run.steps.task_c.duration +
    run.steps.task_d.duration;
  assert.ok(run.duration >= sumOfWork);
});

Deno.test("-j alone means parallel and the header says so; against --mode sequential or with eager in sequential mode it is a usage error", async () => {
  const file = `${TESTDATA}cpu.lua`;
  const alone = await hwfe(["run", "--json", "-j", "2", file]);
  assert.equal(alone.code, 0, alone.stderr);
  assert.match(alone.stderr, /^Execution mode: parallel \(up to 2 steps at once; -j 2\)$/m);
  assert.equal(runJson(alone).mode, "parallel");
  const both = await hwfe(["run", "--mode", "sequential", "-j", "2", file]);
  assert.equal(both.code, 2);
  assert.match(
    both.stderr,
    /--mode sequential runs one step at a time, but -j\/--max-parallel 2 asks for 2: give one of them/,
  );
  const eager = await hwfe(["run", "--strategy", "eager", file]);
  assert.equal(eager.code, 2);
  assert.match(
    eager.stderr,
    /--strategy eager .* needs parallel mode; the mode is sequential \(default\)/,
  );
  // A mode chosen elsewhere stays, and -j says it does nothing.
  const env = await hwfe(["run", "-j", "2", file], { env: { HWFE_EXECUTION_MODE: "sequential" } });
  assert.equal(env.code, 0, env.stderr);
  assert.match(env.stderr, /-j\/--max-parallel 2 is ignored: the mode is sequential/);
  assert.match(env.stderr, /^Execution mode: sequential$/m);
});

Deno.test("-j 2 runs at most two CPU-bound Lua steps at once", async () => {
  const result = await hwfe([
    "run",
    "--json",
    "--mode",
    "parallel",
    "-j",
    "2",
    `${TESTDATA}cpu.lua`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const run = runJson(result);
  const spans = Object.values(run.steps).map((s) => [s.start, s.start + s.duration]);
  for (const [start] of spans) {
    // Offsets are rounded to the millisecond: allow 2 ms of overlap.
    const running = spans.filter(([s, e]) => s <= start && start < e - 0.002).length;
    assert.ok(running <= 2, JSON.stringify(run.steps));
  }
  assert.equal(run.steps.c1.result, 200000010000000);
});

for (const strategy of STRATEGIES) {
  Deno.test(`a failing step stops the run: running steps cancelled, processes killed, rest skipped [${strategy}]`, async () => {
    const { file, marker } = await workflowCopy("fail_fast.lua");
    const result = await hwfe([
      "run",
      "--allow-run",
      "--json",
      "--mode",
      "parallel",
      "--strategy",
      strategy,
      file,
    ]);
    assert.equal(result.code, 1, result.stderr);
    const run = runJson(result);
    assert.equal(run.status, "failed");
    assert.equal(run.steps.boom.status, "failed");
    assert.match(
      run.steps.boom.error!,
      /step 'boom' \(lua\): <step boom> line 2 \(.*fail_fast\.lua:9\): boom on purpose/,
    );
    assert.equal(run.steps.slow.status, "cancelled");
    assert.equal(run.steps.after_boom.status, "skipped");
    // Eager may have started after_quick (quick ends first): then it was
    // cancelled, or finished before the failure; levels never started it.
    assert.ok(
      strategy === "eager"
        ? ["skipped", "cancelled", "succeeded"].includes(run.steps.after_quick.status)
        : run.steps.after_quick.status === "skipped",
      run.steps.after_quick.status,
    );
    assert.equal(await processesMatching(`sleep 30.${marker}`), "");
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`--keep-going lets independent branches finish and skips dependents of the failure [${strategy}]`, async () => {
    const { file } = await workflowCopy("fail_fast.lua");
    const text = (await Deno.readTextFile(file)).replace(/sleep 30\.\d+/, "sleep 0.2");
    await Deno.writeTextFile(file, text);
    const result = await hwfe([
      "run",
      "--allow-run",
      "--json",
      "--keep-going",
      "--strategy",
      strategy,
      "--mode",
      "parallel",
      file,
    ]);
    assert.equal(result.code, 1, result.stderr);
    const run = runJson(result);
    assert.equal(run.steps.slow.status, "succeeded");
    assert.equal(run.steps.after_quick.status, "succeeded");
    assert.equal(run.steps.after_quick.result, "quick");
    assert.equal(run.steps.after_boom.status, "skipped");
    assert.equal(run.steps.after_boom.error, "dependency 'boom' failed");
  });
}

Deno.test("timeouts stop a Lua loop, a Lua pcall loop and a shell step, and kill the shell's processes", async () => {
  const { file, marker } = await workflowCopy("timeouts.lua");
  const result = await hwfe([
    "run",
    "--allow-run",
    "--json",
    "--keep-going",
    "--mode",
    "parallel",
    file,
  ]);
  assert.equal(result.code, 1, result.stderr);
  const run = runJson(result);
  for (const name of ["spin", "pcall_loop", "sleeper"]) {
    assert.equal(run.steps[name].status, "failed");
    assert.equal(run.steps[name].error, `step '${name}' timed out after 0.5s`);
  }
  assert.equal(run.steps.fine.result, "ok");
  assert.equal(await processesMatching(`sleep 30.${marker}`), "");
});

Deno.test("--step-timeout applies to steps without a timeout of their own", async () => {
  const { file } = await workflowCopy("cpu.lua");
  const text = (await Deno.readTextFile(file)).replace("2e7 do", "1e12 do");
  await Deno.writeTextFile(file, text);
  const result = await hwfe(["run", "--json", "--keep-going", "--step-timeout", "0.3", file]);
  assert.equal(result.code, 1);
  assert.equal(runJson(result).steps.c1.error, "step 'c1' timed out after 0.3s");
});

Deno.test("quoting-hostile results reach shell steps byte for byte", async () => {
  const pwned = "/tmp/hwfe-pwned";
  await Deno.remove(pwned).catch(() => {});
  const result = await hwfe(["run", "--allow-run", "--json", `${TESTDATA}hostile.lua`]);
  assert.equal(result.code, 0, result.stderr);
  const run = runJson(result);
  assert.equal(run.steps.lua_check.result, true);
  assert.equal(
    (run.steps.echo_back.result as { via_env: { text: string } }).via_env.text,
    "it's \"quoted\" $(touch /tmp/hwfe-pwned) `id` $HOME \\ back\nslash\ttab 'single' é😀",
  );
  await assert.rejects(Deno.stat(pwned));
});

Deno.test("a Lua result that is not JSON data fails the step with the key path", async () => {
  const result = await hwfe(["run", "--json", `${TESTDATA}bad_result.lua`]);
  assert.equal(result.code, 1);
  assert.equal(
    runJson(result).steps.a.error,
    "step 'a' returned a function at result.nested.callback",
  );
});

Deno.test("hwfe run prints progress, prefixed output and a summary", async () => {
  const result = await hwfe(["run", "--allow-run", `${TESTDATA}hostile.lua`]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^▶ source started \(lua, level 1\)$/m);
  assert.match(result.stdout, /^✓ echo_back succeeded in \d+ms(?: \(waited [^)]+\))?$/m);
  assert.match(result.stdout, /^\[echo_back\] \{"via_env": /m);
  assert.match(
    result.stdout,
    /Summary\n\s+STEP\s+LANGUAGE\s+LEVEL\s+STATUS\s+DURATION\s+(?:WAITED\s+)?RESULT\n/,
  );
  assert.match(result.stdout, /Workflow 'hostile' succeeded in /);
  assert.ok(!result.stdout.includes("\x1b["), "no colours when NO_COLOR is set and not a TTY");
});

Deno.test("hwfe run --quiet --json prints only the JSON result", async () => {
  const result = await hwfe(["run", "--quiet", "--json", `${TESTDATA}warn_only.lua`]);
  assert.equal(result.code, 0);
  assert.equal(runJson(result).steps.a.result, 1);
  assert.doesNotMatch(result.stderr, /started|Summary/);
});

Deno.test("a failed run ends with a make-style recap; --quiet still prints each failure", async () => {
  const file = await writeWorkflow("recap", {
    many: {
      language: "lua",
      code: 'function run() error("first\\nsecond\\nthird\\nfourth\\nfifth", 0) end',
    },
    fine: { language: "lua", code: "function run() return 1 end" },
    tolerated: {
      language: "lua",
      continue_on_error: true,
      code: 'function run() error("ignored", 0) end',
    },
  });
  for (const quiet of [false, true]) {
    const result = await hwfe(["run", "--keep-going", ...(quiet ? ["-q"] : []), file]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /\n\*\*\* step 'many' failed: first\n {4}second\n {4}third\n {4}fourth\n {4}\.\.\. \d+ more lines\n\*\*\* step 'tolerated' failed \(continued\): ignored\n/,
    );
    if (quiet) {
      assert.match(
        result.stderr,
        /^✗ many failed in \d+ms(?: \(waited [^)]+\))?: step 'many' \(lua\): first$/m,
      );
      assert.equal(result.stdout, "");
    }
  }
  const ok = await hwfe(["run", "-q", `${TESTDATA}warn_only.lua`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.doesNotMatch(ok.stderr, /\*\*\*/);
});

for (const strategy of STRATEGIES) {
  Deno.test(`Ctrl-C cancels running steps, kills their processes and exits 130 [${strategy}]`, async () => {
    const { file, marker } = await workflowCopy("fail_fast.lua");
    const text = (await Deno.readTextFile(file)).replace('error("boom on purpose")', "return 1");
    await Deno.writeTextFile(file, text);
    const child = spawnHwfe([
      "run",
      "--allow-run",
      "--mode",
      "parallel",
      "--strategy",
      strategy,
      file,
    ]);
    const { rest } = await readUntil(child.stdout, "[slow] started");
    child.kill("SIGINT");
    const status = await child.status;
    await rest.cancel();
    await child.stderr.cancel();
    assert.equal(status.code, 130);
    assert.equal(await processesMatching(`sleep 30.${marker}`), "");
  });
}

Deno.test("one Ctrl-C delivered twice at once (deno task and the terminal) cancels once", async () => {
  const { file } = await workflowCopy("fail_fast.lua");
  const text = (await Deno.readTextFile(file)).replace('error("boom on purpose")', "return 1");
  await Deno.writeTextFile(file, text);
  const child = spawnHwfe(["run", "--allow-run", "--mode", "parallel", file]);
  const { rest } = await readUntil(child.stdout, "[slow] started");
  child.kill("SIGINT");
  child.kill("SIGINT");
  const status = await child.status;
  let stdout = "";
  for (let read = await rest.read(); !read.done; read = await rest.read()) stdout += read.value;
  await child.stderr.cancel();
  assert.equal(status.code, 130);
  // Cancelled, not quit: the run ends with its summary.
  assert.match(stdout, /Workflow 'fail_fast' cancelled in/);
});

Deno.test("every_language: one value through Lua, Python, JS, TS, shell and wasm, unchanged", async () => {
  const result = await hwfe(["run", "--allow-run", "--json", "workflows/every_language.lua"]);
  assert.equal(result.code, 0, result.stderr);
  const run = runJson(result);
  assert.deepEqual(
    Object.values(run.steps).map((s) => s.status),
    Array(7).fill("succeeded"),
  );
  assert.deepEqual(run.steps.check.result, {
    unchanged: true,
    trail: ["lua", "python", "javascript", "typescript"],
    value: {
      id: 9007199254740991,
      name: 'Zoë ✓ "quoted"',
      ratio: 0.125,
      nested: { list: [1, [2, 3], "four"], map: { ok: true, off: false } },
    },
  });
  assert.match(
    result.stderr,
    /^\[check\] unchanged through lua -> python -> javascript -> typescript -> shell -> wasm$/m,
  );
});

Deno.test("Ctrl-C stops a busy Python step and exits 130", async () => {
  const file = await writeWorkflow("spin", {
    spin: {
      code: 'def run():\n    print("spinning", flush=True)\n    while True:\n        pass\n',
    },
  });
  const child = spawnHwfe(["run", file]);
  const { rest } = await readUntil(child.stdout, "[spin] spinning");
  child.kill("SIGINT");
  const status = await child.status;
  const { value } = await rest.read().catch(() => ({ value: "" }));
  await rest.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 130, value);
});

Deno.test("configuration: flag beats environment beats file, each source named", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    `[execution]\nmode = "parallel"\nmax_parallel_steps = 3\n[workflows]\ndirectory = "flows"\n`,
  );
  const fileOnly = await hwfe(["config"], { cwd: dir });
  assert.equal(fileOnly.code, 0, fileOnly.stderr);
  assert.match(fileOnly.stdout, /Configuration file: config\.toml/);
  assert.match(fileOnly.stdout, /execution\.mode\s+parallel\s+\(file config\.toml\)/);
  assert.match(fileOnly.stdout, /execution\.max_parallel_steps\s+3\s+\(file config\.toml\)/);
  assert.match(fileOnly.stdout, /workflows\.directory\s+flows\s+\(file config\.toml\)/);
  assert.match(fileOnly.stdout, /execution\.enable_step_parallelism\s+false\s+\(default\)/);

  const env = { HWFE_EXECUTION_MODE: "sequential", HWFE_MAX_PARALLEL_STEPS: "5" };
  const withEnv = await hwfe(["config"], { cwd: dir, env });
  assert.match(
    withEnv.stdout,
    /execution\.mode\s+sequential\s+\(environment HWFE_EXECUTION_MODE\)/,
  );
  assert.match(withEnv.stdout, /max_parallel_steps\s+5\s+\(environment HWFE_MAX_PARALLEL_STEPS\)/);

  const { file } = await workflowCopy("warn_only.lua");
  const withFlag = await hwfe(["run", "--mode", "parallel", "-j", "2", file], { cwd: dir, env });
  assert.equal(withFlag.code, 0, withFlag.stderr);
  assert.match(withFlag.stderr, /Execution mode: parallel \(up to 2 steps at once\)/);
});

Deno.test("configuration errors name their source and exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const badEnv = await hwfe(["config"], { cwd: dir, env: { HWFE_MAX_PARALLEL_STEPS: "abc" } });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /HWFE_MAX_PARALLEL_STEPS="abc" is not a whole number/);

  await Deno.writeTextFile(`${dir}/config.toml`, `[execution]\nmode = "paralel"\nspeed = 3\n`);
  const badFile = await hwfe(["config"], { cwd: dir });
  assert.equal(badFile.code, 2);
  assert.match(
    badFile.stderr,
    /config\.toml: execution\.mode must be "sequential" or "parallel", got "paralel"/,
  );

  await Deno.writeTextFile(`${dir}/config.toml`, `[execution]\nspeed = 3\n`);
  const unknownKey = await hwfe(["config"], { cwd: dir });
  assert.equal(unknownKey.code, 0);
  assert.match(
    unknownKey.stderr,
    /warning: config\.toml: unknown key 'execution\.speed' is ignored/,
  );

  const missing = await hwfe(["config", "--config", `${dir}/nope.toml`]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.toml: configuration file not found/);

  const badFlag = await hwfe(["run", "-j", "many", DEMO]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /-j\/--max-parallel "many" is not a whole number/);
});

Deno.test("hwfe config reads config.yaml and config.json too", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.yaml`, "execution:\n  max_parallel_steps: 0\n");
  const yaml = await hwfe(["config"], { cwd: dir });
  assert.match(yaml.stdout, /max_parallel_steps\s+0 \(= \d+ CPUs\)\s+\(file config\.yaml\)/);
  await Deno.writeTextFile(`${dir}/config.json`, `{"execution": {"mode": "parallel"}}`);
  const json = await hwfe(["config"], { cwd: dir });
  assert.match(json.stdout, /execution\.mode\s+parallel\s+\(file config\.json\)/);
});

Deno.test("hwfe list shows the workflows in the directory with their descriptions", async () => {
  const result = await hwfe(["list"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^parallel_demo\.lua\s+Demonstrates parallel execution$/m);
});

Deno.test("hwfe with bad usage exits 2; --help and --version exit 0", async () => {
  assert.equal((await hwfe([])).code, 2);
  assert.equal((await hwfe(["frobnicate"])).code, 2);
  assert.equal((await hwfe(["run"])).code, 2);
  const help = await hwfe(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: hwfe/);
  const version = await hwfe(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

for (const entry of Deno.readDirSync(new URL("../workflows/", import.meta.url))) {
  if (!entry.name.endsWith(".lua")) continue;
  Deno.test(`example workflows/${entry.name} runs and succeeds in parallel mode, both strategies`, async () => {
    const file = `workflows/${entry.name}`;
    // An example that needs grants says so in a "-- run with: FLAGS" comment.
    const flags = /^-- run with: (.*)$/m.exec(await Deno.readTextFile(file))?.[1].split(" ") ?? [];
    // Validation needs no grants: it checks the workflow, not the run.
    const valid = await hwfe(["validate", file]);
    assert.equal(valid.code, 0, valid.stderr);
    for (const strategy of STRATEGIES) {
      const result = await hwfe([
        "run",
        "--allow-run",
        ...flags,
        "--json",
        "--mode",
        "parallel",
        "--strategy",
        strategy,
        file,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(runJson(result).status, "succeeded");
      assert.equal(runJson(result).strategy, strategy);
    }
  });
}

Deno.test("hwfe run --help lists every setting's flag with its help, as engine/settings.ts declares it", async () => {
  const help = await hwfe(["run", "--help"], { env: { COLUMNS: "400" } });
  assert.equal(help.code, 0);
  const flat = help.stdout.replace(/\s+/g, " ");
  for (const spec of SETTINGS.filter((spec) => spec.flag)) {
    assert.ok(flat.includes(spec.flag!), `${spec.flag} missing from run --help`);
    assert.ok(flat.includes(spec.doc.slice(0, 30)), `${spec.name}'s help missing`);
  }
});

/**
 * Faults end to end: retries, continue_on_error, the cap on a result's
 * size, large results passing intact, SIGTERM and Ctrl-C, and a step-host
 * process killed from outside.
 */

import assert from "node:assert/strict";
import {
  childrenMatching,
  CLI,
  hwfe,
  outputLines,
  processesInGroup,
  processesMatching,
  readUntil,
  runJson,
  spawnHwfe,
  workflowCopy,
  writeWorkflow,
} from "./_helpers.ts";

Deno.test("retries: each attempt shows in the output and the JSON; continue_on_error runs on", async () => {
  // The counter lives in a granted host directory: every attempt of a Python
  // step starts from a fresh interpreter, in-memory files included.
  const counter = await Deno.makeTempDir({ prefix: "hwfe-attempts-" });
  const file = await writeWorkflow("faults", {
    flaky: {
      code: `import os
def run():
    fresh = not os.path.exists("/tmp/seen")
    open("/tmp/seen", "w").write("x")
    path = ${JSON.stringify(counter + "/attempts")}
    n = int(open(path).read()) if os.path.exists(path) else 0
    open(path, "w").write(str(n + 1))
    if n < 2:
        raise RuntimeError(f"not yet ({n + 1})")
    return n + 1 if fresh else "an earlier attempt's /tmp survived"
`,
      permissions: { read: [counter], write: [counter] },
      retries: 3,
      retry_delay: 0.01,
    },
    broken: {
      language: "lua",
      code: "function run() error('always broken', 0) end",
      retries: 1,
      retry_delay: 0,
      continue_on_error: true,
    },
    uses_both: {
      language: "javascript",
      depends_on: ["flaky", "broken"],
      code: "function run(inputs) {\n  return { flaky: inputs.flaky, broken: inputs.broken };\n}\n",
    },
  });
  const result = await hwfe([
    "run",
    "--json",
    `--allow-read=${counter}`,
    `--allow-write=${counter}`,
    file,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const run = runJson(result);
  assert.equal(run.status, "succeeded");
  const flaky = run.steps.flaky as Record<string, unknown>;
  assert.equal(flaky.result, 3);
  assert.equal(flaky.attempts, 3);
  assert.equal((flaky.attempt_errors as string[]).length, 2);
  assert.match((flaky.attempt_errors as string[])[1], /RuntimeError: not yet \(2\)/);
  const broken = run.steps.broken as Record<string, unknown>;
  assert.equal(broken.status, "failed");
  assert.equal(broken.continue_on_error, true);
  assert.equal(broken.attempts, 2);
  const uses = run.steps.uses_both.result as { flaky: number; broken: Record<string, string> };
  assert.equal(uses.flaky, 3);
  assert.equal(uses.broken.status, "failed");
  assert.match(uses.broken.error, /^step 'broken' \(lua\): always broken/);
  assert.match(result.stderr, /^↻ flaky failed \(attempt 1 of 4\), retrying in \d+ms: /m);
  assert.match(
    result.stderr,
    /^✗ broken failed \(continued\) in \d+ms(?: \(waited [^)]+\))? after 2 attempts: /m,
  );
  assert.match(result.stderr, /broken\s+lua\s+1\s+failed \(continued\)/);
});

Deno.test("--max-result-mb caps a step's result with a clear error; results under it arrive intact", async () => {
  const file = await writeWorkflow("sizes", {
    big: { language: "lua", code: 'function run() return string.rep("x", 2 * 1024 * 1024) end' },
    fits: { language: "lua", code: 'function run() return string.rep("y", 900 * 1024) end' },
  });
  const result = await hwfe(["run", "--json", "--keep-going", "--max-result-mb", "1", file]);
  assert.equal(result.code, 1);
  const run = runJson(result);
  assert.equal(
    run.steps.big.error,
    "step 'big' (lua) returned 2.0 MiB, over the 1.0 MiB limit on a result (raise it with --max-result-mb)",
  );
  assert.equal((run.steps.fits.result as string).length, 900 * 1024);
  const bad = await hwfe(["run", "--max-result-mb", "lots", file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"lots" is not a positive number of MiB/);
});

Deno.test("a 3.6 MB result passes through Python, JavaScript and Lua intact", async () => {
  const file = await writeWorkflow("large", {
    make: {
      code: `def run():
    rows = [{"i": i, "text": "row %d ünï" % i} for i in range(100000)]
    return {"rows": rows}
`,
    },
    js: {
      language: "javascript",
      depends_on: ["make"],
      code:
        "function run(inputs) {\n  return { rows: inputs.make.rows, count: inputs.make.rows.length };\n}\n",
    },
    check: {
      language: "lua",
      depends_on: ["js"],
      code: `function run(inputs)
  local rows = inputs.js.rows
  for i, row in ipairs(rows) do
    assert(row.i == i - 1 and row.text == ("row %d ünï"):format(i - 1), "row " .. i)
  end
  return { count = #rows, declared = inputs.js.count }
end`,
    },
  });
  const result = await hwfe(["run", "--json", file]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(runJson(result).steps.check.result, { count: 100000, declared: 100000 });
});

Deno.test("SIGTERM cancels running steps, shows what finished, kills processes and exits 143", async () => {
  const { file, marker } = await workflowCopy("fail_fast.lua");
  const text = (await Deno.readTextFile(file)).replace('error("boom on purpose")', "return 1");
  await Deno.writeTextFile(file, text);
  const child = spawnHwfe(["run", "--allow-run", "--mode", "parallel", file]);
  const { text: before, rest } = await readUntil(child.stdout, "[slow] started");
  child.kill("SIGTERM");
  const status = await child.status;
  let after = "";
  for (;;) {
    const { value, done } = await rest.read();
    if (done) break;
    after += value;
  }
  await child.stderr.cancel();
  assert.equal(status.code, 143);
  const all = before + after;
  assert.match(all, /slow\s+shell\s+1\s+cancelled/);
  assert.match(all, /Workflow 'fail_fast' cancelled/);
  assert.equal(outputLines(all).slow?.[0], "started");
  assert.equal(await processesMatching(`sleep 30.${marker}`), "");
});

Deno.test("--max-output-mb stops a step that prints forever, in every language", async () => {
  const file = await writeWorkflow("chatty", {
    python: { code: "def run():\n    while True:\n        print('x' * 1000)\n" },
    lua: { language: "lua", code: "function run() while true do print(('z'):rep(1000)) end end" },
    javascript: {
      language: "javascript",
      code: "function run() { for (;;) console.log('j'.repeat(1000)); }",
    },
    shell: { language: "shell", code: "yes 'a line of output that never ends'" },
    wasi: {
      language: "wasm",
      code: `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "wasm line\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 10))
    (loop $l (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (br $l))))`,
    },
    quiet: { language: "lua", code: "function run() return 'fine' end" },
  });
  const result = await hwfe([
    "run",
    "--allow-run",
    "--json",
    "--quiet",
    "--keep-going",
    "--max-output-mb",
    "2",
    file,
  ]);
  assert.equal(result.code, 1);
  const run = runJson(result);
  for (const name of ["python", "lua", "javascript", "shell", "wasi"]) {
    assert.equal(
      run.steps[name].error,
      `step '${name}' wrote more than 2.0 MiB of output and was stopped (raise it with --max-output-mb)`,
    );
  }
  assert.equal(run.steps.quiet.result, "fine");
});

Deno.test("a Python step that exhausts its JavaScript heap fails alone (Python runs isolated)", async () => {
  const file = await writeWorkflow("heap", {
    a_bomb: {
      code:
        "import js\ndef run():\n    keep = []\n    while True:\n        keep.append(js.Array.new(10**6).fill(0))\n",
    },
    b_after: { code: "def run():\n    return 'a fresh interpreter'\n" },
  });
  const result = await hwfe(["run", "--json", "--keep-going", file]);
  assert.equal(result.code, 1, "the run ends normally (with --no-isolate V8 aborts it: 133)");
  const run = runJson(result);
  assert.equal(
    run.steps.a_bomb.error,
    "step 'a_bomb' (python): the python runtime crashed: its process ran out of JavaScript heap (512 MiB)",
  );
  assert.equal(run.steps.b_after.result, "a fresh interpreter");
});

/** A wasm step that prints "looping", then loops for ever (only its process can be stopped). */
const LOOPING_WASM = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "looping\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 8))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop $forever (br $forever))))`;

Deno.test("Ctrl-C to the whole process group cancels a wasm step in its child process, leaving nothing", async () => {
  const file = await writeWorkflow("spin", {
    spin: {
      language: "wasm",
      code: LOOPING_WASM,
    },
  });
  // A terminal's Ctrl-C goes to the foreground process group: hwfe and its children.
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-all",
      "--unstable-worker-options",
      CLI,
      "run",
      file,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The module prints, then loops: its child process is running it.
  const { text, rest } = await readUntil(child.stdout, "[spin] looping");
  Deno.kill(-child.pid, "SIGINT");
  let after = "";
  for (;;) {
    const { value, done } = await rest.read();
    if (done) break;
    after += value;
  }
  await child.stderr.cancel();
  const status = await child.status;
  assert.equal(status.code, 130, text + after);
  assert.match(after, /spin\s+wasm\s+1\s+cancelled/);
  assert.equal(await processesMatching(file), "", "no hwfe process left");
  // Its step children stay in its process group (setsid made it the group's leader); other hwfe
  // runs on the machine have children of their own.
  assert.equal(await processesInGroup(child.pid), "", "no child process left");
});

Deno.test("a step-host process killed from outside fails only its step; later steps get a new one", async () => {
  const file = await writeWorkflow("killed", {
    spin: {
      language: "wasm",
      code: LOOPING_WASM,
    },
    gate: { language: "lua", code: "function run() return 1 end" },
    later: {
      language: "wasm",
      depends_on: ["gate"],
      code: `(module (func (export "run") (result i32) (i32.const 0)))`,
    },
  });
  // One step at a time per runtime: `later` must wait for a wasm host,
  // and gets one only because the killed one is replaced.
  const child = spawnHwfe(["run", "--json", "--keep-going", "--mode", "parallel", "-j", "1", file]);
  const { rest } = await readUntil(child.stderr, "looping");
  // Every wasm step host of this run: the one running `spin` among them.
  const hosts = await childrenMatching(child.pid, "wasm_worker");
  assert.ok(hosts.length > 0, "a wasm step host is running");
  for (const pid of hosts) Deno.kill(pid, "SIGKILL");
  const out = new TextDecoder().decode(await new Response(child.stdout).arrayBuffer());
  while (!(await rest.read()).done) { /* the rest of the progress */ }
  assert.equal((await child.status).code, 1);
  const run = JSON.parse(out);
  assert.equal(run.steps.spin.status, "failed");
  assert.match(run.steps.spin.error, /step 'spin' \(wasm\): .*killed by SIGKILL/);
  assert.equal(run.steps.gate.status, "succeeded", JSON.stringify(run.steps, null, 1));
  assert.equal(run.steps.later.status, "succeeded", JSON.stringify(run.steps.later));
});

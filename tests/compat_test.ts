/**
 * Workflows written for the reference engine (../shared/compat) must run
 * unchanged, each step's result matching the .expect.json beside it. A
 * workflow whose languages hwfe cannot run yet is listed as ignored.
 */

import assert from "node:assert/strict";
import { parseJson } from "../_util/json.ts";
import { runWorkflow } from "../api/run.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import { StepHost } from "../host/pool.ts";
import { createRunners } from "../runners/mod.ts";
import {
  hwfe,
  readUntil,
  ROOT,
  runJson,
  spawnHwfe,
  SUITE_CACHE,
  type TestStep,
  writeWorkflow,
} from "./_helpers.ts";

const COMPAT = new URL("../shared/compat/", ROOT).pathname;

const host = new StepHost(1);
const supported = new Set(createRunners(host).keys());
host.dispose();

let files: string[] = [];
try {
  files = [...Deno.readDirSync(COMPAT)].map((e) => e.name).filter((n) => n.endsWith(".lua")).sort();
} catch {
  Deno.test({ name: `compat corpus at ${COMPAT} is present`, fn: () => assert.fail("missing") });
}

for (const name of files) {
  const file = `${COMPAT}${name}`;
  const { workflow } = await loadWorkflowFile(file);
  const missing = [...new Set([...workflow.steps.values()].map((s) => s.language))]
    .filter((language) => !supported.has(language));
  Deno.test({
    name: `compat: ${name} runs unchanged with the expected results` +
      (missing.length ? ` (waits for ${missing.join(", ")} steps)` : ""),
    ignore: missing.length > 0,
    fn: async () => {
      const expected = JSON.parse(await Deno.readTextFile(file.replace(/\.lua$/, ".expect.json")));
      const result = await hwfe(["run", "--allow-run", "--json", file]);
      assert.equal(result.code, 0, result.stderr);
      const run = runJson(result);
      for (
        const [step, want] of Object.entries(expected as Record<string, Record<string, unknown>>)
      ) {
        const got = run.steps[step].result as Record<string, unknown>;
        for (const key of Object.keys(want)) {
          assert.deepEqual(got[key], want[key], `${step}.${key}`);
        }
      }
    },
  });
}

/** The steps of `workflow` whose language and every dependency can run now. */
function runnableSubset(workflow: Workflow): Workflow {
  const steps = new Map<string, Step>();
  for (let grew = true; grew;) {
    grew = false;
    for (const step of workflow.steps.values()) {
      if (steps.has(step.name) || !supported.has(step.language)) continue;
      if (step.dependsOn.every((dep) => steps.has(dep))) {
        steps.set(step.name, step);
        grew = true;
      }
    }
  }
  return { ...workflow, steps };
}

// Until every language exists, the steps that can run must already match.
for (const name of files) {
  const file = `${COMPAT}${name}`;
  const { workflow } = await loadWorkflowFile(file);
  const subset = runnableSubset(workflow);
  const expected = JSON.parse(await Deno.readTextFile(file.replace(/\.lua$/, ".expect.json")));
  const checked = Object.keys(expected).filter((step) => subset.steps.has(step));
  if (subset.steps.size === workflow.steps.size || checked.length === 0) continue;
  Deno.test(`compat: ${name} steps ${checked.join(", ")} already match the reference`, async () => {
    const result = await runWorkflow(subset, { grants: { run: true }, cacheDir: SUITE_CACHE });
    for (const step of checked) {
      const report = result.steps.find((s) => s.name === step)!;
      assert.equal(report.status, "succeeded", report.error);
      const got = parseJson(report.result!) as Record<string, unknown>;
      for (const key of Object.keys(expected[step])) {
        assert.deepEqual(got[key], expected[step][key], `${step}.${key}`);
      }
    }
  });
}

Deno.test("a reader that goes away (hwfe config | head -3, hwfe run | head -1) ends hwfe quietly with status 0", async () => {
  const file = await writeWorkflow("chatty", {
    chatty: {
      language: "lua",
      code: 'function run() for i = 1, 20000 do print("line " .. i) end return 1 end',
    },
  });
  for (
    const [args, needle] of [[["config"], "execution.mode"], [["run", file], "line 1"]] as const
  ) {
    const child = spawnHwfe([...args]);
    const { rest } = await readUntil(child.stdout, needle);
    await rest.cancel(); // the pipe's read end closes, as head's does when it exits
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 0, `${args[0]}: ${stderr}`);
    assert.doesNotMatch(stderr, /internal error|BrokenPipe/, args[0]);
  }
});

Deno.test("as in the reference engine: inputs is a global in JavaScript and Python before the code runs, and outputResult gives a JavaScript step's result", async () => {
  const file = await writeWorkflow("globals", {
    a: { language: "lua", code: "function run() return { v = 7 } end" },
    js_global: {
      language: "javascript",
      depends_on: ["a"],
      code: "const v = inputs.a.v;\nfunction run() { return { v, again: inputs.a.v }; }\n",
    },
    js_output: {
      language: "javascript",
      depends_on: ["a"],
      code: "outputResult({ doubled: inputs.a.v * 2 });\n",
    },
    js_output_in_run: {
      language: "javascript",
      depends_on: ["a"],
      code: "function run() { outputResult({ from: 'run' }); }\n",
    },
    ts_global: {
      language: "typescript",
      depends_on: ["a"],
      code:
        "declare const inputs: { a: { v: number } };\nfunction run(): number { return inputs.a.v + 1; }\n",
    },
    py_module: {
      depends_on: ["a"],
      code: "V = inputs['a']['v']\ndef run():\n    return V * 3\n",
    },
  });
  const result = await hwfe(["run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.js_global.result, { v: 7, again: 7 });
  assert.deepEqual(run.steps.js_output.result, { doubled: 14 });
  assert.deepEqual(run.steps.js_output_in_run.result, { from: "run" });
  assert.deepEqual(run.steps.ts_global.result, { value: 8 });
  assert.equal(run.steps.py_module.result, 21);
});

Deno.test("parse_input of a step that is not a direct dependency reads as empty, as in the reference engine, with a warning naming the dependencies", async () => {
  const file = await writeWorkflow("parse", {
    a: { language: "lua", code: "function run() return { v = 1 } end" },
    b: { language: "lua", code: "function run() return 2 end" },
    sh: {
      language: "shell",
      depends_on: ["a"],
      code: 'x="$(parse_input b)"\necho "{\\"x\\": \\"$x\\", \\"a\\": $(parse_input a)}"\n',
    },
  });
  const result = await hwfe(["run", "--allow-run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.sh.result, { x: "", a: { v: 1 } });
  assert.match(
    result.stderr,
    /\[sh\] warning: parse_input: 'b' is not a direct dependency of this step, so it reads as empty \(direct dependencies: a\)/,
  );
});

Deno.test("a workflow named without a path is also found in workflows/examples, templates and tests, as in the reference engine", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-test-" });
  for (const [folder, name] of [["examples", "ex"], ["templates", "tpl"], ["tests", "tst"]]) {
    await Deno.mkdir(`${dir}/workflows/${folder}`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/workflows/${folder}/${name}.lua`,
      `workflow = { name = "${name}", steps = { s = { code = "function run() return '${folder}' end" } } }`,
    );
  }
  for (const [name, folder] of [["ex", "examples"], ["tpl.lua", "templates"], ["tst", "tests"]]) {
    const run = runJson(await hwfe(["run", "--json", name], { cwd: dir }));
    assert.equal(run.steps.s.result, folder, name);
  }
  const missing = await hwfe(["run", "nowhere"], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /or its examples, templates and tests folders/);
});

Deno.test(".env in the working directory gives HWFE_* settings, as in the reference engine; the environment wins and nothing else in it reaches a step", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-test-" });
  await Deno.writeTextFile(
    `${dir}/.env`,
    "# settings\nHWFE_EXECUTION_MODE=parallel\nexport HWFE_MAX_PARALLEL_STEPS=3\nSECRET_TOKEN='from .env'\n",
  );
  await Deno.writeTextFile(
    `${dir}/w.lua`,
    `workflow = { name = "w", steps = { sh = { language = "shell", code = [[echo "{\\"token\\": \\"\${SECRET_TOKEN:-none}\\"}"]] } } }`,
  );
  const config = await hwfe(["config"], { cwd: dir });
  assert.match(config.stdout, /execution\.mode\s+parallel\s+\(\.env HWFE_EXECUTION_MODE\)/);
  assert.match(
    config.stdout,
    /execution\.max_parallel_steps\s+3\s+\(\.env HWFE_MAX_PARALLEL_STEPS\)/,
  );
  const overridden = await hwfe(["config"], {
    cwd: dir,
    env: { HWFE_EXECUTION_MODE: "sequential" },
  });
  assert.match(
    overridden.stdout,
    /execution\.mode\s+sequential\s+\(environment HWFE_EXECUTION_MODE\)/,
  );
  const run = runJson(await hwfe(["run", "--allow-run", "--json", "w.lua"], { cwd: dir }));
  assert.equal(run.mode, "parallel");
  assert.equal((run as unknown as { max_parallel_steps: number }).max_parallel_steps, 3);
  assert.deepEqual(run.steps.sh.result, { token: "none" });
  await Deno.writeTextFile(`${dir}/.env`, "HWFE_MAX_PARALLEL_STEPS=lots\n");
  const bad = await hwfe(["config"], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /\.env: HWFE_MAX_PARALLEL_STEPS="lots" is not a whole number/);
});

Deno.test("a Python nan or inf in a result becomes null with one warning line, as JSON.stringify does", async () => {
  const file = await writeWorkflow("nan", {
    p: {
      code: "def run():\n    return {'a': float('nan'), 'b': [1.5, float('inf'), -float('inf')]}\n",
    },
  });
  const result = await hwfe(["run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.p.result, { a: null, b: [1.5, null, null] });
  const warnings = result.stderr.split("\n").filter((line) => line.includes("warning:"));
  assert.deepEqual(warnings, [
    "[p] warning: the result held the float nan at result['a'] and 2 more, which JSON cannot hold: returned as null",
  ]);
});

Deno.test('a shell step\'s result is a stdout line that is a JSON object, as in the reference engine; result = "json" takes any JSON', async () => {
  const file = await writeWorkflow("shell_results", {
    number: { language: "shell", code: "echo 42" },
    // result = "json": the whole stdout as any JSON value.
    list: { language: "shell", result: "json", code: "echo '[1,2]'" },
    pretty: { language: "shell", code: "echo log; printf '{\\n  \"a\": 1\\n}\\n'" },
    object: { language: "shell", code: "echo starting; echo '{\"a\": 1}'" },
    reads: {
      language: "shell",
      depends_on: ["number"],
      code: 'echo "{\\"from\\": $(parse_input number)}"',
    },
  });
  const result = await hwfe(["run", "--allow-run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.number.result, { stdout: "42", stderr: "", exit_code: 0 });
  assert.deepEqual(run.steps.list.result, [1, 2]);
  assert.deepEqual(run.steps.pretty.result, {
    stdout: 'log\n{\n  "a": 1\n}',
    stderr: "",
    exit_code: 0,
  });
  assert.deepEqual(run.steps.object.result, { a: 1 });
  assert.deepEqual(run.steps.reads.result, { from: { stdout: "42", stderr: "", exit_code: 0 } });
  const bad = await writeWorkflow("bad_result", {
    s: { language: "lua", result: "json", code: "function run() end" },
  });
  const refused = await hwfe(["validate", bad]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /result applies to shell, javascript, typescript steps only; this one is lua/,
  );
});

Deno.test("Lua results as the reference engine makes them: sparse arrays keep their holes, 0/0 and math.huge become null with a warning", async () => {
  const file = await writeWorkflow("lua_results", {
    l: {
      language: "lua",
      code:
        'function run() return { sparse = { [1] = "a", [3] = "c" }, nan = 0/0, huge = math.huge } end',
    },
  });
  const result = await hwfe(["run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.l.result, { sparse: ["a", null, "c"], nan: null, huge: null });
  assert.match(
    result.stderr,
    /\[l\] warning: the result held the number .* and 1 more, which JSON cannot hold: returned as null/,
  );
});

Deno.test("hwfe FILE.lua runs the workflow, as the reference engine's command line does", async () => {
  const file = await writeWorkflow("short", {
    s: { language: "lua", code: "function run() return 5 end" },
  });
  const result = await hwfe([file, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(runJson(result).steps.s.result, 5);
  const typo = await hwfe(["rnu", file]);
  assert.equal(typo.code, 2);
  // The flags a refused run suggests keep the shorthand working.
  const shell = await writeWorkflow("short_shell", { s: { language: "shell", code: "echo '{}'" } });
  const refused = await hwfe([shell]);
  assert.equal(refused.code, 2);
  const rerun = refused.stderr.match(/rerun as: hwfe (.*)$/m)?.[1];
  assert.equal(rerun, `${shell} --allow-run`);
  assert.equal((await hwfe([shell, "--allow-run"])).code, 0);
});

Deno.test('JavaScript results as the reference engine makes them: JSON.stringify\'s conversion with one warning, a primitive as {"value": x}, nothing as {}', async () => {
  const js = (code: string, extra: Partial<TestStep> = {}): TestStep => ({
    language: "javascript",
    code,
    ...extra,
  });
  const file = await writeWorkflow("js_results", {
    number: js("function run() { return 42; }"),
    text: js("function run() { return 'hi'; }"),
    no: js("function run() { return false; }"),
    nothing: js("function run() { return; }"),
    null_: js("function run() { return null; }"),
    output: js("outputResult(5);"),
    list: js("function run() { return [1, undefined, () => 1, NaN]; }"),
    object: js(
      "function run() { return { a: NaN, b: -Infinity, u: undefined, f() {}, s: new Set([1]), m: new Map(), d: new Date(0) }; }",
    ),
    typed: { language: "typescript", code: "function run(): number { return 8; }" },
    raw: js("function run() { return 42; }", { result: "json" }),
    reads: js("function run(inputs) { return inputs.number.value + 1; }", {
      depends_on: ["number"],
      result: "json",
    }),
    big: js("function run() { return { b: 10n }; }", { continue_on_error: true }),
    cycle: js("function run() { const a = {}; a.self = a; return a; }", {
      continue_on_error: true,
    }),
  });
  const result = await hwfe(["run", "--json", file]);
  const run = runJson(result);
  const results = Object.fromEntries(
    Object.entries(run.steps).map(([name, step]) => [name, step.result]),
  );
  assert.deepEqual(results, {
    number: { value: 42 },
    text: { value: "hi" },
    no: { value: false },
    nothing: {},
    null_: {},
    output: { value: 5 },
    list: [1, null, null, null],
    object: { a: null, b: null, s: {}, m: {}, d: "1970-01-01T00:00:00.000Z" },
    typed: { value: 8 },
    raw: 42,
    reads: 43,
    big: undefined,
    cycle: undefined,
  });
  assert.match(run.steps.big.error ?? "", /a BigInt \(10n\) at result\.b/);
  assert.match(run.steps.cycle.error ?? "", /a value that contains itself at result\.self/);
  const warnings = result.stderr.split("\n").filter((line) => line.includes("warning:"));
  assert.deepEqual(warnings, [
    "[list] warning: the result held a function at result[2] (now null) and 1 more, which JSON cannot hold: converted as JSON.stringify does",
    "[object] warning: the result held the number NaN at result.a (now null) and 3 more, which JSON cannot hold: converted as JSON.stringify does",
  ]);
});

Deno.test("floats stay floats through every language, as serde_json keeps them: Python 10/5 and Lua 6/2 reach dependents as 2.0 and 3.0", async () => {
  const file = await writeWorkflow("floats", {
    py: { code: "def run():\n    return {'q': 10/5, 'f': 3.0, 'i': 3, 'big': 2**64}\n" },
    lua: { language: "lua", code: "function run() return { q = 6/2, i = 6//2, e = 1e3 } end" },
    py_sees: {
      depends_on: ["py", "lua"],
      code: "def run(inputs):\n" +
        "    py, lua = inputs['py'], inputs['lua']\n" +
        "    return {'text': f\"{py['q']} {py['f']} {py['i']} {lua['q']} {lua['i']} {lua['e']}\",\n" +
        "            'types': [type(v).__name__ for v in (py['q'], py['i'], lua['q'], lua['i'])]}\n",
    },
    lua_sees: {
      language: "lua",
      depends_on: ["py", "lua"],
      code: "function run(inputs)\n" +
        "  return { types = { math.type(inputs.py.q), math.type(inputs.py.i), math.type(inputs.lua.q) } }\n" +
        "end",
    },
    shell_sees: {
      language: "shell",
      depends_on: ["py", "lua"],
      code: 'echo "{\\"py\\": $(parse_input py), \\"lua\\": $(parse_input lua)}"',
    },
  });
  const result = await hwfe(["run", "--allow-run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.py_sees.result, {
    text: "2.0 3.0 3 3.0 3 1000.0",
    types: ["float", "int", "float", "int"],
  });
  assert.deepEqual(run.steps.lua_sees.result, { types: ["float", "integer", "float"] });
  // The --json text itself keeps them, big integers exact beside them.
  const py = '{"q":2.0,"f":3.0,"i":3,"big":18446744073709551616}';
  const lua = '{"e":1000.0,"i":3,"q":3.0}';
  const compact = result.stdout.replace(/\s+/g, "");
  assert.ok(compact.includes(`"result":${py}`), result.stdout);
  assert.ok(compact.includes(`"result":${lua}`), result.stdout);
  assert.ok(compact.includes(`"result":{"py":${py},"lua":${lua}}`), result.stdout);
});

Deno.test("a wasm status code's result carries input_summary and processed_data, as in the reference engine", async () => {
  const wat = (code: number) => `(module (func (export "run") (result i32) (i32.const ${code})))`;
  const py = (value: string): TestStep => ({ code: `def run():\n    return ${value}\n` });
  const file = await writeWorkflow("wasm_status", {
    arr: { language: "lua", code: "function run() return { 1, 2, 3 } end" },
    obj: { language: "lua", code: "function run() return { n = 3, m = 4 } end" },
    str: py("'é'"),
    num: py("2.0"),
    yes: py("True"),
    none: py("None"),
    ok: { language: "wasm", code: wat(0), depends_on: ["arr", "obj", "str", "num", "yes", "none"] },
    warned: { language: "wasm", code: wat(4) },
  });
  const result = await hwfe(["run", "--json", file]);
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  type Status = {
    wasm_execution: { status: string };
    input_summary?: Record<string, string>;
    processed_data: { timestamp: string } & Record<string, unknown>;
  };
  const ok = run.steps.ok.result as Status;
  assert.equal(ok.wasm_execution.status, "success");
  assert.deepEqual(ok.input_summary, {
    arr: "array[3]",
    none: "null",
    num: "number[2.0]",
    obj: "object[2]",
    str: "string[2]",
    yes: "bool[true]",
  });
  const { timestamp, ...done } = ok.processed_data;
  assert.ok(!Number.isNaN(Date.parse(timestamp)), timestamp);
  assert.deepEqual(done, { success: true, message: "WASM processing completed successfully" });
  const warned = run.steps.warned.result as Status;
  assert.equal(warned.wasm_execution.status, "error");
  assert.equal(warned.input_summary, undefined, "no inputs, no summary");
  const { timestamp: _, ...warning } = warned.processed_data;
  assert.deepEqual(warning, {
    warning: true,
    message: "WASM processing completed with warning code 4",
  });
});

Deno.test("a shell step reads inputs over 128 KiB with parse_input, through INPUT_<STEP>_FILE, and the file is gone after the step", async () => {
  const file = await writeWorkflow("large_inputs", {
    big: { code: "def run():\n    return {'text': 'é' * 200000}\n" },
    small: { code: "def run():\n    return {'n': 1}\n" },
    reads: {
      language: "shell",
      depends_on: ["big", "small"],
      code: [
        "text=$(parse_input big)",
        'echo "$INPUT_BIG_FILE" > "$HWFE_TEST_OUT"',
        'echo "{\\"bytes\\": ${#text}, \\"env\\": ${#INPUT_BIG}, \\"small\\": $INPUT_SMALL, \\"ninth\\": \\"${text:9:1}\\"}"',
      ].join("\n"),
    },
  });
  const out = await Deno.makeTempFile();
  const result = await hwfe(["run", "--allow-run", "--json", file], {
    env: { HWFE_TEST_OUT: out, LC_ALL: "C.UTF-8" },
  });
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.reads.result, {
    bytes: 200000 + '{"text":""}'.length,
    env: 0,
    small: { n: 1 },
    ninth: "é",
  });
  const path = (await Deno.readTextFile(out)).trim();
  assert.match(path, /hwfe-inputs-.*\/INPUT_BIG\.json$/);
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
});

Deno.test('on_failure: "cancel" (the default) cancels the level\'s running steps, "finish_level" lets them finish then stops, "keep_going" goes on; from config, environment or flag', async () => {
  // "slow" waits for a file named go in the working directory: without it,
  // it is still running when "bad" fails, whatever the machine's speed.
  const file = await writeWorkflow("on_failure", {
    bad: { language: "lua", code: "function run() error('boom') end" },
    slow: {
      language: "shell",
      timeout: 60,
      code: "while [ ! -e go ]; do sleep 0.05; done\necho '{\"done\": true}'",
    },
    later: { language: "lua", depends_on: ["slow"], code: "function run() return {} end" },
  });
  const dir = file.slice(0, file.lastIndexOf("/"));
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await hwfe(
      ["run", "--allow-run", "--json", "--mode", "parallel", ...args, file],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(result.code, 1, result.stderr);
    const steps = runJson(result).steps;
    return [steps.bad.status, steps.slow.status, steps.later.status, steps.later.error];
  };
  assert.deepEqual(await run([]), [
    "failed",
    "cancelled",
    "skipped",
    "dependency 'slow' cancelled",
  ]);
  await Deno.writeTextFile(`${dir}/go`, "");
  await Deno.writeTextFile(`${dir}/config.toml`, '[execution]\non_failure = "finish_level"\n');
  const finished = ["failed", "succeeded", "skipped", "the run stopped after a failure"];
  assert.deepEqual(await run([]), finished);
  const kept = ["failed", "succeeded", "succeeded", undefined];
  assert.deepEqual(await run([], { HWFE_ON_FAILURE: "keep_going" }), kept);
  assert.deepEqual(await run(["-k"]), kept);
  assert.deepEqual(
    await run(["--on-failure", "finish_level"], { HWFE_ON_FAILURE: "keep_going" }),
    finished,
  );
  const config = await hwfe(["config"], { cwd: dir, env: { HWFE_ON_FAILURE: "keep_going" } });
  assert.match(
    config.stdout,
    /execution\.on_failure\s+keep_going\s+\(environment HWFE_ON_FAILURE\)/,
  );
  const bad = await hwfe(["run", file], { cwd: dir, env: { HWFE_ON_FAILURE: "stop" } });
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /HWFE_ON_FAILURE must be "cancel", "finish_level" or "keep_going", got "stop"/,
  );
  const both = await hwfe(["run", "-k", "--on-failure", "cancel", file], { cwd: dir });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /-k\/--keep-going and --on-failure cancel disagree/);
});

Deno.test("hwfe run --all runs every workflow of the workflows directory with one line each, as the reference engine does with no argument", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-all-" });
  await Deno.mkdir(`${dir}/workflows`);
  const write = (name: string, steps: string) =>
    Deno.writeTextFile(
      `${dir}/workflows/${name}`,
      `workflow = { name = "${name}", steps = { ${steps} } }\n`,
    );
  await write("a_good.lua", 'a = { code = "function run() return { n = 6 / 2 } end" }');
  await write("b_failing.lua", "a = { code = \"function run() error('boom', 0) end\" }");
  await write("c_shell.lua", 'a = { language = "shell", code = "echo hi" }');
  await Deno.writeTextFile(`${dir}/workflows/d_broken.lua`, "workflow = {");
  await write("e_last.lua", 'a = { code = "function run() return {} end" }');
  const result = await hwfe(["run", "--all"], { cwd: dir });
  assert.equal(result.code, 2, "a workflow that cannot run is bad input");
  const lines = result.stdout.trim().split("\n");
  assert.match(lines[0], /^✓ a_good\.lua\s+succeeded in \S+ \(1 step\)$/);
  assert.match(lines[1], /^✗ b_failing\.lua\s+failed in \S+: step 'a' \(lua\): boom$/);
  assert.match(lines[2], /^✗ c_shell\.lua\s+refused: step 'a' \(shell\) needs --allow-run$/);
  assert.match(lines[3], /^✗ d_broken\.lua\s+invalid: .*d_broken\.lua: Lua syntax error/);
  assert.match(lines[4], /^✓ e_last\.lua\s+succeeded in/, "a failure does not stop the others");
  assert.equal(lines.at(-1), "5 workflows: 2 succeeded, 1 failed, 2 not run");

  const granted = await hwfe(["run", "--all", "--allow-run", "--json"], { cwd: dir });
  const outcomes = JSON.parse(granted.stdout) as { file: string; status: string }[];
  // Each run as run --json writes it, floats kept: the text is not parsed and written again.
  assert.ok(granted.stdout.replace(/\s+/g, "").includes('"result":{"n":3.0}'), granted.stdout);
  assert.deepEqual(outcomes.map((o) => o.status), [
    "succeeded",
    "failed",
    "succeeded",
    "invalid",
    "succeeded",
  ]);
  assert.equal(granted.code, 2);

  const both = await hwfe(["run", "--all", "x.lua"], { cwd: dir });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give a workflow or --all, not both/);
  const neither = await hwfe(["run"], { cwd: dir });
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /which workflow\?.*or --all for every one/);
});

Deno.test("the summary shows each step's result shortened to one line, as the reference engine printed them", async () => {
  const file = await writeWorkflow("summary_results", {
    short: { language: "lua", code: "function run() return { n = 1 } end" },
    long: { language: "lua", code: "function run() return { text = string.rep('x', 500) } end" },
    bad: { language: "lua", depends_on: ["short"], code: "function run() error('no') end" },
  });
  const result = await hwfe(["run", file]);
  const rows = result.stdout.split("\n");
  const row = (step: string) => rows.find((line) => line.startsWith(`  ${step} `)) ?? "";
  assert.match(row("short"), /succeeded .*\s\{"n":1\}$/);
  assert.match(row("long"), /\{"text":"x+…$/);
  assert.ok(row("long").length <= 100, `${row("long").length} characters`);
  assert.match(row("bad"), /failed .*\s-$/);
});

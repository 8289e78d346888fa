/**
 * WebAssembly steps end to end through the real CLI. The modules are built
 * at test time from the WebAssembly text in testdata/wasm (no committed
 * binaries).
 */

import assert from "node:assert/strict";
import wabtInit from "../_util/npm/wabt.ts";
import { hwfe, outputLines, ROOT, runJson, TESTDATA } from "./_helpers.ts";

const wabt = await wabtInit();

/** Builds testdata/wasm/<name>.wat into `dir`/<name>.wasm. */
async function build(name: string, dir: string): Promise<void> {
  const text = await Deno.readTextFile(`${TESTDATA}wasm/${name}.wat`);
  const parsed = wabt.parseWat(`${name}.wat`, text);
  try {
    await Deno.writeFile(`${dir}/${name}.wasm`, parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

async function fixture(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-wasm-" });
  for (const name of ["status", "sum_json", "wasi_echo"]) await build(name, dir);
  return dir;
}

async function runWorkflow(dir: string, name: string, lua: string, ...flags: string[]) {
  const file = `${dir}/${name}.lua`;
  await Deno.writeTextFile(file, lua);
  const result = await hwfe(["run", "--json", ...flags, file]);
  return { result, run: runJson(result), lines: outputLines(result.stderr) };
}

Deno.test("wasm: the three calling conventions, modules found next to the workflow file", async () => {
  const dir = await fixture();
  const { result, run, lines } = await runWorkflow(
    dir,
    "conventions",
    `workflow = { name = "conventions", steps = {
  seed = { code = "function run() return { values = { 1, 2, 3 }, label = 'é' } end" },
  status = { language = "wasm", module = "status.wasm", depends_on = { "seed" } },
  warning = { language = "webassembly", module = "status.wasm", ["function"] = "check" },
  json = { language = "wasm", module = "sum_json.wasm", depends_on = { "seed" } },
  wasi = { language = "wasm", module = "wasi_echo.wasm", depends_on = { "seed" } },
} }
`,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    (run.steps.status.result as { wasm_execution: unknown }).wasm_execution,
    {
      module: "status.wasm",
      function: "run",
      return_code: 0,
      status: "success",
      input_count: 1,
    },
  );
  assert.deepEqual(
    (run.steps.warning.result as { wasm_execution: unknown }).wasm_execution,
    { module: "status.wasm", function: "check", return_code: 3, status: "error", input_count: 0 },
  );
  const inputs = '{"seed":{"label":"é","values":[1,2,3]}}';
  assert.deepEqual(run.steps.json.result, { bytes: new TextEncoder().encode(inputs).length });
  assert.deepEqual(run.steps.wasi.result, {
    echo: { seed: { label: "é", values: [1, 2, 3] } },
    isolated: true,
  });
  assert.equal(lines.wasi?.length, 1, "WASI stdout is the step's output");
});

Deno.test("wasm: a module path falls back to the working directory when the step may read it there", async () => {
  const modules = await fixture();
  const elsewhere = await Deno.makeTempDir({ prefix: "hwfe-wasm-flow-" });
  const file = `${elsewhere}/flow.lua`;
  const flow = (permissions: string) =>
    `workflow = { name = "cwd", steps = { s = { language = "wasm", module = "status.wasm"${permissions} } } }\n`;
  await Deno.writeTextFile(file, flow(""));
  const refused = await hwfe(["run", file], { cwd: modules });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    new RegExp(
      `step 's' failed: module 'status\\.wasm' not found \\(looked for ${elsewhere}/status\\.wasm\\); ` +
        `${modules}/status\\.wasm lies outside the workflow's directory`,
    ),
  );
  await Deno.writeTextFile(file, flow(`, permissions = { read = { "status.wasm" } }`));
  const result = await hwfe(["run", "--json", "--allow-read=status.wasm", file], { cwd: modules });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    (runJson(result).steps.s.result as { wasm_execution: { status: string } }).wasm_execution
      .status,
    "success",
  );
});

Deno.test("wasm: bad modules, exports, codes, traps and WASI exits fail with clear messages", async () => {
  const dir = await fixture();
  await Deno.writeTextFile(`${dir}/text.wasm`, "this is not wasm");
  const { result, run } = await runWorkflow(
    dir,
    "errors",
    `workflow = { name = "errors", steps = {
  missing = { language = "wasm", module = "nope.wasm" },
  not_wasm = { language = "wasm", module = "text.wasm" },
  no_export = { language = "wasm", module = "status.wasm", func = "absent" },
  bad_code = { language = "wasm", module = "status.wasm", func = "broken" },
  trap = { language = "wasm", module = "status.wasm", func = "crash" },
  params = { language = "wasm", module = "status.wasm", func = "two" },
  wasi_exit = { language = "wasm", module = "wasi_echo.wasm", depends_on = { "fail_seed" } },
  fail_seed = { code = "function run() return 'fail' end" },
  imports = { language = "wasm", code = '(module (import "env" "f" (func)) (func (export "run") (result i32) (i32.const 0)))' },
  -- WebAssembly text that does not parse is refused before the run: tests/mistakes_test.ts.
} }
`,
    "--keep-going",
  );
  assert.equal(result.code, 1);
  const e = Object.fromEntries(Object.entries(run.steps).map(([k, v]) => [k, v.error]));
  assert.equal(
    e.missing,
    `step 'missing' (wasm): module 'nope.wasm' not found (looked for ${dir}/nope.wasm); ` +
      `${ROOT.pathname}nope.wasm lies outside the workflow's directory (${dir}), so hwfe did not ` +
      `look there (declare it in the step's permissions.read and grant it)`,
  );
  assert.equal(
    e.not_wasm,
    `step 'not_wasm' (wasm): module 'text.wasm' (${dir}/text.wasm) is not a WebAssembly module ` +
      "(a .wasm file starts with \\0asm)",
  );
  assert.equal(
    e.no_export,
    "step 'no_export' (wasm): status.wasm has no export 'absent'; it exports: run (function), " +
      "check (function), broken (function), crash (function), spin (function), two (function)",
  );
  assert.equal(
    e.bad_code,
    "step 'bad_code' (wasm): export 'broken' returned code 99 " +
      "(0 is success, 1-10 a warning, anything else a failure)",
  );
  assert.equal(e.trap, "step 'trap' (wasm): status.wasm trapped: unreachable");
  assert.match(e.params!, /^step 'params' \(wasm\): export 'two' takes 2 parameters; /);
  assert.equal(
    e.wasi_exit,
    "step 'wasi_exit' (wasm): wasi_echo.wasm exited with code 2: refusing to work",
  );
  assert.match(e.imports!, /imports env\.f; hwfe provides only WASI preview 1/);
});

Deno.test("wasm: a module stuck in a loop times out and the rest of the run goes on", async () => {
  const dir = await fixture();
  const { result, run } = await runWorkflow(
    dir,
    "loop",
    `workflow = { name = "loop", steps = {
  spin = { language = "wasm", module = "status.wasm", func = "spin", timeout = 0.5 },
  next = { language = "wasm", module = "status.wasm" },
  lua = { code = "function run() return 'lua still runs' end" },
} }
`,
    "--keep-going",
    "--mode",
    "parallel",
  );
  assert.equal(result.code, 1);
  assert.equal(run.steps.spin.error, "step 'spin' timed out after 0.5s");
  assert.equal(run.steps.next.status, "succeeded");
  assert.equal(run.steps.lua.result, "lua still runs");
});

Deno.test("docs/WASM.md shows each tested module in full", async () => {
  const docs = await Deno.readTextFile(new URL("docs/WASM.md", ROOT));
  for (const name of ["status", "sum_json", "wasi_echo"]) {
    const source = (await Deno.readTextFile(`${TESTDATA}wasm/${name}.wat`)).trimEnd();
    assert.ok(docs.includes("```wat\n" + source + "\n```"), `${name}.wat is in the docs verbatim`);
  }
});

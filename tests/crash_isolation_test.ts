/**
 * Crash isolation of the runtimes that run inside hwfe's process (Lua,
 * JavaScript and TypeScript in workers) and of wasm (in step children),
 * attacked as a hostile step author would: memory bombs, runaway recursion,
 * interrupts caught and ignored, calls that cannot be interrupted, floods
 * of output and oversized results.
 *
 * Each attack runs in a workflow of its own beside a well-behaved step of
 * the same language (`good`) and a step that depends on that one (`after`),
 * in parallel mode with --keep-going. The requirement: the hostile step
 * fails alone, with a message naming it; `good` and `after` succeed; hwfe
 * ends normally with the exit code of a failed step (1), without a V8
 * abort or a stack trace. Attacks whose runtime cannot be reused afterwards
 * (a worker dropped or retired, a child process that died) also run with
 * `-j 1`, where `after` can only run on a replacement.
 */

import assert from "node:assert/strict";
import {
  childrenMatching,
  hwfe,
  readUntil,
  runJson,
  spawnHwfe,
  type TestStep,
  writeWorkflow,
} from "./_helpers.ts";

type Language = "lua" | "javascript" | "typescript" | "wasm";

/** The well-behaved step and its dependent, per language. */
const NEIGHBOURS: Record<Language, { good: string; after: string }> = {
  lua: {
    good: 'function run() return { ok = "good" } end',
    after: "function run(inputs) return { after = inputs.good.ok } end",
  },
  javascript: {
    good: 'function run() { return { ok: "good" }; }',
    after: "function run(inputs) { return { after: inputs.good.ok }; }",
  },
  typescript: {
    good: 'function run(): { ok: string } { return { ok: "good" }; }',
    after:
      "function run(inputs: { good: { ok: string } }): { after: string } {\n  return { after: inputs.good.ok };\n}",
  },
  wasm: {
    good: '(module (func (export "run") (result i32) (i32.const 0)))',
    after: '(module (func (export "run") (result i32) (i32.const 0)))',
  },
};

/** What hwfe prints when V8 or Deno brings the whole process down. */
const PROCESS_CRASH =
  /Fatal (process|JavaScript)|out of memory: Zone|panicked|error: Uncaught|C stack trace/;

/**
 * Runs `bad` (hostile) beside `good` and `after` and checks that only `bad`
 * failed, with an error matching `expected` after `step 'bad' `.
 */
async function attack(
  language: Language,
  bad: Omit<TestStep, "language">,
  expected: RegExp,
  ...flags: string[]
): Promise<void> {
  const file = await writeWorkflow(`attack_${language}`, {
    bad: { language, ...bad },
    good: { language, code: NEIGHBOURS[language].good },
    after: { language, depends_on: ["good"], code: NEIGHBOURS[language].after },
  });
  const result = await hwfe([
    "run",
    "--json",
    "--quiet",
    "--mode",
    "parallel",
    "--keep-going",
    ...flags,
    file,
  ]);
  const context = `flags: ${flags.join(" ")}\nstderr:\n${result.stderr.slice(0, 4000)}`;
  assert.doesNotMatch(result.stderr, PROCESS_CRASH, context);
  assert.doesNotMatch(result.stderr, /Cannot enlarge memory/, "no line from the runtime's glue");
  assert.equal(result.code, 1, context);
  const { steps } = runJson(result);
  assert.equal(steps.bad.status, "failed", context);
  const error = steps.bad.error ?? "";
  assert.ok(error.startsWith("step 'bad' "), `the error names the step: ${error.slice(0, 300)}`);
  assert.match(error.slice("step 'bad' ".length), expected, context);
  assert.match(result.stderr, /\*\*\* step 'bad' failed/, "the recap names the step");
  assert.equal(steps.good.status, "succeeded", context);
  assert.equal(steps.after.status, "succeeded", context);
  if (language === "wasm") {
    const after = steps.after.result as { wasm_execution: { status: string; input_count: number } };
    assert.equal(after.wasm_execution.status, "success");
    assert.equal(after.wasm_execution.input_count, 1);
  } else {
    assert.deepEqual(steps.good.result, { ok: "good" });
    assert.deepEqual(steps.after.result, { after: "good" });
  }
}

const OUT_OF_MEMORY = (language: string, mb: number) =>
  new RegExp(
    `^\\(${language}\\): (InternalError: )?out of memory \\(the step's limit is ${mb} MiB`,
  );
const TIMED_OUT = /^timed out after 1s$/;
const TOO_MUCH_OUTPUT = /^wrote more than 1\.0 MiB of output and was stopped/;
const TOO_LARGE = /^\(\w+\) returned [\d.]+ MiB, over the 1\.0 MiB limit on a result/;

Deno.test("Lua: memory bombs and runaway recursion fail alone", async () => {
  // A table that grows until the limit.
  await attack(
    "lua",
    {
      memory_mb: 32,
      code:
        "function run()\n  local t = {}\n  for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end\nend",
    },
    OUT_OF_MEMORY("lua", 32),
  );
  // A string doubled by concatenation, one C call at a time.
  await attack(
    "lua",
    {
      memory_mb: 64,
      code: "function run()\n  local s = ('x'):rep(2^20)\n  while true do s = s .. s end\nend",
    },
    OUT_OF_MEMORY("lua", 64),
  );
  // The same at the default limit: the wasm memory's own end (2 GiB) comes first.
  await attack(
    "lua",
    { code: "function run()\n  local s = ('x'):rep(2^20)\n  while true do s = s .. s end\nend" },
    OUT_OF_MEMORY("lua", 1024),
  );
  // Lua's own stack, and the C stack through a metamethod.
  await attack(
    "lua",
    { code: "local function f(n) return 1 + f(n + 1) end\nfunction run() return f(0) end" },
    /^\(lua\): <step bad> line 1 \(\S+attack_lua\.lua:\d+\): stack overflow/,
  );
  await attack(
    "lua",
    {
      code: "function run()\n  local t = setmetatable({}, {})\n" +
        "  getmetatable(t).__index = function(tt, k) return tt[k .. 'x'] end\n  return t.a\nend",
    },
    /^\(lua\): <step bad> line 3 \(\S+attack_lua\.lua:\d+\): C stack overflow/,
  );
});

Deno.test("Lua: interrupts caught in loops, and C calls that cannot be interrupted, end at the timeout", async () => {
  // pcall swallows the interrupt; the hook fires again on every instruction.
  await attack(
    "lua",
    {
      timeout: 1,
      code:
        "function run()\n  while true do\n    pcall(function() while true do end end)\n  end\nend",
    },
    TIMED_OUT,
  );
  // One string.find that backtracks for ages: the worker is dropped and replaced.
  for (const flags of [[], ["-j", "1"]]) {
    await attack(
      "lua",
      {
        timeout: 1,
        code: "function run()\n  return ('a'):rep(40):find(('a*'):rep(40) .. 'b')\nend",
      },
      TIMED_OUT,
      ...flags,
    );
  }
});

Deno.test("a Lua call that cannot be interrupted leaves its worker behind once: later Lua steps run in a child process", async () => {
  // Deno cannot end a busy worker: the first one runs on until hwfe exits.
  // Later workers of the runtime are child processes, which can be killed.
  const file = await writeWorkflow("unstoppable", {
    a_stuck: {
      language: "lua",
      timeout: 1,
      code: "function run()\n  return ('a'):rep(40):find(('a*'):rep(40) .. 'b')\nend",
    },
    b_later: {
      language: "lua",
      code: "function run()\n  print('b_later is running')\n" +
        "  local t = os.clock() + 1\n  while os.clock() < t do end\n  return 'done'\nend",
    },
  });
  const child = spawnHwfe(["run", "--json", "--keep-going", "--mode", "parallel", "-j", "1", file]);
  const { rest } = await readUntil(child.stderr, "b_later is running");
  const children = await childrenMatching(child.pid, "lua_worker");
  const out = new TextDecoder().decode(await new Response(child.stdout).arrayBuffer());
  while (!(await rest.read()).done) { /* the rest of the progress */ }
  assert.equal((await child.status).code, 1);
  const { steps } = JSON.parse(out);
  assert.equal(steps.a_stuck.error, "step 'a_stuck' timed out after 1s");
  assert.equal(steps.b_later.result, "done");
  assert.notDeepEqual(children, [], "b_later ran in a child process of hwfe");
});

Deno.test("Lua: finalizers are refused (they run outside the step's limits), and encoding a result is limited", async () => {
  // A finalizer runs with hooks off: neither the timeout nor the memory
  // limit would reach it.
  await attack(
    "lua",
    {
      memory_mb: 64,
      code: "function run()\n  setmetatable({}, { __gc = function()\n" +
        "    local t = {}\n    for i = 1, 1e9 do t[i] = { i, i, i, i } end\n  end })\n" +
        "  collectgarbage()\n  return 'after gc'\nend",
    },
    /^\(lua\): <step bad> line 2 \(\S+:\d+\): __gc metamethods are not available to hwfe steps/,
  );
  // 530 references to one 1 MiB string fit the limit; their JSON does not.
  await attack(
    "lua",
    {
      memory_mb: 64,
      code: "function run()\n  local s, t = ('x'):rep(2^20), {}\n" +
        "  for i = 1, 530 do t[i] = s end\n  return t\nend",
    },
    OUT_OF_MEMORY("lua", 64),
  );
});

Deno.test("Lua: floods of output and oversized results fail alone", async () => {
  await attack(
    "lua",
    { code: "function run() while true do print(('z'):rep(100)) end end" },
    TOO_MUCH_OUTPUT,
    "--max-output-mb",
    "1",
  );
  await attack(
    "lua",
    { code: "function run()\n  print(('z'):rep(8 * 2^20))\n  return 1\nend" },
    TOO_MUCH_OUTPUT,
    "--max-output-mb",
    "1",
  );
  await attack(
    "lua",
    { code: "function run() return ('r'):rep(8 * 2^20) end" },
    TOO_LARGE,
    "--max-result-mb",
    "1",
  );
  await attack(
    "lua",
    { code: "function run() local o = {} for i = 1, 1e5 do o = { o } end return o end" },
    /^returned a table nested deeper than 500 levels at result\[1\]/,
  );
});

Deno.test("JavaScript: memory bombs and runaway recursion fail alone", async () => {
  await attack(
    "javascript",
    {
      memory_mb: 64,
      code:
        "function run() {\n  const all = [];\n  for (;;) all.push('v'.repeat(100) + all.length);\n}",
    },
    OUT_OF_MEMORY("javascript", 64),
  );
  await attack(
    "javascript",
    { code: "function run() {\n  let s = 'x';\n  for (;;) s += s;\n}" },
    /^\(javascript\): InternalError: string too long/,
  );
  await attack(
    "javascript",
    { code: "function f(n) {\n  return f(n + 1) + 1;\n}\nfunction run() {\n  return f(0);\n}" },
    /^\(javascript\): InternalError: stack overflow\n\s+at f \(<step bad> line 2 \(\S+:\d+\), column \d+\)/,
  );
  await attack(
    "javascript",
    {
      code: "function run() {\n  const p = new Proxy({}, { get(t, k, r) { return r[k]; } });\n" +
        "  return p.x;\n}",
    },
    /^\(javascript\): InternalError: stack overflow/,
  );
});

Deno.test("JavaScript: out of memory even for its error object is still out of memory", async () => {
  // QuickJS throws null when it cannot allocate its "out of memory" error.
  await attack(
    "javascript",
    { memory_mb: 64, code: "function run() {\n  const a = [];\n  for (;;) a.push([1, 2, 3]);\n}" },
    OUT_OF_MEMORY("javascript", 64),
  );
});

Deno.test("huge strings thrown or returned fail their step alone (V8 aborts on JSON.stringify of one)", async () => {
  // V8's JSON.stringify of a string of 2^28 - 5 characters or more aborts
  // the whole process: such text is cut in the worker (thrown values), kept
  // to 16 KiB in the engine (errors), or refused before parsing (results).
  await attack(
    "javascript",
    { code: "function run() {\n  throw 'x'.repeat(2 ** 28);\n}" },
    /^\(javascript\): Uncaught "x{1000,}… \(\d+ more characters\)$/,
  );
  await attack(
    "typescript",
    { code: "function run(): never {\n  throw new Error('y'.repeat(2 ** 28));\n}" },
    /^\(typescript\): Error: y{1000,}/,
  );
  await attack(
    "lua",
    { code: "function run() return ('x'):rep(2^28) end" },
    /^\(lua\) returned 256\.0 MiB, over the 64\.0 MiB limit on a result/,
    "--max-result-mb",
    "64",
  );
  await attack(
    "lua",
    { code: "function run() error(('z'):rep(2^28), 0) end" },
    /^\(lua\): z{1000,}… \(\d+ more characters\)$/,
  );
});

Deno.test("JavaScript: V8's own stack overflowing inside QuickJS retires the worker, and a fresh one runs the rest", async () => {
  // QuickJS checks its own stack, but its recursion in C (JSON.stringify of a
  // deeply nested value) can exhaust V8's stack first: the error comes from
  // V8, the module cannot be trusted again, and its worker retires.
  for (const flags of [[], ["-j", "1"]]) {
    await attack(
      "javascript",
      {
        code: "function run() {\n  let o = {};\n  for (let i = 0; i < 1e6; i++) o = { o };\n" +
          "  try { return JSON.stringify(o).length; } catch (e) { return 'caught'; }\n}",
      },
      /^\(javascript\): RangeError: Maximum call stack size exceeded/,
      ...flags,
    );
  }
});

Deno.test("JavaScript: interrupts caught and ignored still end at the timeout", async () => {
  const loops = [
    "function run() {\n  for (;;) {\n    try { for (;;) {} } finally { continue; }\n  }\n}",
    "async function run() {\n  for (;;) {\n    try { await null; for (;;) {} } catch (e) {}\n  }\n}",
    "function run() {\n  const f = () => { Promise.resolve().then(f); Promise.resolve().then(f); };\n" +
    "  f();\n  return new Promise(() => {});\n}",
    "function run() {\n  return /^(a+)+$/.test('a'.repeat(40) + 'b');\n}",
  ];
  for (const code of loops) await attack("javascript", { timeout: 1, code }, TIMED_OUT);
});

Deno.test("JavaScript: floods of output and oversized results fail alone", async () => {
  await attack(
    "javascript",
    {
      code: "function run() {\n  for (;;) { console.log('j'.repeat(100)); console.error('e'); }\n}",
    },
    TOO_MUCH_OUTPUT,
    "--max-output-mb",
    "1",
  );
  await attack(
    "javascript",
    { code: "function run() {\n  console.log('j'.repeat(8 * 2 ** 20));\n  return 1;\n}" },
    TOO_MUCH_OUTPUT,
    "--max-output-mb",
    "1",
  );
  await attack(
    "javascript",
    { code: "function run() {\n  return 'r'.repeat(8 * 2 ** 20);\n}" },
    TOO_LARGE,
    "--max-result-mb",
    "1",
  );
});

Deno.test("TypeScript: memory bombs, recursion, caught interrupts and floods of output fail alone", async () => {
  await attack(
    "typescript",
    {
      memory_mb: 64,
      code:
        "function run(): never {\n  const all: number[][] = [];\n  for (;;) all.push(new Array(1e5).fill(7));\n}",
    },
    OUT_OF_MEMORY("typescript", 64),
  );
  await attack(
    "typescript",
    {
      code:
        "const f = (n: number): number => f(n + 1) + 1;\nfunction run(): number {\n  return f(0);\n}",
    },
    /^\(typescript\): InternalError: stack overflow\n\s+at f \(<step bad> line 1 \(\S+:\d+\), column \d+\)/,
  );
  await attack(
    "typescript",
    {
      timeout: 1,
      code:
        "function run(): void {\n  for (;;) {\n    try { while (true) {} } catch (e: unknown) {} " +
        "finally { continue; }\n  }\n}",
    },
    TIMED_OUT,
  );
  await attack(
    "typescript",
    { code: "function run(): never {\n  for (;;) console.log('t'.repeat(100));\n}" },
    TOO_MUCH_OUTPUT,
    "--max-output-mb",
    "1",
  );
});

Deno.test("TypeScript: a source that breaks esbuild or takes it seconds fails its step alone", async () => {
  // Nested deeper than esbuild's stack: its worker is not trusted again.
  await attack(
    "typescript",
    {
      code: `function run(): number { return ${"(".repeat(20000)}1${")".repeat(20000)}; }`,
    },
    /^\(typescript\): cannot transpile: it is nested too deeply for esbuild$/,
  );
  // Seconds of transpiling: the step's timeout covers it, and the others
  // (shorter sources, transpiled first) do not wait for it.
  await attack(
    "typescript",
    { timeout: 1, code: `function run(): number { return ${"1+".repeat(1_500_000)}1; }` },
    TIMED_OUT,
  );
});

Deno.test("wasm: memory, recursion, loops and output fail alone in their child process", async () => {
  await attack(
    "wasm",
    {
      memory_mb: 8,
      code: `(module (memory (export "memory") 1)
  (func (export "run") (result i32)
    (loop $more (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    unreachable))`,
    },
    /^\(wasm\): <step bad>\.wat trapped: unreachable \(its memory had grown to [\d.]+ MiB of the step's 8 MiB limit/,
  );
  await attack(
    "wasm",
    { code: '(module (func $f (export "run") (result i32) (i32.add (call $f) (i32.const 1))))' },
    /^\(wasm\): Maximum call stack size exceeded$/,
  );
  for (const flags of [[], ["-j", "1"]]) {
    await attack(
      "wasm",
      {
        timeout: 1,
        code: '(module (func (export "run") (result i32) (loop $l (br $l)) (i32.const 0)))',
      },
      TIMED_OUT,
      ...flags,
    );
  }
  await attack(
    "wasm",
    {
      code: `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "a line of wasm output\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 22))
    (loop $l (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (br $l))))`,
    },
    TOO_MUCH_OUTPUT,
    "--max-output-mb",
    "1",
  );
});

Deno.test("wasm: tables that fill the JavaScript heap kill only the step's child process", async () => {
  // Tables are not linear memory: memory_mb does not bound them, the child's heap limit does.
  const grows = Array.from(
    { length: 20 },
    (_, i) => `(drop (table.grow $t${i} (ref.null func) (i32.const 10000000)))`,
  );
  const tables = Array.from({ length: 20 }, (_, i) => `(table $t${i} 0 funcref)`);
  for (const flags of [[], ["-j", "1"]]) {
    await attack(
      "wasm",
      {
        code: `(module ${tables.join(" ")}\n  (func (export "run") (result i32)\n    ${
          grows.join("\n    ")
        }\n    (i32.const 0)))`,
      },
      /^\(wasm\): the wasm runtime crashed: its process ran out of JavaScript heap \(1024 MiB\)$/,
      ...flags,
    );
  }
});

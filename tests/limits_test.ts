/**
 * Per-step memory limits end to end: an allocation bomb in each language
 * fails that step with "out of memory" and the rest of the run goes on.
 */

import assert from "node:assert/strict";
import { hwfe, runJson, writeWorkflow } from "./_helpers.ts";

Deno.test("memory_mb: an allocation bomb fails its step in every language; other steps run", async () => {
  const file = await writeWorkflow("bombs", {
    lua: {
      language: "lua",
      memory_mb: 32,
      code:
        "function run()\n  local t = {}\n  for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end\nend",
    },
    python: {
      memory_mb: 64,
      code:
        "def run():\n    chunks = []\n    while True:\n        chunks.append(bytearray(10**6))\n",
    },
    javascript: {
      language: "javascript",
      memory_mb: 64,
      code:
        "function run() {\n  const all = [];\n  for (;;) all.push(new Array(1e5).fill(1));\n}\n",
    },
    typescript: {
      language: "typescript",
      memory_mb: 64,
      code:
        "function run(): never {\n  const all: string[] = [];\n  for (;;) all.push('x'.repeat(1e6));\n}\n",
    },
    wasm: {
      language: "wasm",
      memory_mb: 8,
      code: `(module (memory (export "memory") 1)
  (func (export "run") (result i32)
    (loop $more (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    unreachable))`,
    },
    shell: {
      language: "shell",
      memory_mb: 64,
      // bash itself runs out: the output of the substitution does not fit.
      code: "x=$(head -c 200000000 /dev/zero | tr '\\0' x)\necho ${#x}",
    },
    within: {
      memory_mb: 64,
      code: "def run():\n    return len(bytearray(16 * 1024 * 1024))\n",
    },
    independent: { language: "lua", code: "function run() return 'still here' end" },
  });
  const result = await hwfe(["run", "--allow-run", "--json", "--keep-going", file]);
  assert.equal(result.code, 1);
  const e = Object.fromEntries(Object.entries(runJson(result).steps).map(([k, v]) => [k, v]));
  const limit = (mb: number) => `the step's limit is ${mb} MiB; raise it with memory_mb`;
  assert.equal(e.lua.error, `step 'lua' (lua): out of memory (${limit(32)})`);
  assert.match(
    e.python.error!,
    new RegExp(`^step 'python' \\(python\\): MemoryError: out of memory \\(${limit(64)}\\)`),
  );
  assert.match(
    e.javascript.error!,
    /^step 'javascript' \(javascript\): InternalError: out of memory \(the step's limit is 64 MiB/,
  );
  assert.match(
    e.typescript.error!,
    /^step 'typescript' \(typescript\): InternalError: out of memory/,
  );
  assert.match(
    e.wasm.error!,
    /trapped: unreachable \(its memory had grown to [\d.]+ MiB of the step's 8 MiB limit/,
  );
  assert.match(e.shell.error!, /^step 'shell' \(shell\) exited with code 2:\n.*cannot allocate/);
  assert.equal(e.within.result, 16 * 1024 * 1024);
  assert.equal(e.independent.result, "still here");
});

Deno.test("--step-memory limits steps without memory_mb; memory_mb is checked", async () => {
  const file = await writeWorkflow("defaults", {
    big: { language: "lua", code: "function run()\n  return #('x'):rep(100 * 1024 * 1024)\nend" },
    own: {
      language: "lua",
      memory_mb: 256,
      code: "function run()\n  return #('x'):rep(100 * 1024 * 1024)\nend",
    },
  });
  const result = await hwfe(["run", "--json", "--keep-going", "--step-memory", "50", file]);
  assert.equal(result.code, 1);
  const run = runJson(result);
  assert.match(run.steps.big.error!, /out of memory \(the step's limit is 50 MiB/);
  assert.equal(run.steps.own.result, 100 * 1024 * 1024);

  const bad = await writeWorkflow("bad", { s: { language: "lua", memory_mb: 0, code: "x = 1" } });
  const refused = await hwfe(["validate", bad]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /step 's': memory_mb must be a number of MiB from 1 to 4096, got 0/);
});

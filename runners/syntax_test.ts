import assert from "node:assert/strict";
import { defineWorkflow } from "../workflow/validate.ts";
import { StepHost } from "../host/pool.ts";
import { createRunners } from "./mod.ts";
import { luaRuntime, luaSyntax } from "./lua.ts";
import { checkOnWorker } from "./_worker_job.ts";
import { wasmSyntax } from "./wasm.ts";
import { LINE_MARKER, MarkerFilter, shellSyntax } from "./_shell_lines.ts";
import { checkedProblems, syntaxError } from "./syntax.ts";
import type { Language } from "../workflow/model.ts";

/** A workflow of one language: a step that parses and one that does not. */
function pair(language: Language, good: string, bad: string) {
  return defineWorkflow({
    steps: { good: { language, code: good }, bad: { language, code: bad } },
  }).workflow;
}

Deno.test("luaSyntax() names the step and line Lua's loader stops at, running nothing", async () => {
  const workflow = pair(
    "lua",
    "function run() while true do end end",
    "function run()\n  x = = 1\nend",
  );
  assert.deepEqual(await luaSyntax([...workflow.steps.values()]), [
    { step: "bad", line: 2, message: "unexpected symbol near '='" },
  ]);
});

Deno.test("Lua steps parse on a Lua worker too (when Lua is not loaded on this thread)", async () => {
  const host = new StepHost(1);
  try {
    const workflow = pair("lua", "function run() end", "function run()\n  x = = 1\nend");
    assert.deepEqual(await checkOnWorker(host, luaRuntime(), [...workflow.steps.values()]), [
      { step: "bad", line: 2, message: "unexpected symbol near '='" },
    ]);
  } finally {
    host.dispose();
  }
});

Deno.test("wasmSyntax() compiles WebAssembly text with wabt, names line and column", async () => {
  const workflow = pair(
    "wasm",
    '(module (func (export "run") (result i32) (i32.const 0)))',
    '(module\n  (func (export "run") (result i32)\n    (i64.const 0)))',
  );
  const [problem, ...rest] = await wasmSyntax([...workflow.steps.values()]);
  assert.deepEqual(rest, []);
  assert.deepEqual({ ...problem, context: undefined }, {
    step: "bad",
    line: 3,
    column: 6,
    message: "type mismatch in implicit return, expected [i32] but got [i64]",
    context: undefined,
  });
  assert.match(problem.context!, /\(i64\.const 0\)\)\)\n\s+\^+/);
});

Deno.test({
  name: "shellSyntax() parses with bash -n: all steps at once, then each alone to name it",
  ignore: Deno.permissions.querySync({ name: "run", command: "bash" }).state !== "granted",
  fn: async () => {
    const workflow = pair(
      "shell",
      "echo fine\nrm -rf /nonexistent-hwfe",
      "if true; then\n  echo x\nfi fi\n",
    );
    assert.deepEqual(await shellSyntax([...workflow.steps.values()]), [
      {
        step: "bad",
        line: 3,
        message: "syntax error near unexpected token `fi'",
        context: "    fi fi",
      },
    ]);
    const fine = pair("shell", "echo a", "echo b");
    assert.deepEqual(await shellSyntax([...fine.steps.values()]), []);
  },
});

Deno.test("MarkerFilter takes the failing line's marker out of a shell step's stderr", () => {
  const passed: string[] = [];
  const filter = new MarkerFilter((text) => passed.push(text));
  const marker = `${LINE_MARKER}12\n`;
  filter.push(`oops\n${marker.slice(0, 5)}`);
  filter.push(`${marker.slice(5)}after`);
  filter.push("__hwfe");
  filter.end();
  assert.equal(passed.join(""), "oops\nafter__hwfe");
  assert.equal(filter.line, 12);
});

Deno.test("JavaScript and TypeScript steps parse on their runtimes, running nothing", async () => {
  const host = new StepHost(1);
  const runners = createRunners(host);
  try {
    const js = pair("javascript", "while (true) {}", "function run() {\n  return {;\n}");
    const ts = pair(
      "typescript",
      "let x: number = 1;",
      "function run(): number {\n  return (1;\n}",
    );
    // Patient, as validate is: under load esbuild may take more than a run's 3 s.
    const options = { waitMs: 60_000 };
    assert.deepEqual(
      await runners.get("javascript")!.checkSyntax!([...js.steps.values()], js, options),
      [{ step: "bad", line: 2, column: 11, message: "invalid property name" }],
    );
    assert.deepEqual(
      await runners.get("typescript")!.checkSyntax!([...ts.steps.values()], ts, options),
      [{ step: "bad", line: 2, column: 12, message: 'Expected ")" but found ";"' }],
    );
    // Python only when asked: its runtime takes a while to start.
    const py = pair("python", "def run(): pass", "def run(:");
    assert.deepEqual(await runners.get("python")!.checkSyntax!([...py.steps.values()], py, {}), []);
  } finally {
    host.dispose();
    await Promise.all([...runners.values()].map((runner) => runner.close?.()));
  }
});

Deno.test("syntaxError() reads the same in every language, with the workflow file's line", () => {
  const { workflow } = defineWorkflow({ steps: { a: { code: "x" } } }, "flow.lua");
  const step = workflow.steps.get("a")!;
  step.codeLine = 10;
  assert.equal(
    syntaxError(
      { step: "a", line: 3, column: 4, message: "oops", context: "    x\n    ^" },
      step,
      workflow,
    ),
    "syntax error at <step a> line 3 (flow.lua:12), column 4: oops\n    x\n    ^",
  );
  assert.equal(syntaxError({ step: "a", message: "oops" }, step, workflow), "syntax error: oops");
});

Deno.test("checkedProblems() refuses a worker's answer about steps it was not asked about", () => {
  const asked = new Set(["a"]);
  assert.deepEqual(checkedProblems('[{"step":"a","line":2,"message":"m"}]', asked), [
    { step: "a", line: 2, message: "m" },
  ]);
  assert.throws(() => checkedProblems('[{"step":"b","message":"m"}]', asked), /malformed problem/);
  assert.throws(() => checkedProblems('[{"step":"a","line":-1,"message":"m"}]', asked));
  assert.throws(() => checkedProblems("{}", asked), /not return a list/);
});

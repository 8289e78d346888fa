import assert from "node:assert/strict";
import { WorkflowError } from "../_util/errors.ts";
import { defineWorkflow } from "./validate.ts";
import { WorkflowProblems } from "./problems.ts";
import type { WorkflowDefinition } from "./model.ts";

function problems(definition: unknown): string[] {
  try {
    defineWorkflow(definition as WorkflowDefinition, "w.lua");
  } catch (error) {
    assert.ok(error instanceof WorkflowError);
    return error.problems;
  }
  assert.fail("expected a WorkflowError");
}

Deno.test("defineWorkflow() resolves language aliases, defaults and single-string depends_on", () => {
  const { workflow, warnings } = defineWorkflow({
    name: "w",
    steps: {
      a: { code: "function run() end" },
      b: { language: "bash", code: "true", depends_on: "a" },
      c: { language: "JS", code: "function run() {}", depends_on: ["a", "b"], timeout: 2 },
      d: { language: "webassembly", module: "x.wasm", function: "main" },
    },
  });
  assert.deepEqual(warnings, []);
  assert.equal(workflow.steps.get("a")!.language, "lua");
  assert.equal(workflow.steps.get("b")!.language, "shell");
  assert.deepEqual(workflow.steps.get("b")!.dependsOn, ["a"]);
  assert.equal(workflow.steps.get("c")!.language, "javascript");
  assert.equal(workflow.steps.get("c")!.timeout, 2);
  assert.equal(workflow.steps.get("d")!.func, "main");
});

Deno.test("defineWorkflow() reports every problem at once, naming file and step", () => {
  const found = problems({
    steps: {
      a: { language: "pyhton", code: "x" },
      b: { depends_on: ["a", "c"] },
      c: { depends_on: ["c"], code: "x", timeout: -1 },
      d: { dependencies: ["a"], code: "x" },
      e: "not a table",
    },
  });
  assert.deepEqual(found, [
    "w.lua: step 'a': unknown language 'pyhton' (did you mean 'python'?); known languages: lua, shell, sh, bash, python, py, javascript, js, node, nodejs, typescript, ts, wasm, webassembly",
    "w.lua: step 'b': missing 'code'",
    "w.lua: step 'c': timeout must be a positive number of seconds, at most 604800 (7 days), got -1",
    "w.lua: step 'd': unknown field 'dependencies' (did you mean 'depends_on'?); a dropped dependency would corrupt the run",
    "w.lua: step 'e' must be a table, got a string",
    "w.lua: step 'c' depends on itself",
  ]);
});

Deno.test("defineWorkflow() suggests the closest step name for an unknown dependency", () => {
  assert.deepEqual(
    problems({ steps: { fetch_data: { code: "x" }, use: { code: "x", depends_on: "fetch_dta" } } }),
    [
      "w.lua: step 'use' depends on unknown step 'fetch_dta' (did you mean 'fetch_data'?)",
    ],
  );
});

Deno.test("defineWorkflow() warns about unknown fields instead of failing", () => {
  const { warnings } = defineWorkflow(
    { steps: { a: { code: "x", colour: "red" } } } as never,
    "w.lua",
  );
  assert.deepEqual(warnings, ["w.lua: step 'a': unknown field 'colour' is ignored"]);
});

Deno.test("defineWorkflow() refuses an unknown field within two edits of a known one", () => {
  const definition = {
    nmae: "w",
    steps: {
      a: { langauge: "python", code: "x" },
      b: { code: "x", timout: 5, colour: "red" },
      c: { code: "x", depend_on: ["a"] },
    },
  };
  assert.deepEqual(problems(definition), [
    "w.lua: unknown workflow field 'nmae' (did you mean 'name'?): correct the name, or remove the field",
    "w.lua: step 'a': unknown field 'langauge' (did you mean 'language'?): correct the name, or remove the field",
    "w.lua: step 'b': unknown field 'timout' (did you mean 'timeout'?): correct the name, or remove the field",
    "w.lua: step 'c': unknown field 'depend_on' (did you mean 'depends_on'?); a dropped dependency would corrupt the run",
  ]);
  try {
    defineWorkflow(definition as WorkflowDefinition, "w.lua");
  } catch (error) {
    assert.ok(error instanceof WorkflowProblems);
    assert.deepEqual(
      error.details.map(({ step, field }) => [step, field]),
      [[undefined, "nmae"], ["a", "langauge"], ["b", "timout"], ["c", "depend_on"]],
    );
  }
  // Short keys are near too many words to be called misspelt: still warnings.
  assert.deepEqual(defineWorkflow({ steps: { a: { code: "x", fn: 1 } } } as never).warnings, [
    "step 'a': unknown field 'fn' is ignored (did you mean 'func'?)",
  ]);
});

Deno.test("defineWorkflow() rejects a list of steps and a wasm step without module or code", () => {
  assert.match(problems({ steps: [{ code: "x" }] })[0], /must name each step/);
  assert.deepEqual(problems({ steps: { w: { language: "wasm" } } }), [
    "w.lua: step 'w': missing 'module' (path to a .wasm file) or 'code' (WebAssembly text)",
  ]);
});

Deno.test("defineWorkflow() reads retries, retry_delay and continue_on_error, and checks them", () => {
  const { workflow } = defineWorkflow({
    steps: {
      plain: { code: "x" },
      flaky: { code: "x", retries: 3, retry_delay: 0.5, continue_on_error: true },
    },
  });
  const plain = workflow.steps.get("plain")!;
  assert.deepEqual([plain.retries, plain.retryDelay, plain.continueOnError], [0, 1, false]);
  const flaky = workflow.steps.get("flaky")!;
  assert.deepEqual([flaky.retries, flaky.retryDelay, flaky.continueOnError], [3, 0.5, true]);
  assert.deepEqual(
    problems({
      steps: {
        a: { code: "x", retries: 1.5 },
        b: { code: "x", retries: 1000 },
        c: { code: "x", retry_delay: -1 },
        d: { code: "x", continue_on_error: "yes" },
      },
    }),
    [
      "w.lua: step 'a': retries must be a whole number from 0 to 100, got 1.5",
      "w.lua: step 'b': retries must be a whole number from 0 to 100, got 1000",
      "w.lua: step 'c': retry_delay must be a number of seconds from 0 to 300 (the longest wait between attempts), got -1",
      "w.lua: step 'd': continue_on_error must be true or false, got a string",
    ],
  );
});

Deno.test("defineWorkflow() refuses a timeout a timer cannot hold and a retry_delay beyond the longest wait", () => {
  assert.deepEqual(
    problems({ steps: { a: { code: "x", timeout: 1e10 }, b: { code: "x", retry_delay: 1e308 } } }),
    [
      "w.lua: step 'a': timeout must be a positive number of seconds, at most 604800 (7 days), got 10000000000",
      "w.lua: step 'b': retry_delay must be a number of seconds from 0 to 300 (the longest wait between attempts), got 1e+308",
    ],
  );
  const { workflow } = defineWorkflow({ steps: { a: { code: "x", timeout: 604800 } } });
  assert.equal(workflow.steps.get("a")!.timeout, 604800);
});

Deno.test("defineWorkflow() refuses empty step names and control characters in names, shown escaped", () => {
  const found = problems({
    name: "x\x1b]0;PWNED\x07",
    steps: {
      "": { code: "x" },
      "red\x1b[31m": { code: "x" },
      "del\x7f": { code: "x" },
      c1: { code: "x", depends_on: ["\x9b2J", "ok"] },
      ok: { code: "x", depends_on: "bell\x07" },
    },
  });
  const why = "contains control characters, which would reach the terminal it is printed on; " +
    "use printable characters only";
  assert.deepEqual(found, [
    `w.lua: workflow.name 'x\\x1b]0;PWNED\\x07' ${why}`,
    `w.lua: a step has an empty name (steps = { [""] = { ... } }); give every step a name`,
    `w.lua: step 'c1': depends_on[1] '\\x9b2J' ${why}`,
    `w.lua: step name 'del\\x7f' ${why}`,
    `w.lua: step 'ok': depends_on 'bell\\x07' ${why}`,
    `w.lua: step name 'red\\x1b[31m' ${why}`,
  ]);
  for (const problem of found) assert.doesNotMatch(problem, /\p{Cc}/u);
  // A name taken from the file's name says so.
  assert.match(
    (() => {
      try {
        defineWorkflow({ steps: { a: { code: "x" } } }, "dir/bad\x1b.lua");
      } catch (error) {
        return (error as WorkflowError).problems[0];
      }
      return "";
    })(),
    /workflow\.name 'bad\\x1b' \(from the file name; set workflow\.name\) contains control/,
  );
});

Deno.test("defineWorkflow() escapes control characters in unknown fields, languages and permissions", () => {
  const { warnings } = defineWorkflow(
    { steps: { a: { code: "x", "f\x1b": 1 } } } as never,
    "w.lua",
  );
  assert.deepEqual(warnings, ["w.lua: step 'a': unknown field 'f\\x1b' is ignored"]);
  const found = problems({
    steps: {
      a: { language: "lua\x1b", code: "x" },
      b: { code: "x", permissions: { env: ["A\x1b"], net: ["h\x1bst"] } },
    },
  });
  assert.equal(found.length, 3);
  for (const problem of found) assert.doesNotMatch(problem, /\p{Cc}/u);
});

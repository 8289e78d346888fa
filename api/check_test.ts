import assert from "node:assert/strict";
import {
  defineWorkflow,
  PermissionError,
  planWorkflow,
  type RunEvent,
  runWorkflow,
  type Step,
  streamWorkflow,
  validateWorkflow,
  WorkflowError,
} from "../mod.ts";
import { checkCode, checkWorkflow } from "./check.ts";
import type { CheckingRegistry } from "../runners/mod.ts";

const lua = (code: string) => ({ language: "lua", code });

Deno.test("validateWorkflow checks languages, and grants only when given", () => {
  const { workflow } = defineWorkflow({
    steps: { a: lua("function run() return 1 end"), sh: { language: "shell", code: "true" } },
  });
  assert.deepEqual(validateWorkflow(workflow).levels, [["a", "sh"]]);
  assert.throws(
    () => validateWorkflow(workflow, { grants: {} }),
    (error) => error instanceof PermissionError && error.missingFlags.join() === "--allow-run",
  );
  validateWorkflow(workflow, { grants: { run: true } });
});

Deno.test("validateWorkflow names a step its runtime cannot run", () => {
  const { workflow } = defineWorkflow({
    steps: { w: { language: "python", code: "def run(): pass", permissions: { write: ["out"] } } },
  });
  assert.throws(
    () => validateWorkflow(workflow),
    (error) => error instanceof WorkflowError && error.message.includes("step 'w' (python)"),
  );
});

Deno.test("planWorkflow levels the steps", () => {
  const { workflow } = defineWorkflow({
    steps: {
      c: { ...lua("function run() end"), depends_on: ["a", "b"] },
      b: lua("function run() end"),
      a: lua("function run() end"),
    },
  });
  assert.deepEqual(planWorkflow(workflow).levels, [["a", "b"], ["c"]]);
});

Deno.test("streamWorkflow yields every event in order, even to a late reader", async () => {
  const { workflow } = defineWorkflow({
    steps: {
      a: lua("function run() print('from a') return 1 end"),
      b: { ...lua("function run(inputs) return inputs.a + 1 end"), depends_on: ["a"] },
    },
  });
  const seen: RunEvent[] = [];
  const run = streamWorkflow(workflow, { onEvent: (event) => seen.push(event) });
  const result = await run.result; // iterate only after the run is over
  const events: RunEvent[] = [];
  for await (const event of run) events.push(event);
  assert.deepEqual(events, seen);
  assert.deepEqual(events.map((e) => e.type).filter((t) => t !== "runtime_started"), [
    "run_started",
    "step_started",
    "step_running",
    "step_output",
    "step_finished",
    "step_started",
    "step_running",
    "step_finished",
    "run_finished",
  ]);
  assert.deepEqual(result.status, "succeeded");
  assert.deepEqual(result.steps.map((s) => s.result), ["1", "2"]);
  // A second reader gets them all again.
  let again = 0;
  for await (const _ of run) again++;
  assert.deepEqual(again, events.length);
});

Deno.test("streamWorkflow: a run that cannot start throws from the iteration", async () => {
  const { workflow } = defineWorkflow({ steps: { sh: { language: "shell", code: "true" } } });
  const run = streamWorkflow(workflow);
  await assert.rejects(async () => {
    for await (const _ of run) { /* nothing arrives */ }
  }, PermissionError);
  await assert.rejects(run.result, PermissionError);
});

Deno.test("streamWorkflow stops with the run when cancelled", async () => {
  const { workflow } = defineWorkflow({
    steps: { spin: lua("function run() while true do end end") },
  });
  const controller = new AbortController();
  const statuses: string[] = [];
  for await (const event of streamWorkflow(workflow, { signal: controller.signal })) {
    if (event.type === "step_started") controller.abort();
    if (event.type === "step_finished") statuses.push(event.report.status);
  }
  assert.deepEqual(statuses, ["cancelled"]);
});

Deno.test("checkCode() parses only code not remembered as parsed, and names what does not parse", async () => {
  const cacheDir = await Deno.makeTempDir();
  const parsed: string[][] = [];
  const runners: CheckingRegistry = new Map([["lua", {
    language: "lua",
    run: () => Promise.resolve("null"),
    checkSyntax: (steps: Step[]) => {
      parsed.push(steps.map((step) => step.name));
      return Promise.resolve(
        steps.filter((step) => step.code!.includes("bad")).map((step) => ({
          step: step.name,
          line: 1,
          message: "it says bad",
        })),
      );
    },
  }]]);
  const flow = (b: string) =>
    defineWorkflow({ steps: { a: lua("function run() end"), b: lua(b) } }, "flow.lua").workflow;
  const first = await checkCode(flow("bad"), runners, { cacheDir });
  await first.saved;
  assert.deepEqual(first.problems, [{
    message: "flow.lua: step 'b' (lua): syntax error at <step b> line 1: it says bad",
    step: "b",
    field: "code",
    line: 1,
  }]);
  const second = await checkCode(flow("fixed"), runners, { cacheDir });
  await second.saved;
  assert.deepEqual(second.problems, []);
  const third = await checkCode(flow("fixed"), runners, { cacheDir });
  assert.deepEqual(third.problems, []);
  // a parsed once; b while bad and once fixed; nothing the third time.
  assert.deepEqual(parsed, [["a", "b"], ["b"]]);
  // Steps with the same code (made in a loop) are parsed once, and share its problems.
  parsed.length = 0;
  const { workflow } = defineWorkflow({ steps: { x: lua("bad 2"), y: lua("bad 2") } }, "flow.lua");
  const same = await checkCode(workflow, runners, {});
  assert.deepEqual(parsed, [["x"]]);
  assert.deepEqual(same.problems.map((p) => p.step), ["x", "y"]);
});

Deno.test("runWorkflow() refuses code that does not parse before any step starts", async () => {
  const { workflow } = defineWorkflow({
    steps: { a: lua("function run() return 1 end"), b: lua("function run()\n  return = 1\nend") },
  });
  const events: RunEvent[] = [];
  await assert.rejects(
    runWorkflow(workflow, { cacheDir: false, onEvent: (event) => events.push(event) }),
    (error) =>
      error instanceof WorkflowError &&
      error.message ===
        "step 'b' (lua): syntax error at <step b> line 2: unexpected symbol near '='",
  );
  assert.deepEqual(events.filter((event) => event.type === "step_started"), []);
});

Deno.test("checkWorkflow() gathers what cannot run and what does not parse", async () => {
  const { workflow } = defineWorkflow({
    steps: {
      w: { language: "python", code: "def run(): pass", permissions: { write: ["out"] } },
      js: { language: "javascript", code: "function run() { return }}" },
    },
  });
  const check = await checkWorkflow(workflow);
  assert.deepEqual(check.plan.levels, [["js", "w"]]);
  assert.deepEqual(check.problems.map((p) => [p.step, p.line]), [[undefined, undefined], [
    "js",
    1,
  ]]);
  assert.match(check.problems[0].message, /^step 'w' \(python\): Python's open\(\) looks/);
  assert.equal(
    check.problems[1].message,
    "step 'js' (javascript): syntax error at <step js> line 1, column 26: unexpected token in " +
      "expression: '}'",
  );
});

import assert from "node:assert/strict";
import { WorkflowError } from "../_util/errors.ts";
import { defineWorkflow } from "./validate.ts";
import { downstreamOf, selectSteps } from "./select.ts";

const { workflow } = defineWorkflow({
  name: "w",
  steps: {
    a: { code: "" },
    b: { code: "", depends_on: "a" },
    c: { code: "", depends_on: ["b", "x"] },
    x: { code: "" },
    y: { code: "", depends_on: "x" },
  },
});

Deno.test("downstreamOf() is the step and everything that depends on it, directly or not", () => {
  assert.deepEqual(downstreamOf(workflow, "b", "--from"), ["b", "c"]);
  assert.deepEqual(downstreamOf(workflow, "x", "--from"), ["c", "x", "y"]);
});

Deno.test("selectSteps() keeps the chosen steps and gives the dependencies they need, cut loose", () => {
  const { workflow: part, given } = selectSteps(workflow, ["c"], "--only");
  assert.deepEqual([...part.steps.keys()], ["b", "c", "x"]);
  assert.deepEqual(given, ["b", "x"]);
  assert.deepEqual(part.steps.get("b")!.dependsOn, []);
  assert.deepEqual(part.steps.get("c")!.dependsOn, ["b", "x"]);
  assert.deepEqual(workflow.steps.get("b")!.dependsOn, ["a"], "the workflow is unchanged");
});

Deno.test("selectSteps() names an unknown step, with did you mean", () => {
  assert.throws(
    () => selectSteps(workflow, ["c", "yy"], "--only"),
    (error) =>
      error instanceof WorkflowError &&
      error.message ===
        "--only: no step 'yy' in workflow 'w' (did you mean 'y'?); its steps: a, b, c, x, y",
  );
});

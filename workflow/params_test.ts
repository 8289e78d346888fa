import assert from "node:assert/strict";
import { WorkflowError } from "../_util/errors.ts";
import { addParamArg, paramLookup, typedParam } from "./params.ts";
import { parseWorkflowSource } from "./load.ts";
import { defineWorkflow } from "./validate.ts";

Deno.test("typedParam() types a value by its default: number, boolean, string", () => {
  assert.equal(typedParam("n", "5", 3), 5);
  assert.equal(typedParam("n", "-2.5e1", 3), -25);
  assert.equal(typedParam("on", "YES", false), true);
  assert.equal(typedParam("on", "0", true), false);
  assert.equal(typedParam("on", "off", true), false);
  assert.equal(typedParam("region", " eu ", "us"), " eu ");
  assert.equal(typedParam("region", "5", "us"), "5");
  assert.throws(
    () => typedParam("n", "abc", 3),
    /--param n=abc: parameter 'n' takes a number \(its default is 3\), got 'abc'/,
  );
  assert.throws(() => typedParam("n", "", 3), /takes a number/);
  assert.throws(() => typedParam("n", "0x10", 3), /takes a number/);
  assert.throws(() => typedParam("on", "maybe", true), /takes a boolean .*true or false/);
});

Deno.test("addParamArg() needs name=value with an identifier; the later value wins", () => {
  assert.deepEqual(addParamArg("a=1=2"), { a: "1=2" });
  assert.deepEqual(addParamArg("a=", { a: "x", b: "y" }), { a: "", b: "y" });
  assert.throws(() => addParamArg("a"), /--param a: give a value, as --param a=VALUE/);
  assert.throws(() => addParamArg("a-b=1"), /'a-b' is not a parameter name/);
  assert.throws(() => addParamArg("=1"), /'' is not a parameter name/);
});

Deno.test("paramLookup() answers a file's read: typed, the default, or why not", () => {
  const lookup = paramLookup({ n: "4", bad: "x" });
  const declared = JSON.stringify({ n: 1, m: "m", bad: 2 });
  assert.equal(lookup("n", declared), "V4");
  assert.equal(lookup("m", declared), 'V"m"');
  assert.match(lookup("bad", declared), /^E--param bad=x: parameter 'bad' takes a number/);
  assert.match(lookup("nn", declared), /^Eparams\.nn: workflow\.params declares no 'nn'/);
  assert.match(lookup("n", undefined), /^Eparams\.n is read before workflow\.params declares it/);
});

Deno.test("checkDefinition() resolves params: defaults, given values, every problem at once", () => {
  const steps = { a: { code: "function run() end" } };
  assert.equal(defineWorkflow({ steps }).workflow.params, undefined);
  assert.deepEqual(defineWorkflow({ steps, params: { z: "z", a: 1 } }).workflow.params, {
    a: 1,
    z: "z",
  });
  const params = { "not-a-name": 1, t: {} as unknown as string, x_y: 1, X_Y: 2, z: "a\0" };
  assert.throws(() => defineWorkflow({ steps, params }), (error: WorkflowError) => {
    assert.deepEqual(error.problems, [
      "workflow.params: 'not-a-name' is not a parameter name (letters, digits and _, not starting with a digit)",
      "workflow.params.t: a default must be a number, a boolean or a string, got a table",
      "workflow.params: 'x_y' and 'X_Y' are both PARAM_X_Y in shell steps; rename one of them",
      "workflow.params.z: the default holds a NUL character, which shell steps cannot be given",
    ]);
    return true;
  });
});

Deno.test("parseWorkflowSource() gives the file params while evaluated, and caches by their values", async () => {
  const source = `
    workflow = { name = "fan", params = { n = 2, tag = "t" }, steps = {} }
    for i = 1, params.n do
      workflow.steps[params.tag .. i] = { code = "function run() end" }
    end
    local seen = {}
    for name, value in pairs(params) do seen[#seen + 1] = name .. "=" .. tostring(value) end
    table.sort(seen)
    workflow.description = table.concat(seen, " ")`;
  const cacheDir = await Deno.makeTempDir();
  try {
    for (
      const [given, steps, description] of [
        [{}, ["t1", "t2"], "n=2 tag=t"],
        [{ n: "3" }, ["t1", "t2", "t3"], "n=3 tag=t"],
        [{}, ["t1", "t2"], "n=2 tag=t"],
        [{ n: "3" }, ["t1", "t2", "t3"], "n=3 tag=t"],
      ] as const
    ) {
      const { workflow } = await parseWorkflowSource(source, "fan.lua", {
        params: given,
        cacheDir,
      });
      assert.deepEqual([...workflow.steps.keys()], steps, JSON.stringify(given));
      assert.equal(workflow.description, description);
    }
    await assert.rejects(
      parseWorkflowSource(source, "fan.lua", { params: { n: "many" }, cacheDir }),
      /^WorkflowError: fan\.lua: --param n=many: parameter 'n' takes a number/,
    );
    await assert.rejects(
      parseWorkflowSource(`${source}\nparams.n = 1`, "fan.lua"),
      /fan\.lua:10: params is read-only: cannot set params\.n/,
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

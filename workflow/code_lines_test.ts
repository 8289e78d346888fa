import assert from "node:assert/strict";
import { closedEarlyHint, locateStepCode, stepLine, withFileLines } from "./code_lines.ts";
import { defineWorkflow } from "./validate.ts";
import { luaStrings } from "./_lua_strings.ts";

Deno.test("luaStrings() reads quoted and long strings, skipping comments", () => {
  const source = [
    `local a = "x\\ty\\65\\u{e9}\\z`,
    `   z" -- "not a string"`,
    `--[==[ [[ a long comment ]] ]==]`,
    `local b = [=[`,
    `one ]] two`,
    `]=] .. 'q'`,
  ].join("\n");
  assert.deepEqual(
    luaStrings(source).map(({ value, line, endLine, level }) => [value, line, endLine, level]),
    [["x\tyAéz", 1, 2, undefined], ["one ]] two\n", 5, 6, 1], ["q", 6, 6, undefined]],
  );
});

Deno.test("locateStepCode() finds the line each step's code starts on", () => {
  const source = `workflow = { steps = {
  a = { code = [[
function run() return 1 end
]] },
  b = { code = "function run() return 2 end" },
  same1 = { code = "x" },
  same2 = { code = "x" },
  built = { code = "function run() " .. "end" },
} }`;
  const { workflow } = defineWorkflow({
    steps: {
      a: { code: "function run() return 1 end\n" },
      b: { code: "function run() return 2 end" },
      same1: { code: "x" },
      same2: { code: "x" },
      built: { code: "function run() end" },
    },
  }, "f.lua");
  locateStepCode(source, workflow.steps.values());
  const lines = Object.fromEntries([...workflow.steps].map(([name, s]) => [name, s.codeLine]));
  assert.deepEqual(lines, { a: 3, b: 5, same1: 6, same2: 7, built: undefined });
  const a = workflow.steps.get("a")!;
  assert.equal(stepLine(a, workflow, 2), "<step a> line 2 (f.lua:4)");
  assert.equal(stepLine(a, {}, 2), "<step a> line 2");
  assert.equal(
    withFileLines('oops at <step a> line 1: x\n  File "<step a>", line 2, in run', a, workflow),
    'oops at <step a> line 1 (f.lua:3): x\n  File "<step a>", line 2 (f.lua:4), in run',
  );
  // Said once, however often it is asked.
  const once = withFileLines("<step a> line 12", a, workflow);
  assert.equal(withFileLines(once, a, workflow), "<step a> line 12 (f.lua:14)");
});

Deno.test("closedEarlyHint() points at a long string a ]] in the code ended", () => {
  const source = `workflow = { steps = {
  py = { language = "python", code = [[
def run(inputs):
    return [inputs["a"]["b"]]
]] },
} }`;
  assert.equal(
    closedEarlyHint(source, 5),
    "the long string opened with [[ on line 2 ends at the first ]] in it, on line 4: if that ]] " +
      "is part of a step's code, write the code as [==[ ... ]==]",
  );
  // An error with another long string between it and the last one is not that.
  const other = `x = [[a]]\ny = [[b]]\nz = = 1`;
  assert.equal(closedEarlyHint(other, 3), undefined);
  assert.equal(closedEarlyHint("x = 1 +", 1), undefined);
});

import assert from "node:assert/strict";
import { inputVariable, shellResult } from "./shell.ts";

Deno.test("shellResult() takes the whole stdout when it is JSON, compacted", () => {
  assert.equal(
    shellResult('{\n  "a": [1, 2],\n  "big": 9007199254740993\n}\n', "", 0),
    '{"a":[1,2],"big":9007199254740993}',
  );
  assert.equal(shellResult("42\n", "", 0), "42");
});

Deno.test("shellResult() falls back to the first stdout line that is a JSON object", () => {
  assert.equal(shellResult('preparing\n{"n": 1}\n{"n": 2}\ndone', "", 0), '{"n":1}');
});

Deno.test("shellResult() otherwise returns stdout, stderr and the exit code, trimmed", () => {
  assert.equal(
    shellResult("Task A\nresult_a\n", "  warn\n", 0),
    '{"stdout":"Task A\\nresult_a","stderr":"warn","exit_code":0}',
  );
  assert.equal(shellResult("", "", 0), '{"stdout":"","stderr":"","exit_code":0}');
  assert.equal(
    shellResult("{ not json }", "", 0),
    '{"stdout":"{ not json }","stderr":"","exit_code":0}',
  );
});

Deno.test("inputVariable() upper-cases the step name and replaces other characters", () => {
  assert.equal(inputVariable("task_a"), "INPUT_TASK_A");
  assert.equal(inputVariable("fetch-data.v2"), "INPUT_FETCH_DATA_V2");
});

/**
 * Mistakes caught early (issue 18): code that does not parse, a misspelt
 * field, a `]]` that ends a Lua long string inside a step's code, a
 * misspelt workflow name or flag. Each gets a message naming the file, the
 * step and the line (of the step and of the `.lua` file), before anything
 * runs wherever it can be known then; and a step that fails as it runs
 * names both lines too, in every language.
 */

import assert from "node:assert/strict";
import { hwfe, runJson } from "./_helpers.ts";

/** A fresh directory holding `files` (name to text): the working directory of a test. */
async function inDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-mistakes-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

/** One step of each language whose code does not parse; the line of each in the file is noted. */
const SYNTAX_ERRORS = `workflow = {
  name = "broken",
  steps = {
    lua_step = { language = "lua", code = [[
function run()
  return 1 +
end
]] },
    js_step = { language = "javascript", code = [[
function run() {
  return {;
}
]] },
    ts_step = { language = "typescript", code = [[
function run(): number {
  return (1;
}
]] },
    wat_step = { language = "wasm", code = [[
(module
  (func (export "run") (result i32)
    (i32.const 0) oops))
]] },
    sh_step = { language = "shell", code = [[
echo ok
if true; then
  echo x
fi fi
]] },
    py_step = { language = "python", code = [[
def run():
    return (1,

x = 2
]] },
  },
}
`;

/** What hwfe says of each step of SYNTAX_ERRORS, in the order of the step names. */
const SYNTAX_MESSAGES = {
  js_step:
    "error: broken.lua: step 'js_step' (javascript): syntax error at <step js_step> line 2 " +
    "(broken.lua:11), column 11: invalid property name",
  lua_step: "error: broken.lua: step 'lua_step' (lua): syntax error at <step lua_step> line 3 " +
    "(broken.lua:7): unexpected symbol near 'end'",
  py_step: "error: broken.lua: step 'py_step' (python): syntax error at <step py_step> line 2 " +
    "(broken.lua:32): '(' was never closed\n" +
    "        return (1,\n" +
    "               ^",
  sh_step: "error: broken.lua: step 'sh_step' (shell): syntax error at <step sh_step> line 4 " +
    "(broken.lua:28): syntax error near unexpected token `fi'\n" +
    "        fi fi",
  ts_step:
    "error: broken.lua: step 'ts_step' (typescript): syntax error at <step ts_step> line 2 " +
    `(broken.lua:16), column 12: Expected ")" but found ";"`,
  wat_step: "error: broken.lua: step 'wat_step' (wasm): syntax error at <step wat_step> line 3 " +
    "(broken.lua:22), column 19: unexpected token oops, expected ).\n" +
    "            (i32.const 0) oops))\n" +
    "                          ^^^^",
};

Deno.test("hwfe validate finds a syntax error in each language, with the step's line and the file's", async () => {
  const cwd = await inDir({ "broken.lua": SYNTAX_ERRORS });
  // Python's code is compiled with --deep only: Python takes a while to start.
  const quick = await hwfe(["validate", "broken.lua"], { cwd });
  assert.equal(quick.code, 2, quick.stderr);
  const { py_step: _, ...withoutPython } = SYNTAX_MESSAGES;
  assert.equal(quick.stderr, Object.values(withoutPython).join("\n") + "\n");
  const deep = await hwfe(["validate", "--deep", "broken.lua"], { cwd });
  assert.equal(deep.code, 2, deep.stderr);
  assert.equal(deep.stderr, Object.values(SYNTAX_MESSAGES).join("\n") + "\n");
  assert.equal(deep.stdout, "");
});

Deno.test("hwfe run refuses code that does not parse before any step starts", async () => {
  const cwd = await inDir({ "broken.lua": SYNTAX_ERRORS });
  const result = await hwfe(["run", "--allow-run", "broken.lua"], { cwd });
  assert.equal(result.code, 2, result.stderr);
  const { py_step: _, ...parsedBeforeTheRun } = SYNTAX_MESSAGES;
  assert.equal(result.stderr, Object.values(parsedBeforeTheRun).join("\n") + "\n");
  assert.doesNotMatch(result.stdout, /started/);
});

Deno.test("hwfe validate --json: each problem's step, field and lines; exit 2, or 0 when valid", async () => {
  const cwd = await inDir({
    "broken.lua": SYNTAX_ERRORS,
    "fine.lua": `workflow = { name = "fine", steps = {
  a = { code = "function run() return 1 end", colour = "red" },
  b = { depends_on = { "a" }, language = "js", code = "function run(i) { return i.a + 1; }" },
} }`,
  });
  const broken = await hwfe(["validate", "--json", "broken.lua"], { cwd });
  assert.equal(broken.code, 2, broken.stderr);
  const report = JSON.parse(broken.stdout);
  assert.deepEqual(
    { ...report, problems: report.problems.slice(0, 1) },
    {
      file: "broken.lua",
      workflow: "broken",
      valid: false,
      steps: 6,
      levels: [["js_step", "lua_step", "py_step", "sh_step", "ts_step", "wat_step"]],
      problems: [{
        step: "js_step",
        field: "code",
        line: 2,
        file_line: 11,
        message: SYNTAX_MESSAGES.js_step.slice("error: ".length),
      }],
      warnings: [],
    },
  );
  assert.deepEqual(
    report.problems.map((p: { step: string; file_line: number }) => [p.step, p.file_line]),
    [["js_step", 11], ["lua_step", 7], ["sh_step", 28], ["ts_step", 16], ["wat_step", 22]],
  );
  const fine = await hwfe(["validate", "--json", "fine.lua"], { cwd });
  assert.equal(fine.code, 0, fine.stderr);
  assert.deepEqual(JSON.parse(fine.stdout), {
    file: "fine.lua",
    workflow: "fine",
    valid: true,
    steps: 2,
    levels: [["a"], ["b"]],
    problems: [],
    warnings: ["fine.lua: step 'a': unknown field 'colour' is ignored"],
  });
  assert.equal(fine.stderr, "", "with --json, warnings are in the document only");
  // A file that does not load is a problem of the document too.
  await Deno.writeTextFile(`${cwd}/fine.lua`, "workflow = {");
  const unloadable = await hwfe(["validate", "--json", "fine.lua"], { cwd });
  assert.equal(unloadable.code, 2);
  assert.deepEqual(JSON.parse(unloadable.stdout).problems, [{
    file_line: 1,
    message: "fine.lua: Lua syntax error: line 1: unexpected symbol near <eof>",
  }]);
});

Deno.test("a field misspelt within two letters of a known one is an error, with did you mean", async () => {
  const cwd = await inDir({
    "typo.lua": `workflow = {
  name = "typo",
  steps = {
    fetch = { langauge = "python", code = "def run(): return 1" },
    use = { depend_on = { "fetch" }, timout = 5, code = "function run() return 2 end" },
  },
}
`,
  });
  for (const command of ["validate", "run"]) {
    const result = await hwfe([command, "typo.lua"], { cwd });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      "error: typo.lua: step 'fetch': unknown field 'langauge' (did you mean 'language'?): " +
        "correct the name, or remove the field\n" +
        "error: typo.lua: step 'use': unknown field 'depend_on' (did you mean 'depends_on'?); " +
        "a dropped dependency would corrupt the run\n" +
        "error: typo.lua: step 'use': unknown field 'timout' (did you mean 'timeout'?): " +
        "correct the name, or remove the field\n",
    );
  }
});

Deno.test("a ]] in a step's code that ends its Lua long string early gets a hint at [==[ ... ]==]", async () => {
  const early = `workflow = {
  name = "early",
  steps = {
    pick = {
      language = "python",
      code = [[
def run(inputs):
    return [inputs["a"]["b"]]
]],
    },
  },
}
`;
  const cwd = await inDir({ "early.lua": early });
  const result = await hwfe(["validate", "early.lua"], { cwd });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "error: early.lua: Lua syntax error: line 9: '}' expected (to close '{' at line 4) near " +
      "']'; the long string opened with [[ on line 6 ends at the first ]] in it, on line 8: " +
      "if that ]] is part of a step's code, write the code as [==[ ... ]==]\n",
  );
  // Written as the hint says, it loads.
  await Deno.writeTextFile(
    `${cwd}/early.lua`,
    early.replace("code = [[", "code = [==[").replace("]],\n", "]==],\n"),
  );
  const fixed = await hwfe(["validate", "early.lua"], { cwd });
  assert.equal(fixed.code, 0, fixed.stderr);
});

Deno.test("a step failing as it runs names its line and the file's, in every language", async () => {
  const cwd = await inDir({
    "flow.lua": `workflow = {
  name = "failing",
  steps = {
    boom_lua = { language = "lua", code = [[
function run()
  local x = nil
  return x.field
end
]] },
    boom_js = { language = "javascript", code = [[
function run() {
  const x = null;
  return x.field;
}
]] },
    boom_ts = { language = "typescript", code = [[
type T = { field: number };
function run(): number {
  const x = null as unknown as T;
  return x.field;
}
]] },
    boom_py = { language = "python", code = [[
def run():
    x = None
    return x.field
]] },
    boom_sh = { language = "shell", code = [[
echo starting
false
echo never
]] },
    py_syntax = { language = "python", code = [[
def run():
    return [1, 2
]] },
  },
}
`,
  });
  const result = await hwfe(["run", "--allow-run", "--keep-going", "--json", "flow.lua"], { cwd });
  assert.equal(result.code, 1, result.stderr);
  const errors = Object.fromEntries(
    Object.entries(runJson(result).steps).map(([name, step]) => [name, step.error]),
  );
  assert.deepEqual(errors, {
    boom_lua: "step 'boom_lua' (lua): <step boom_lua> line 3 (flow.lua:7): attempt to index a " +
      "nil value (local 'x')\nstack traceback:\n\t<step boom_lua> line 3 (flow.lua:7): in " +
      "function 'run'",
    boom_js: "step 'boom_js' (javascript): TypeError: cannot read property 'field' of null\n" +
      "    at run (<step boom_js> line 3 (flow.lua:13), column 11)",
    boom_ts: "step 'boom_ts' (typescript): TypeError: cannot read property 'field' of null\n" +
      "    at run (<step boom_ts> line 4 (flow.lua:20), column 10)",
    boom_py: "step 'boom_py' (python): AttributeError: 'NoneType' object has no attribute " +
      "'field'\nTraceback (most recent call last):\n" +
      '  File "<step boom_py>", line 3 (flow.lua:26), in run\n' +
      "    return x.field\n" +
      "           ^^^^^^^",
    // bash's ERR trap names the line of the command that failed.
    boom_sh: "step 'boom_sh' (shell) exited with code 1 at <step boom_sh> line 2 (flow.lua:30)",
    // Python's code is compiled as its step runs (its runtime is not started before the run).
    py_syntax: "step 'py_syntax' (python): syntax error at <step py_syntax> line 2 " +
      "(flow.lua:35): '[' was never closed\n" +
      "    return [1, 2\n" +
      "           ^",
  });
  assert.doesNotMatch(result.stderr, /__hwfe/, "the shell's line marker is not output");
});

Deno.test("a misspelt workflow name gets did you mean from the workflows directory", async () => {
  const cwd = await inDir({
    "workflows/demo.lua": `workflow = { steps = { a = { code = "function run() end" } } }`,
    "workflows/examples/report.lua":
      `workflow = { steps = { a = { code = "function run() end" } } }`,
  });
  const where = "no such file, and none in the workflows directory 'workflows' (default) or its " +
    "examples, templates and tests folders";
  const cases: [string, string][] = [
    ["demoo", `did you mean 'demo'?`],
    ["repotr.lua", `did you mean 'report.lua'?`],
    ["workflows/dmeo.lua", `did you mean 'workflows/demo.lua'?`],
    ["nothing_like_it", `run 'hwfe list' to see the workflows there`],
  ];
  for (const [name, hint] of cases) {
    const result = await hwfe(["run", name], { cwd });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `error: Workflow '${name}' not found: ${where}; ${hint}\n`);
  }
});

Deno.test("an unknown flag gets commander's did you mean", async () => {
  const result = await hwfe(["run", "--mdoe", "parallel", "flow.lua"]);
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "error: unknown option '--mdoe'\n(Did you mean --mode?)\n(run 'hwfe --help' for usage)\n",
  );
});

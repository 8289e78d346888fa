import assert from "node:assert/strict";
import { compileLuaChunks, type LuaOutcome, runLuaChunk, trimTraceback } from "./sandbox.ts";

async function step(code: string, inputs = "{}", interrupted = () => false) {
  const output: string[] = [];
  const outcome = await runLuaChunk(
    { mode: "step", chunkName: "=[step s]", code, inputs },
    { interrupted, output: (_stream, text) => output.push(text) },
  );
  return { outcome, output: output.join("") };
}

function result(outcome: LuaOutcome): string {
  assert.equal(outcome.kind, "result", JSON.stringify(outcome));
  return (outcome as { json: string }).json;
}

Deno.test("runLuaChunk() converts results to JSON: arrays, objects, null, 64-bit integers", async () => {
  const { outcome } = await step(`function run()
    return { list = {1, 2, 3}, empty = {}, big = 9007199254740993, f = 1.5, s = "é\\n\\"", n = nil,
             nested = { {a = true}, {b = false} }, [5] = "five" }
  end`);
  assert.equal(
    result(outcome),
    `{"5":"five","big":9007199254740993,"empty":{},"f":1.5,"list":[1,2,3],"nested":[{"a":true},{"b":false}],"s":"é\\n\\""}`,
  );
});

Deno.test("runLuaChunk() passes inputs as Lua values and keeps empty arrays as arrays", async () => {
  const inputs =
    `{"a":{"xs":[],"big":9223372036854775807,"u":"\\u00e9\\ud83d\\ude00","nil":null},"b":[1,[2,3]]}`;
  const { outcome } = await step(
    `function run(inputs)
      assert(math.type(inputs.a.big) == "integer")
      return { xs = inputs.a.xs, big = inputs.a.big, u = inputs.a.u, b = inputs.b, len = #inputs.b[2] }
    end`,
    inputs,
  );
  assert.equal(
    result(outcome),
    `{"b":[1,[2,3]],"big":9223372036854775807,"len":2,"u":"é😀","xs":[]}`,
  );
});

Deno.test("runLuaChunk() names the key path of a value that is not JSON data", async () => {
  const fn = await step(`function run() return { callback = function() end } end`);
  assert.deepEqual(fn.outcome, { kind: "bad_result", message: "a function at result.callback" });
  const cyc = await step(`function run() local t = {} t.self = t return { list = { t } } end`);
  assert.deepEqual(cyc.outcome, {
    kind: "bad_result",
    message: "a table that contains itself at result.list[1].self",
  });
});

Deno.test("runLuaChunk(): a result's 0/0 and math.huge become null with one warning, as the reference engine makes them; sparse arrays keep their holes", async () => {
  const nan = await step(
    `function run() return { ["odd key"] = 0/0, big = { math.huge, -math.huge } } end`,
  );
  assert.equal(result(nan.outcome), '{"big":[null,null],"odd key":null}');
  assert.match(
    nan.output,
    /^warning: the result held the number .* and 2 more, which JSON cannot hold: returned as null\n$/,
  );
  const sparse = await step(
    `function run() return { a = { [1] = "a", [3] = "c" }, b = { [2] = 1, [40] = 2 }, c = { [10] = true } } end`,
  );
  assert.equal(
    result(sparse.outcome),
    '{"a":["a",null,"c"],"b":{"2":1,"40":2},"c":[null,null,null,null,null,null,null,null,null,true]}',
  );
  // A workflow table is not converted: a number JSON cannot hold there is an error.
  const table = await runLuaChunk(
    {
      mode: "workflow",
      chunkName: "=w",
      code: "workflow = { steps = { s = { timeout = 0/0 } } }",
      inputs: "{}",
    },
    { interrupted: () => false, output: () => {} },
  );
  assert.match(JSON.stringify(table), /JSON cannot hold/);
});

Deno.test("runLuaChunk() captures print output and reports a missing run()", async () => {
  const { outcome, output } = await step(`print("hello", 1, nil) print("bad\\xff")`);
  assert.deepEqual(outcome, { kind: "no_run" });
  assert.equal(output, "hello\t1\tnil\nbad\uFFFD\n");
});

Deno.test("runLuaChunk() reports syntax and runtime errors with the step's own lines", async () => {
  const syntax = await step(`function run()\n  return 1 +\nend`);
  assert.equal(syntax.outcome.kind, "syntax_error");
  assert.match((syntax.outcome as { message: string }).message, /^\[step s\]:3: unexpected symbol/);
  const runtime = await step(
    `local function helper()\n  error("boom")\nend\nfunction run() helper() end`,
  );
  assert.equal(runtime.outcome.kind, "runtime_error");
  const message = trimTraceback((runtime.outcome as { message: string }).message, "[step s]");
  assert.match(message, /^\[step s\]:2: boom\nstack traceback:\n\s*\[step s\]:2: in /);
  assert.doesNotMatch(message, /\[string|\[C\]/);
});

Deno.test("runLuaChunk() sandbox has no os.execute, require, dofile or binary chunks; io only in steps", async () => {
  const { outcome } = await step(`function run()
    return { io = type(io), execute = type(os.execute), home = tostring(os.getenv("HOME")), remove = type(os.remove),
             require = type(require), dofile = type(dofile), loadfile = type(loadfile), debug = type(debug),
             dump = type(string.dump), clock = type(os.clock),
             binary = select(2, load("\\27Lua")) }
  end`);
  const value = JSON.parse(result(outcome));
  assert.deepEqual(value, {
    // Steps get io over the files their worker's Deno permissions allow
    // (lua/_io.ts); workflow files never do (below).
    io: "table",
    execute: "nil",
    home: "nil", // os.getenv sees granted variables only
    remove: "function",
    require: "nil",
    dofile: "nil",
    loadfile: "nil",
    debug: "nil",
    dump: "nil",
    clock: "function",
    binary: value.binary,
  });
  assert.match(value.binary, /binary chunk/);
});

for (
  const [label, code] of [
    ["while true do end", "function run() while true do end end"],
    [
      "a pcall loop",
      "function run() while true do pcall(function() while true do end end) end end",
    ],
    [
      "an xpcall loop",
      "function run() while true do xpcall(function() while true do end end, function() while true do end end) end end",
    ],
    ["a coroutine loop", "function run() coroutine.wrap(function() while true do end end)() end"],
  ]
) {
  Deno.test(`runLuaChunk() interrupts ${label}`, async () => {
    let polls = 0;
    const { outcome } = await step(code, "{}", () => ++polls > 50);
    assert.deepEqual(outcome, { kind: "interrupted" });
  });
}

Deno.test("runLuaChunk() refuses string.rep bombs instead of hanging in C", async () => {
  const { outcome } = await step(`function run() return #string.rep("x", 2^40) end`);
  assert.equal(outcome.kind, "runtime_error");
  assert.match((outcome as { message: string }).message, /string\.rep would build a string/);
});

Deno.test("runLuaChunk() evaluates a workflow file and marks non-data values", async () => {
  const outcome = await runLuaChunk(
    {
      mode: "workflow",
      chunkName: "@w.lua",
      code: `workflow = { name = "w", steps = { a = { code = print } } }`,
    },
    { interrupted: () => false, output: () => {} },
  );
  assert.equal(result(outcome), `{"name":"w","steps":{"a":{"code":{"\\u0000lua":"function"}}}}`);
  const none = await runLuaChunk(
    { mode: "workflow", chunkName: "@w.lua", code: `x = 1` },
    { interrupted: () => false, output: () => {} },
  );
  assert.deepEqual(none, { kind: "no_workflow" });
});

Deno.test("runLuaChunk() gives a workflow file no io, os.remove or os.rename", async () => {
  const outcome = await runLuaChunk(
    {
      mode: "workflow",
      chunkName: "@w.lua",
      code:
        `workflow = { name = "w", steps = { a = { code = type(io) .. type(os.remove) .. type(os.rename) } } }`,
    },
    { interrupted: () => false, output: () => {} },
  );
  assert.equal(result(outcome), `{"name":"w","steps":{"a":{"code":"nilnilnil"}}}`);
});

Deno.test("compileLuaChunks() names each chunk's syntax error and runs none of them", async () => {
  const errors = await compileLuaChunks([
    { chunkName: "=[step é✓]", code: "function run() return 'Zoë ✓' end" },
    { chunkName: "=[step bad]", code: "function run()\n  return 1 +\nend" },
    { chunkName: "=[step loops]", code: "while true do end" },
    { chunkName: "=[step binary]", code: "\x1bLua" },
  ]);
  assert.deepEqual(errors.slice(0, 3), [
    undefined,
    "[step bad]:3: unexpected symbol near 'end'",
    undefined,
  ]);
  assert.match(errors[3]!, /attempt to load a binary chunk/);
  // A NUL (which wasmoon cuts strings at, as it does for a step that runs) sends
  // the chunks one at a time, so that it is only that chunk's problem.
  assert.deepEqual(
    await compileLuaChunks([
      { chunkName: "=[step nul]", code: "return '\0'" },
      { chunkName: "=[step bad]", code: "return +" },
      { chunkName: "=[step good]", code: "return 1" },
    ]),
    [
      "[step nul]:1: unfinished string near <eof>",
      "[step bad]:1: unexpected symbol near '+'",
      undefined,
    ],
  );
});

Deno.test("runLuaChunk() gives a step its params: read-only, listed by pairs, empty without", async () => {
  const code = `function run()
    local changed = pcall(function() params.n = 1 end)
    local names = {}
    for name, value in pairs(params) do names[#names + 1] = name .. "=" .. tostring(value) end
    table.sort(names)
    return { n = params.n, int = math.type(params.n), names = table.concat(names, " "), changed = changed }
  end`;
  const outcome = await runLuaChunk(
    { mode: "step", chunkName: "=[step s]", code, inputs: "{}", params: '{"n":5,"on":true}' },
    { interrupted: () => false, output: () => {} },
  );
  assert.equal(
    result(outcome),
    `{"changed":false,"int":"integer","n":5,"names":"n=5 on=true"}`,
  );
  const { outcome: none } = await step(
    `function run() local n = 0 for _ in pairs(params) do n = n + 1 end return n end`,
  );
  assert.equal(result(none), "0");
});

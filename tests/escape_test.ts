/**
 * The escape suite (docs/SECURITY.md): with no grants, step code in every
 * language tries to reach the host: files (read, write, delete, symlink,
 * through `..` and absolute paths), environment, processes, sockets,
 * native code, the worker's and engine's globals, and faking results
 * through the worker's message channel. Every attempt fails; a canary step
 * in the same run is untouched. (Python's command, file, environment and
 * network attempts are in tests/python_test.ts.)
 */

import assert from "node:assert/strict";
import { hwfe, runJson, writeWorkflow } from "./_helpers.ts";

Deno.test("escape suite: Lua, Python, JavaScript, TypeScript and wasm steps cannot reach the host", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-escape-" });
  const secret = `secret-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${dir}/secret.txt`, secret);
  await Deno.mkdir(`${dir}/inside`);
  const target = (name: string) => `${dir}/${name}`;
  const file = await writeWorkflow("escapes", {
    lua_io: {
      language: "lua",
      code: `function run() return assert(io.open("${dir}/secret.txt")):read("a") end`,
    },
    lua_io_write: {
      language: "lua",
      code: `function run() return assert(io.open("${target("c")}", "w")) end`,
    },
    lua_remove: {
      language: "lua",
      code: `function run() return assert(os.remove("${dir}/secret.txt")) end`,
    },
    js_read: {
      language: "javascript",
      code: `function run() { return hwfe.readTextFile("${dir}/secret.txt"); }`,
    },
    js_fetch: {
      language: "javascript",
      code: `async function run() { return (await hwfe.fetch("http://127.0.0.1:5999/")).status; }`,
    },
    lua_execute: {
      language: "lua",
      code: `function run() return os.execute("touch ${target("a")}") end`,
    },
    lua_getenv: { language: "lua", code: "function run() return os.getenv('HOME') end" },
    lua_require: { language: "lua", code: "function run() return require('io') end" },
    lua_dofile: { language: "lua", code: `function run() return dofile("${dir}/secret.txt") end` },
    lua_loadlib: {
      language: "lua",
      code: "function run() return package.loadlib('libc.so.6', 'system') end",
    },
    lua_binary: {
      language: "lua",
      code:
        "function run()\n  local f, err = load('\\27Lua', 'x', 'b')\n  return { loaded = f ~= nil, err = err }\nend",
    },
    py_write: {
      code: `from js import Deno\ndef run():\n    Deno.writeTextFileSync("${target("b")}", "x")\n`,
    },
    py_remove: {
      code: `from js import Deno\ndef run():\n    Deno.removeSync("${dir}/secret.txt")\n`,
    },
    py_dotdot: {
      code: `from js import Deno, Object\ndef run():\n` +
        `    return Deno.readTextFileSync(Deno.cwd() + "/../../../../${dir}/secret.txt")\n`,
    },
    py_symlink: {
      code: `from js import Deno\ndef run():\n    Deno.symlinkSync("${dir}/secret.txt", "${
        target("link")
      }")\n`,
    },
    py_dlopen: {
      code: "from js import Deno, Object\ndef run():\n    Deno.dlopen('libc.so.6', Object.new())\n",
    },
    py_ctypes_libc: {
      code: "import ctypes\ndef run():\n    return ctypes.CDLL('libc.so.6').getpid()\n",
    },
    py_forge: {
      code: `import js
from pyodide.ffi import to_js

def post(message):
    js.postMessage(to_js(message, dict_converter=js.Object.fromEntries))

def run():
    # A guessed job id: the host ignores it. (Ids are random per job.)
    post({"type": "done", "id": "canary", "outcome": {"kind": "result", "json": '"forged"'}})
    post({"type": "output", "id": "canary", "stream": "stdout", "text": "forged line"})
    return "honest"
`,
    },
    js_globals: {
      language: "javascript",
      code: "function run() {\n  const g = (0, eval)('this');\n" +
        "  return [typeof g.Deno, typeof g.postMessage, typeof g.self, typeof g.os, typeof g.std,\n" +
        "          typeof g.fetch, typeof g.require, typeof g.process, typeof Function('return this')().Deno];\n}\n",
    },
    js_import: {
      language: "javascript",
      code: "async function run() {\n  return await import('fs');\n}\n",
    },
    ts_import: {
      language: "typescript",
      code: "async function run(): Promise<unknown> {\n  return await import('node:fs');\n}\n",
    },
    wasm_env_import: {
      language: "wasm",
      code: `(module (import "env" "system" (func (param i32) (result i32)))
  (func (export "run") (result i32) (i32.const 0)))`,
    },
    canary: { language: "lua", code: "function run() return { alive = true, n = 42 } end" },
  });
  const result = await hwfe(["run", "--json", "--keep-going", "--mode", "parallel", file], {
    env: { HWFE_ESCAPE_SECRET: secret },
  });
  const run = runJson(result);
  const s = run.steps;
  const fails = (name: string, pattern: RegExp) => {
    assert.equal(s[name].status, "failed", `${name} must fail: ${JSON.stringify(s[name].result)}`);
    assert.match(s[name].error!, pattern, name);
  };
  fails("lua_io", /secret\.txt: Permission denied \(not granted to this step/);
  fails("lua_io_write", /c: Permission denied \(not granted to this step/);
  fails("lua_remove", /secret\.txt: Permission denied \(not granted to this step/);
  fails("js_read", /PermissionDenied: read .*secret\.txt: not granted to this step/);
  fails(
    "js_fetch",
    /PermissionDenied: fetch http:\/\/127\.0\.0\.1:5999\/: not granted to this step/,
  );
  fails("lua_execute", /attempt to call a nil value \(field 'execute'\)/);
  assert.equal(s.lua_getenv.result, null, "os.getenv sees granted variables only");
  fails("lua_require", /attempt to call a nil value \(global 'require'\)/);
  fails("lua_dofile", /attempt to call a nil value \(global 'dofile'\)/);
  fails("lua_loadlib", /attempt to index a nil value \(global 'package'\)/);
  assert.deepEqual((s.lua_binary.result as { loaded: boolean }).loaded, false);
  fails("py_write", /NotCapable: Requires write access/);
  fails("py_remove", /NotCapable: Requires write access/);
  fails("py_dotdot", /NotCapable: Requires read access/);
  fails("py_symlink", /NotCapable/);
  fails("py_dlopen", /NotCapable: Requires ffi access/);
  fails("py_ctypes_libc", /OSError: could not load dynamic lib/);
  assert.equal(s.py_forge.result, "honest");
  assert.deepEqual(s.js_globals.result, Array(9).fill("undefined"));
  fails("js_import", /could not load module 'fs'/);
  fails("ts_import", /could not load module 'node:fs'/);
  fails("wasm_env_import", /imports env\.system; hwfe provides only WASI preview 1/);
  // The rest of the run is untouched.
  assert.deepEqual(s.canary.result, { alive: true, n: 42 });
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(secret));
  assert.doesNotMatch(result.stdout + result.stderr, /forged/);
  assert.equal(await Deno.readTextFile(`${dir}/secret.txt`), secret);
  for (const name of ["a", "b", "link"]) {
    assert.throws(() => Deno.lstatSync(target(name)), Deno.errors.NotFound, name);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("escape suite: shell steps do not run without --allow-run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-escape-" });
  const file = await writeWorkflow("shell_escape", {
    innocent: { language: "lua", code: "function run() return 1 end" },
    sneaky: { language: "shell", code: `touch ${dir}/ran` },
  });
  const result = await hwfe(["run", file]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /step 'sneaky' \(shell\) needs --allow-run; rerun as: hwfe run --allow-run /,
  );
  assert.doesNotMatch(result.stdout, /innocent/, "nothing started");
  assert.throws(() => Deno.statSync(`${dir}/ran`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

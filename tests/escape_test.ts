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

/** A WASI module that tries to leave its pre-opened "data" (fd 4) and prints each errno. */
const WASI_ESCAPES = `(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "../secret.txt")
  (data (i32.const 120) "../../../../../../etc/hostname")
  (data (i32.const 160) "new.txt")
  (data (i32.const 180) "in.csv")
  (func $num (param $n i32)
    (i32.store8 (i32.const 60) (i32.add (i32.const 48) (i32.div_u (local.get $n) (i32.const 10))))
    (i32.store8 (i32.const 61) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
    (i32.store8 (i32.const 62) (i32.const 32))
    (i32.store (i32.const 8) (i32.const 60))
    (i32.store (i32.const 12) (i32.const 3))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20))))
  (func (export "_start")
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 100) (i32.const 13)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 120) (i32.const 30)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 160) (i32.const 7)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $unlink (i32.const 4) (i32.const 180) (i32.const 6)))))`;

Deno.test("escape suite with narrow grants: no step leaves data/ (read) and out/ (write)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-escape-narrow-" });
  const secret = `secret-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${dir}/secret.txt`, secret);
  await Deno.mkdir(`${dir}/data`);
  await Deno.mkdir(`${dir}/out`);
  await Deno.writeTextFile(`${dir}/data/in.csv`, "a,1\n");
  await Deno.writeTextFile(`${dir}/out/mine.txt`, "mine");
  const granted = { read: ["data", "out"], write: ["out"] };
  // Each step tries every escape, and returns what each attempt came to.
  const file = await writeWorkflow("narrow", {
    lua: {
      language: "lua",
      permissions: granted,
      code: `local function try(f, ...)
  local ok, value, message = pcall(f, ...)
  if ok and value then return "ESCAPED" end
  return tostring(message or value)
end
function run()
  return {
    dotdot = try(io.open, "data/../secret.txt"),
    absolute = try(io.open, "${dir}/secret.txt"),
    out_dotdot = try(io.open, "out/../escaped.txt", "w"),
    write_read_only = try(io.open, "data/new.txt", "w"),
    remove_read_only = try(os.remove, "data/in.csv"),
    rename_out = try(os.rename, "out/mine.txt", "${dir}/escaped.txt"),
    rename_in = try(os.rename, "${dir}/secret.txt", "out/stolen.txt"),
  }
end`,
    },
    python: {
      language: "python",
      permissions: granted,
      code: `import os

def attempt(f):
    try:
        f()
        return "ESCAPED"
    except BaseException as e:
        return type(e).__name__ + ": " + str(e)[:120]

def mount():
    import pyodide_js
    os.makedirs("/mnt/host", exist_ok=True)
    pyodide_js.mountNodeFS("/mnt/host", "${dir}")
    return open("/mnt/host/secret.txt").read()

def deno_read():
    from js import Deno
    return Deno.readTextFileSync("${dir}/secret.txt")

def run():
    return {
        "dotdot": attempt(lambda: open("data/../secret.txt").read()),
        "absolute": attempt(lambda: open("${dir}/secret.txt").read()),
        # The working directory exists in memory only, holding the mount points.
        "listdir_parent": sorted(os.listdir("${dir}")),
        "write_read_only": attempt(lambda: open("data/new.txt", "w").write("x")),
        "remove_read_only": attempt(lambda: os.remove("data/in.csv")),
        "symlink": attempt(lambda: os.symlink("${dir}/secret.txt", "out/link")),
        "rename_out": attempt(lambda: os.rename("out/mine.txt", "${dir}/escaped.txt")),
        "mount": attempt(mount),
        "deno": attempt(deno_read),
    }
`,
    },
    javascript: {
      language: "javascript",
      permissions: granted,
      code: `function attempt(f) {
  try { f(); return "ESCAPED"; } catch (e) { return e.name + ": " + e.message; }
}
function run() {
  return {
    dotdot: attempt(() => hwfe.readTextFile("data/../secret.txt")),
    absolute: attempt(() => hwfe.readTextFile("${dir}/secret.txt")),
    out_dotdot: attempt(() => hwfe.writeTextFile("out/../escaped.txt", "x")),
    write_read_only: attempt(() => hwfe.writeTextFile("data/new.txt", "x")),
    remove_read_only: attempt(() => hwfe.remove("data/in.csv")),
  };
}`,
    },
    wasi: { language: "wasm", permissions: granted, code: WASI_ESCAPES },
    canary: { language: "lua", code: "function run() return { alive = true } end" },
  });
  const result = await hwfe(
    ["run", "--json", "--keep-going", "--allow-read", "--allow-write", file],
    { cwd: dir },
  );
  assert.equal(result.code, 0, result.stderr);
  const s = runJson(result).steps;
  const NOT_GRANTED = /Permission denied \(not granted to this step/;
  const lua = s.lua.result as Record<string, string>;
  assert.deepEqual(Object.keys(lua).sort(), [
    "absolute",
    "dotdot",
    "out_dotdot",
    "remove_read_only",
    "rename_in",
    "rename_out",
    "write_read_only",
  ]);
  for (const [attempt, outcome] of Object.entries(lua)) {
    assert.match(outcome, NOT_GRANTED, `lua ${attempt}`);
  }
  const py = s.python.result as Record<string, string>;
  // Paths outside the mounts do not exist in Python's file system at all.
  assert.match(py.dotdot, /^FileNotFoundError/);
  assert.match(py.absolute, /^FileNotFoundError/);
  assert.deepEqual(py.listdir_parent, ["data", "out"]);
  assert.match(py.write_read_only, /^PermissionError/);
  assert.match(py.remove_read_only, /^PermissionError/);
  assert.match(py.symlink, /^PermissionError/);
  assert.match(py.rename_out, /^(PermissionError|OSError)/);
  assert.match(py.mount, /^(PermissionError|FileNotFoundError|OSError|JsException)/);
  assert.match(py.deno, /NotCapable: Requires read access/);
  for (const [attempt, outcome] of Object.entries(s.javascript.result as Record<string, string>)) {
    assert.match(outcome, /^PermissionDenied: .*not granted to this step/, `javascript ${attempt}`);
  }
  // ENOTCAPABLE (76) for paths out of the pre-open, EACCES (2) to write or delete in it.
  assert.deepEqual((s.wasi.result as { stdout: string }).stdout, "76 76 02 02");
  assert.deepEqual(s.canary.result, { alive: true });
  // Nothing outside out/ changed, and nothing secret came out.
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(secret));
  assert.equal(await Deno.readTextFile(`${dir}/secret.txt`), secret);
  assert.equal(await Deno.readTextFile(`${dir}/data/in.csv`), "a,1\n");
  assert.equal(await Deno.readTextFile(`${dir}/out/mine.txt`), "mine");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "data",
    "out",
    "secret.txt",
  ]);
  assert.deepEqual([...Deno.readDirSync(`${dir}/data`)].map((e) => e.name), ["in.csv"]);
  assert.deepEqual([...Deno.readDirSync(`${dir}/out`)].map((e) => e.name), ["mine.txt"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("escape suite with narrow grants: hosts other than the granted one are refused, redirects too", async () => {
  const other = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("other"),
  );
  const granted = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.redirect(`http://127.0.0.1:${other.addr.port}/`, 302),
  );
  try {
    const host = `127.0.0.1:${granted.addr.port}`;
    const otherUrl = `http://127.0.0.1:${other.addr.port}/`;
    const file = await writeWorkflow("hosts", {
      javascript: {
        language: "javascript",
        permissions: { net: [host] },
        code: `async function run() {
  const out = {};
  for (const [name, url] of [["other", "${otherUrl}"], ["redirect", "http://${host}/"]]) {
    try { await hwfe.fetch(url); out[name] = "ESCAPED"; } catch (e) { out[name] = e.name + ": " + e.message; }
  }
  return out;
}`,
      },
      python: {
        language: "python",
        permissions: { net: [host] },
        code: `from pyodide.http import pyfetch

async def run():
    out = {}
    for name, url in [("other", "${otherUrl}"), ("redirect", "http://${host}/")]:
        try:
            await pyfetch(url)
            out[name] = "ESCAPED"
        except BaseException as e:
            out[name] = str(e)[:200]
    return out
`,
      },
    });
    const result = await hwfe(["run", "--json", "--allow-net", file]);
    assert.equal(result.code, 0, result.stderr);
    const s = runJson(result).steps;
    for (const [language, outcomes] of Object.entries(s)) {
      for (const [attempt, outcome] of Object.entries(outcomes.result as Record<string, string>)) {
        assert.match(outcome, /not granted to this step/, `${language} ${attempt}`);
      }
    }
  } finally {
    await other.shutdown();
    await granted.shutdown();
  }
});

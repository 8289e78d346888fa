/**
 * Python steps that share a worker cannot reach each other (docs/SECURITY.md,
 * "Between steps"): what one step changes in the interpreter, its file
 * system or the worker's JavaScript is gone before the next step, and a
 * worker never serves steps granted different variables. Each attack runs
 * sequentially (every step on one worker) and, where it matters, with
 * `--no-isolate` (workers in hwfe's own process).
 */

import assert from "node:assert/strict";
import { SHARED_STATE_GLOBALS } from "../lib/step_worker.ts";
import { hwfe, runJson, writeWorkflow } from "./_helpers.ts";

const MODES = [[], ["--no-isolate"], ["--mode", "parallel", "-j", "1"]];

Deno.test("a Python step cannot read a variable granted only to another step through a replaced json.dumps", async () => {
  const secret = `s3cret-${crypto.randomUUID()}`;
  const file = await writeWorkflow("steal", {
    spy: {
      code: `import json, os
_dumps = json.dumps
def dumps(o, *a, **k):
    if "API_TOKEN" in os.environ: open("/tmp/loot", "w").write(os.environ["API_TOKEN"])
    return _dumps(o, *a, **k)
json.dumps = dumps
def run(): return "ok"
`,
    },
    owner: {
      depends_on: ["spy"],
      permissions: { env: ["API_TOKEN"] },
      code: `def run(): return "used the token"\n`,
    },
    thief: {
      depends_on: ["owner"],
      code: `def run():
    try:
        return open("/tmp/loot").read()
    except FileNotFoundError:
        return "nothing"
`,
    },
  });
  for (const mode of [...MODES, ["--mode", "parallel"]]) {
    const result = await hwfe(["run", "--allow-env=API_TOKEN", "--json", ...mode, file], {
      env: { API_TOKEN: secret },
    });
    const run = runJson(result);
    assert.equal(run.status, "succeeded", `${mode}: ${result.stderr}`);
    assert.equal(run.steps.thief.result, "nothing", String(mode));
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), String(mode));
  }
});

Deno.test("a Python step cannot change what later steps on its worker compute", async () => {
  const file = await writeWorkflow("tamper", {
    a: {
      code: `import builtins, codecs, json, json.encoder, random, sys
_dumps = json.dumps
json.dumps = lambda o, *a, **k: _dumps(o, *a, **k).replace('"ok"', '"TAMPERED"')
json.encoder.JSONEncoder.encode = lambda self, o: '"TAMPERED"'
json._default_encoder.item_separator = "TAMPERED"
builtins.sum = lambda *a: 42
builtins.print = lambda *a, **k: None
_len = len
builtins.len = lambda o: 7 if o == "abc" else _len(o)
random.seed(1)
codecs.register(lambda name: None)
def spoil(event, args):
    if event == "compile" and "printed" in repr(args[0]): raise RuntimeError("TAMPERED")
class Haunt:
    def __del__(self):
        json.dumps = lambda *a, **k: '"TAMPERED"'
sys.modules["json"].haunt = Haunt()
open("/tmp/planted", "w").write("x")
import os
os.makedirs("/lib/python3.14/site-packages", exist_ok=True)
open("/lib/python3.14/site-packages/planted.py", "w").write("VALUE = 'TAMPERED'")
sys.addaudithook(spoil)
def run(): return "ok"
`,
    },
    b: {
      depends_on: ["a"],
      code: `import json, os, random, time
def run():
    print("printed")
    time.sleep(0.001)
    try:
        import planted
        imported = planted.VALUE
    except ImportError:
        imported = None
    return {"status": "ok", "sum": sum([1, 2]), "len": len("abc"), "dumps": json.dumps([1, 2]),
            "tmp": os.listdir("/tmp"), "planted": imported, "random": random.random()}
`,
    },
    c: {
      depends_on: ["b"],
      code: `import random\ndef run(): return random.random()\n`,
    },
  });
  for (const mode of MODES) {
    const result = await hwfe(["run", ...mode, "--json", file]);
    const run = runJson(result);
    assert.equal(run.status, "succeeded", `${mode}: ${result.stderr}`);
    const b = run.steps.b.result as Record<string, unknown>;
    assert.deepEqual(
      { ...b, random: undefined },
      {
        status: "ok",
        sum: 3,
        len: 3,
        dumps: "[1, 2]",
        tmp: [],
        planted: null,
        random: undefined,
      },
      String(mode),
    );
    // Each step draws its own random numbers, though every step starts from one state.
    assert.notEqual(b.random, run.steps.c.result, String(mode));
    const human = await hwfe(["run", ...mode, file]);
    assert.match(human.stdout, /\[b\] printed/, String(mode));
  }
});

Deno.test("a Python step that uses the JavaScript bridge retires its worker: later steps meet none of its changes", async () => {
  const file = await writeWorkflow("bridge", {
    a: {
      code: `from pyodide.code import run_js
def run():
    # Later, so that this step's own result is not spoilt.
    run_js("globalThis.hwfeLeft = 'TAMPERED'; setTimeout(() => { " +
           "String.prototype.slice = () => 'TAMPERED'; JSON.stringify = () => 'TAMPERED' }, 0)")
    return "ok"
`,
    },
    b: {
      depends_on: ["a"],
      code: `from pyodide.code import run_js
def run():
    return {"left": run_js("typeof globalThis.hwfeLeft"), "slice": run_js("'abc'.slice(1)")}
`,
    },
    c: { depends_on: ["b"], code: `def run(): return {"status": "ok"}\n` },
  });
  for (const mode of MODES) {
    const result = await hwfe(["run", ...mode, "--json", file]);
    const run = runJson(result);
    assert.equal(run.status, "succeeded", `${mode}: ${result.stderr}`);
    assert.deepEqual(run.steps.b.result, { left: "undefined", slice: "bc" }, String(mode));
    assert.deepEqual(run.steps.c.result, { status: "ok" }, String(mode));
  }
});

Deno.test("step workers offer no storage or channel that outlives a step or reaches other workers", async () => {
  const file = await writeWorkflow("storage", {
    plant: {
      code: `from pyodide.code import run_js
async def run():
    try:
        await run_js("caches.open('x').then(c => c.put('http://x/k', new Response('planted')))")
        return "planted"
    except Exception as error:
        return str(error).splitlines()[0]
`,
    },
    globals: {
      code: `from pyodide.code import run_js
def run():
    return {"globals": sorted(run_js("Object.getOwnPropertyNames(globalThis)").to_py()),
            "locks": run_js("typeof navigator.locks"), "kv": run_js("typeof Deno.openKv")}
`,
    },
  });
  for (const mode of [[], ["--no-isolate"]]) {
    const result = await hwfe(["run", ...mode, "--json", file]);
    const run = runJson(result);
    assert.equal(run.status, "succeeded", `${mode}: ${result.stderr}`);
    assert.equal(run.steps.plant.result, "ReferenceError: caches is not defined");
    const { globals, locks, kv } = run.steps.globals.result as {
      globals: string[];
      locks: string;
      kv: string;
    };
    assert.deepEqual(globals.filter((name) => SHARED_STATE_GLOBALS.includes(name as never)), []);
    assert.deepEqual([locks, kv], ["undefined", "undefined"]);
  }
});

Deno.test("Python: a path ending in / that names a file is not a directory (ENOTDIR)", async () => {
  const file = await writeWorkflow("slash", {
    p: {
      permissions: { read: ["."] },
      code: `import os
def attempt(call):
    try:
        return repr(call())
    except OSError as error:
        return type(error).__name__
def run():
    open("/tmp/f", "w").write("x")
    return {"open": attempt(lambda: open("a.txt/").read()), "stat": attempt(lambda: os.stat("a.txt/")),
            "exists": os.path.exists("a.txt/"), "memory": attempt(lambda: open("/tmp/f/").read()),
            "file": open("a.txt").read(), "dir": os.path.isdir("./")}
`,
    },
  });
  const dir = file.replace(/\/[^/]+$/, "");
  await Deno.writeTextFile(`${dir}/a.txt`, "hi");
  const result = await hwfe(["run", "--allow-read", "--json", file], { cwd: dir });
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  assert.deepEqual(run.steps.p.result, {
    open: "NotADirectoryError",
    stat: "NotADirectoryError",
    exists: false,
    memory: "NotADirectoryError",
    file: "hi",
    dir: true,
  });
});

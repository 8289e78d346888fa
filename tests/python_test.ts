/**
 * Python steps end to end through the real CLI: calling conventions, data
 * both ways, errors and tracebacks, captured output, the offline import
 * message, the sandbox, timeouts and isolation between steps.
 */

import assert from "node:assert/strict";
import {
  outputLines,
  readUntil,
  runFile,
  runFileWith,
  spawnHwfe,
  writeWorkflow,
} from "./_helpers.ts";

Deno.test("Python calling conventions: run(inputs), run(inputs=None), run(), async, *args", async () => {
  const file = await writeWorkflow("conventions", {
    root_inputs: { code: "def run(inputs):\n    return inputs\n" },
    root_default: { code: "def run(inputs=None):\n    return inputs\n" },
    no_params: { code: 'def run():\n    return "none"\n' },
    var_args: { code: "def run(*args):\n    return len(args)\n" },
    module_first: {
      code:
        'ORDER = ["module"]\nimport json\n\ndef run():\n    ORDER.append("run")\n    return ORDER\n',
    },
    awaiting: {
      depends_on: ["root_inputs", "no_params"],
      code: "import asyncio\n\nasync def run(inputs):\n" +
        "    await asyncio.sleep(0.01)\n    return sorted(inputs)\n",
    },
  });
  const { result, run } = await runFile(file, "--mode", "parallel");
  assert.equal(result.code, 0, result.stderr);
  const results = Object.fromEntries(Object.entries(run.steps).map(([k, v]) => [k, v.result]));
  assert.deepEqual(results, {
    root_inputs: {},
    root_default: {},
    no_params: "none",
    var_args: 1,
    module_first: ["module", "run"],
    awaiting: ["no_params", "root_inputs"],
  });
});

Deno.test("Python data both ways: None, nesting, unicode, big integers, tuples", async () => {
  const file = await writeWorkflow("data", {
    from_lua: {
      language: "lua",
      code: `function run()
  return { big = 9223372036854775807, neg = -9223372036854775807 - 1, text = "ünï ✓ 🐍",
           nested = { list = { 1, { 2, { 3 } } }, map = { a = { b = true } } }, half = 0.5,
           empty = {} }
end`,
    },
    py: {
      depends_on: ["from_lua"],
      code: `def run(inputs):
    d = inputs["from_lua"]
    assert d["big"] == 2**63 - 1 and type(d["big"]) is int, d["big"]
    assert d["neg"] == -2**63, d["neg"]
    assert d["text"] == "ünï ✓ 🐍"
    assert d["nested"] == {"list": [1, [2, [3]]], "map": {"a": {"b": True}}}
    assert d["half"] == 0.5 and d["empty"] == {}
    return {"none": None, "list_with_none": [None, 1], "huge": 2**100, "tuple": (1, (2, 3)),
            "text": d["text"], "float": 1.25, "false": False, "empty_list": [], "int_key": {7: "seven"}}
`,
    },
    back_in_lua: {
      language: "lua",
      depends_on: ["py"],
      code: `function run(inputs)
  local p = inputs.py
  assert(p.none == nil and p.list_with_none[2] == 1 and p.tuple[2][2] == 3)
  assert(p.text == "ünï ✓ 🐍" and p.float == 1.25 and p["false"] == false)
  assert(p.int_key["7"] == "seven")
  return { empty_list = p.empty_list, n = #p.tuple }
end`,
    },
    back_in_python: {
      depends_on: ["py"],
      code: `def run(inputs):
    p = inputs["py"]
    assert "none" in p and p["none"] is None, "None is null, never a vanished key"
    assert p["huge"] == 2**100
    return p["huge"] + 1
`,
    },
  });
  const { result, run } = await runFile(file);
  assert.equal(result.code, 0, result.stderr);
  // Integers beyond 2^53 are checked in the JSON text (JSON.parse would round them).
  assert.match(result.stdout, /"huge": 1267650600228229401496703205376\b/);
  assert.match(result.stdout, /"result": 1267650600228229401496703205377\b/);
  assert.deepEqual(
    run.steps.py.result && (run.steps.py.result as Record<string, unknown>).none,
    null,
  );
  assert.deepEqual((run.steps.py.result as Record<string, unknown>).tuple, [1, [2, 3]]);
  assert.deepEqual(run.steps.back_in_lua.result, { empty_list: [], n: 2 });
});

Deno.test("a Python result that is not JSON data fails naming the step, the type and where", async () => {
  const file = await writeWorkflow("not_json", {
    a_set: { code: "def run():\n    return {'tags': [1, {2, 3}]}\n" },
    a_datetime: { code: "import datetime\ndef run():\n    return datetime.date(2026, 1, 2)\n" },
    an_object: { code: "class Thing:\n    pass\n\ndef run():\n    return {'x': Thing()}\n" },
    a_cycle: { code: "def run():\n    x = []\n    x.append(x)\n    return x\n" },
    a_tuple_key: { code: "def run():\n    return {(1, 2): 'pair'}\n" },
    converted: { code: "import datetime\ndef run():\n    return str(datetime.date(2026, 1, 2))\n" },
  });
  const { result, run } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  const errors = Object.fromEntries(Object.entries(run.steps).map(([k, v]) => [k, v.error]));
  assert.equal(
    errors.a_set,
    "step 'a_set' returned a set at result['tags'][1], which is not JSON data; " +
      "convert it (to a str, list or dict) before returning",
  );
  assert.match(errors.a_datetime!, /^step 'a_datetime' returned a datetime\.date at result,/);
  assert.match(
    errors.an_object!,
    /^step 'an_object' returned a __hwfe_step__\.Thing at result\['x'\]/,
  );
  assert.match(
    errors.a_cycle!,
    /^step 'a_cycle' returned a list that contains itself at result\[0\]/,
  );
  assert.match(errors.a_tuple_key!, /^step 'a_tuple_key' returned a dict key of type tuple/);
  assert.equal(run.steps.converted.result, "2026-01-02");
});

Deno.test("Python errors: tracebacks show the step's own lines and frames only", async () => {
  const file = await writeWorkflow("errors", {
    boom: {
      code: `import json

def parse(text):
    return json.loads(text)

def run():
    parse("{not json")
`,
    },
    syntax: { code: "def run():\n    return (1,\n\nx = 2\n" },
    no_run: { code: "x = 1\n" },
    not_callable: { code: "run = 5\n" },
    at_import: { code: "value = 1 / 0\n\ndef run():\n    return value\n" },
  });
  const { result, run } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  const boom = run.steps.boom.error!;
  assert.match(boom, /^step 'boom' \(python\): json\.decoder\.JSONDecodeError: Expecting property/);
  // Each line of the step also as the line of the workflow file (the code starts on its line 7).
  assert.match(boom, /File "<step boom>", line 7 \(\S+errors\.lua:13\), in run\n +parse\("\{not/);
  assert.match(
    boom,
    /File "<step boom>", line 4 \(\S+errors\.lua:10\), in parse\n +return json\.loads\(text\)/,
  );
  assert.doesNotMatch(boom, /_hwfe|pyodide|\/lib\/python|<exec>|File "\//, "no internal frames");
  // Not parsed before the run (Python is not running yet): the step finds it.
  assert.match(
    run.steps.syntax.error!,
    /^step 'syntax' \(python\): syntax error at <step syntax> line 2 \(\S+errors\.lua:\d+\): '\(' was never closed\n {4}return \(1,\n {11}\^$/,
  );
  assert.equal(run.steps.no_run.error, "step 'no_run' (python): no run() function defined");
  assert.match(run.steps.not_callable.error!, /run is a int, not a function/);
  assert.match(
    run.steps.at_import.error!,
    /ZeroDivisionError: division by zero\nTraceback \(most recent call last\):\n {2}File "<step at_import>", line 1 \(\S+:\d+\), in <module>/,
  );
});

Deno.test("Python output is captured per step, a last partial line included, nothing leaking", async () => {
  const file = await writeWorkflow("output", {
    first: {
      code: `import sys

def run():
    print("one")
    print("two", file=sys.stderr)
    sys.stdout.write("partial without newline")
    sys.stderr.write("err partial")
    return 1
`,
    },
    second: {
      depends_on: ["first"],
      code: 'def run(inputs):\n    print("second speaks")\n    return 2\n',
    },
  });
  const { result, lines } = await runFile(file);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(lines.first?.sort(), ["err partial", "one", "partial without newline", "two"]);
  assert.deepEqual(lines.second, ["second speaks"]);
});

Deno.test("importing a package that is not there says Python has the standard library only", async () => {
  const file = await writeWorkflow("offline", {
    numpy: { code: "import numpy\n\ndef run():\n    return 1\n" },
    requests: { code: "def run():\n    import requests\n    return 1\n" },
    stdlib: {
      code: `import json, re, random, datetime, math, collections, itertools, statistics
import decimal, hashlib, uuid, csv, sqlite3

def run():
    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.execute("insert into t values (42)")
    return [db.execute("select x from t").fetchone()[0], statistics.mean([1, 2, 3]),
            hashlib.sha256(b"hwfe").hexdigest()[:8]]
`,
    },
  });
  const { result, run } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  for (const name of ["numpy", "requests"]) {
    assert.match(
      run.steps[name].error!,
      new RegExp(
        `^step '${name}' \\(python\\): ModuleNotFoundError: No module named '${name}'\\. ` +
          `hwfe runs Python steps on Pyodide with the standard library only`,
      ),
    );
  }
  assert.deepEqual(run.steps.stdlib.result, [42, 2, "37e21451"]);
});

Deno.test("Python steps cannot reach the host: commands, files, environment, network", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-escape-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })();
  const secret = `hwfe-secret-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${dir}/host.txt`, secret);
  const touch = (name: string) => `${dir}/${name}`;
  const file = await writeWorkflow("escape", {
    os_system: { code: `import os\ndef run():\n    return os.system("touch ${touch("a")}")\n` },
    ctypes_system: {
      code: `import ctypes\ndef run():\n    return ctypes.CDLL(None).system(b"touch ${
        touch("b")
      }")\n`,
    },
    subprocess: {
      code: `import subprocess\ndef run():\n    subprocess.run(["touch", "${touch("c")}"])\n`,
    },
    js_command: {
      code: `from js import Deno, Object\ndef run():\n` +
        `    Deno.Command.new("touch", Object.fromEntries([["args", ["${
          touch("d")
        }"]]])).outputSync()\n`,
    },
    js_read: {
      code:
        `from js import Deno\ndef run():\n    return Deno.readTextFileSync("${dir}/host.txt")\n`,
    },
    python_read: { code: `def run():\n    return open("${dir}/host.txt").read()\n` },
    mount_host: {
      code: `import os, pyodide_js\ndef run():\n    pyodide_js.mountNodeFS("/host", "${dir}")\n` +
        `    return open("/host/host.txt").read()\n`,
    },
    node_fs: {
      code:
        `from js import require\ndef run():\n    return require("fs").readFileSync("${dir}/host.txt", "utf8")\n`,
    },
    env_python: { code: "import os\ndef run():\n    return dict(os.environ)\n" },
    env_js: { code: "from js import Deno\ndef run():\n    return Deno.env.toObject().to_py()\n" },
    socket: {
      code:
        `import socket\ndef run():\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n`,
    },
    urllib: {
      code: `import urllib.request\ndef run():\n` +
        `    return urllib.request.urlopen("http://127.0.0.1:${port}/", timeout=2).read()\n`,
    },
    fetch: {
      code: `from js import fetch\nasync def run():\n` +
        `    return (await fetch("http://127.0.0.1:${port}/")).status\n`,
    },
    later: {
      depends_on: ["os_system", "ctypes_system", "env_python"],
      code: "def run(inputs):\n    return sorted(inputs)\n",
    },
  });
  try {
    const { result, run, lines } = await runFileWith(
      { env: { HWFE_TEST_SECRET: secret } },
      file,
      "--keep-going",
      "--mode",
      "parallel",
    );
    const steps = run.steps;
    // A refused command is a harmless non-zero return with a clear message.
    for (const name of ["os_system", "ctypes_system"]) {
      assert.equal(steps[name].status, "succeeded", steps[name].error);
      assert.notEqual(steps[name].result, 0);
      assert.match(lines[name]?.join("\n") ?? "", /Python steps cannot run host commands/);
    }
    assert.match(steps.subprocess.error!, /OSError: .*does not support processes/);
    assert.match(steps.js_command.error!, /NotCapable: Requires run access .*no host access/);
    assert.match(steps.js_read.error!, /NotCapable: Requires read access .*no host access/);
    assert.match(steps.python_read.error!, /FileNotFoundError/);
    assert.equal(steps.mount_host.status, "failed");
    assert.equal(steps.node_fs.status, "failed");
    assert.doesNotMatch(
      result.stdout + result.stderr,
      new RegExp(secret),
      "neither the host file nor the host environment reaches a result or the output",
    );
    assert.match(steps.env_js.error!, /NotCapable: Requires env access/);
    assert.equal(steps.env_python.status, "succeeded");
    assert.doesNotMatch(JSON.stringify(steps.env_python.result), /HWFE_TEST_SECRET|HOME=\/root/);
    for (const name of ["socket", "urllib", "fetch"]) {
      assert.equal(steps[name].status, "failed", `${name} must not connect`);
    }
    assert.equal(connections, 0, "no connection reached the listener");
    assert.deepEqual(steps.later.result, ["ctypes_system", "env_python", "os_system"]);
    for (const name of ["a", "b", "c", "d"]) {
      assert.throws(() => Deno.statSync(touch(name)), Deno.errors.NotFound, `${name} not created`);
    }
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Python timeouts stop loops, sleeps and awaits; a C loop still fails on time", async () => {
  const file = await writeWorkflow("timeouts", {
    loop: { timeout: 0.5, code: "def run():\n    while True:\n        pass\n" },
    sleep: { timeout: 0.5, code: "import time\ndef run():\n    time.sleep(60)\n" },
    swallow: {
      timeout: 0.5,
      code: "def run():\n    while True:\n        try:\n            while True:\n" +
        "                pass\n        except BaseException:\n            pass\n",
    },
    c_loop: { timeout: 0.5, code: "def run():\n    return sum(range(10**13))\n" },
    awaiting: {
      timeout: 0.5,
      code: "import asyncio\nasync def run():\n    await asyncio.sleep(60)\n    print('late')\n",
    },
    after: {
      depends_on: ["loop", "sleep", "swallow", "c_loop", "awaiting"],
      code: "import time\ndef run(inputs=None):\n    time.sleep(0.01)\n    return 'still fine'\n",
    },
    independent: { code: "def run():\n    return 'ran'\n" },
  });
  const { result, run, lines } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  for (const name of ["loop", "sleep", "swallow", "c_loop", "awaiting"]) {
    assert.equal(run.steps[name].error, `step '${name}' timed out after 0.5s`);
  }
  assert.equal(run.steps.after.status, "skipped");
  assert.equal(run.steps.independent.result, "ran");
  assert.equal(lines.awaiting, undefined, "a cancelled coroutine prints nothing later");
});

Deno.test("each Python step gets a fresh namespace; environment, cwd and sys.path are reset", async () => {
  const file = await writeWorkflow("isolation", {
    first: {
      code: `import os, sys
COUNTER = 41

def run():
    global COUNTER
    COUNTER += 1
    os.environ["LEAKED"] = "yes"
    os.makedirs("/tmp/elsewhere", exist_ok=True)
    os.chdir("/tmp/elsewhere")
    sys.path.append("/nowhere")
    return COUNTER
`,
    },
    second: {
      depends_on: ["first"],
      code: `import os, sys

def run(inputs):
    return {
        "counter": globals().get("COUNTER"),
        "env": os.environ.get("LEAKED"),
        "cwd": os.getcwd(),
        "path": "/nowhere" in sys.path,
    }
`,
    },
  });
  const { result, run } = await runFile(file);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(run.steps.first.result, 42);
  assert.deepEqual(run.steps.second.result, {
    counter: null,
    env: null,
    cwd: "/home/pyodide",
    path: false,
  });
});

Deno.test("a Python step that kills its interpreter fails alone; later steps get a new one", async () => {
  const file = await writeWorkflow("crash", {
    a_exit: { code: "import os\ndef run():\n    os._exit(1)\n" },
    b_console: { code: "import js\ndef run():\n    js.console.log('via console')\n    return 1\n" },
    c_asyncio_run: {
      code:
        "import asyncio\nasync def main():\n    return 1\ndef run():\n    return asyncio.run(main())\n",
    },
    d_too_deep: {
      code: "def run():\n    x = []\n    for _ in range(600):\n        x = [x]\n    return x\n",
    },
  });
  const { result, run, lines } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  assert.equal(
    run.steps.a_exit.error,
    "step 'a_exit' (python): the Python interpreter stopped (Program terminated with exit(1)); " +
      "hwfe starts a new one for later steps",
  );
  assert.equal(run.steps.b_console.result, 1);
  assert.deepEqual(lines.b_console, ["via console"]);
  assert.match(run.steps.c_asyncio_run.error!, /make run itself async instead/);
  assert.match(run.steps.d_too_deep.error!, /returned a value nested more than 500 levels deep/);
});

Deno.test("Python lines printed before a sleep or an await show at once (output is batched)", async () => {
  const file = await writeWorkflow("prompt_output", {
    sleeper: {
      code:
        "import time\ndef run():\n    print('first')\n    print('second')\n    time.sleep(30)\n",
    },
    awaiter: {
      code: "import asyncio\nasync def run():\n    await asyncio.sleep(0)\n" +
        "    print('third')\n    print('fourth')\n    await asyncio.sleep(30)\n",
    },
  });
  const child = spawnHwfe(["run", "--mode", "parallel", file]);
  try {
    // Both steps sleep 30 s after printing: their lines must come long before.
    let { text, rest } = await readUntil(child.stdout, "[sleeper] second");
    while (!text.includes("[awaiter] fourth")) {
      const { value, done } = await rest.read();
      if (done) break;
      text += value;
    }
    // The two steps' lines may interleave.
    assert.deepEqual(outputLines(text).awaiter, ["third", "fourth"]);
    assert.doesNotMatch(text, /succeeded|failed/);
    rest.releaseLock();
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

/**
 * Python steps that share a worker cannot reach each other (docs/SECURITY.md,
 * "Between steps"): what one step changes in the interpreter, its file
 * system or the worker's JavaScript is gone before the next step, and a
 * worker never serves steps granted different variables. Each attack runs
 * sequentially (every step on one worker) and, where it matters, with
 * `--no-isolate` (workers in hwfe's own process).
 */

import assert from "node:assert/strict";
import { SHARED_STATE_GLOBALS } from "../host/worker_entry.ts";
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

/**
 * What a step sees of the interpreter's surroundings: its files (bytes,
 * names, descriptors and their flags), the counters and tables Emscripten
 * keeps in JavaScript, the umask, stdin. Every probe of a run must see the
 * same, whatever ran before it on its worker.
 */
const PROBE = `import fcntl, hashlib, os, socket, sys, time
# Names go through Emscripten's tables, which retire a worker: only after the attacks on them.
NAMES = False
def flags(fd):
    try:
        return fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError as error:
        return type(error).__name__
def attempt(call):
    try:
        return call()
    except Exception as error:
        return type(error).__name__
def planted():
    import planted
    return planted.VALUE
def run():
    open("/tmp/probe", "w").write("x")
    reader, writer = os.pipe()
    old = os.umask(0o22)
    os.umask(old)
    time.sleep(0.01)
    print("printed")
    zip_stat = os.stat("/lib/python314.zip")
    return {
        "inode": os.stat("/tmp/probe").st_ino,
        "pipe": attempt(lambda: os.readlink(f"/proc/self/fd/{reader}")),
        "zip": hashlib.sha256(open("/lib/python314.zip", "rb").read()).hexdigest(),
        "zip_stat": [zip_stat.st_size, zip_stat.st_mode],
        # In listing order: the order is a message too.
        "tree": {d: os.listdir(d) for d in ["/", "/lib", "/lib/python3.14", "/dev", "/tmp"]},
        "planted": attempt(planted),
        "umask": old,
        "flags": [flags(fd) for fd in range(8)],
        "stdin": attempt(lambda: repr(os.read(0, 100))),
        **({"host": attempt(lambda: socket.gethostbyname("probe.example")),
            "proto": attempt(lambda: socket.getprotobyname("udp"))} if NAMES else {}),
    }
`;
/** What the names read on a fresh worker. */
const FRESH_NAMES = { host: "172.29.1.0", proto: 17 };

/** Attacks on what lies outside the interpreter's memory, each followed by a probe. */
const ATTACKS: Record<string, string> = {
  dns: `import socket
def run():
    socket.gethostbyname("secret-one.example")
    socket.gethostbyname("secret-two.example")
`,
  zip_in_place: `import os
def run():
    path = "/lib/python314.zip"
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"TAMPERED")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
`,
  swap_directory: `import os
def run():
    os.rename("/lib/python3.14", "/tmp/moved")
    os.makedirs("/lib/python3.14/site-packages")
    for name in os.listdir("/tmp/moved"):
        os.rename(f"/tmp/moved/{name}", f"/lib/python3.14/{name}") if name != "site-packages" else None
    open("/lib/python3.14/site-packages/planted.py", "w").write("VALUE = 'TAMPERED'")
`,
  close: `import os
def run():
    os.close(3)
    os.close(1)
    os.open("/tmp/spy", os.O_CREAT | os.O_WRONLY)
`,
  fcntl: `import fcntl, os
def run():
    for fd in (0, 1, 2, 3):
        fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK | os.O_APPEND)
`,
  locked: `import os
def run():
    os.makedirs("/tmp/d/e")
    open("/tmp/d/e/f", "w").write("x")
    os.chmod("/tmp/d/e", 0)
    os.chmod("/tmp/d", 0)
    os.chmod("/tmp", 0)
    os.chmod("/lib", 0)
`,
  counters: `import os
def run():
    for i in range(5):
        open(f"/tmp/f{i}", "w").close()
        os.pipe()
`,
  umask: `import os
def run():
    os.umask(0o777)
`,
  protocols: `import socket
def run():
    return socket.getprotobyname("tcp")
`,
  stdin: `import os
def run():
    return repr(os.read(0, 100))
`,
  reorder: `import os
def run():
    # Moving a name away and back puts it last in its directory's listing.
    for name in ["null", "random"]:
        os.rename(f"/dev/{name}", "/dev/moved")
        os.rename("/dev/moved", f"/dev/{name}")
    os.rename("/lib/python314.zip", "/lib/moved")
    os.rename("/lib/moved", "/lib/python314.zip")
`,
  terminal: `import os
def run():
    # Emscripten's terminal read the process's stdin and kept what a step wrote without a newline.
    for path in ["/dev/tty", "/dev/tty1"]:
        try:
            fd = os.open(path, os.O_RDWR)
            os.write(fd, b"half a line")
            os.read(fd, 3)
        except OSError:
            pass
`,
};

Deno.test("a Python step cannot leave a trace outside the interpreter's memory for a later step", async () => {
  const steps: Record<string, { code: string; depends_on?: string[]; timeout?: number }> = {
    probe: { code: PROBE },
  };
  let last = "probe";
  for (const [name, code] of Object.entries(ATTACKS)) {
    steps[name] = { code: `${code}    return "done"\n`, depends_on: [last], timeout: 10 };
    const names = name === "dns" || name === "protocols";
    steps[`after_${name}`] = {
      code: names ? PROBE.replace("NAMES = False", "NAMES = True") : PROBE,
      depends_on: [name],
      timeout: 10,
    };
    last = `after_${name}`;
  }
  const file = await writeWorkflow("traces", steps);
  for (const mode of [[], ["--no-isolate"]]) {
    const result = await hwfe(["run", ...mode, "--json", file], { stdin: "SECRET ON STDIN\n" });
    const run = runJson(result);
    const clean = run.steps.probe.result as Record<string, unknown>;
    assert.equal(clean.stdin, "b''", String(mode));
    assert.equal(clean.planted, "ModuleNotFoundError", String(mode));
    for (const name of Object.keys(ATTACKS)) {
      const after = run.steps[`after_${name}`];
      assert.equal(after.status, "succeeded", `${mode} after ${name}: ${after.error}`);
      const { host, proto, ...rest } = after.result as Record<string, unknown>;
      assert.deepEqual(rest, clean, `${mode}: ${name} left a trace`);
      if (name === "dns" || name === "protocols") {
        assert.deepEqual({ host, proto }, FRESH_NAMES, `${mode}: ${name} left a trace`);
      }
    }
    assert.equal(run.status, "succeeded", `${mode}: ${result.stderr}`);
    assert.equal(result.stdout.match(/SECRET/g), null);
  }
});

Deno.test("a Python step's memory limit holds after a step with a larger one grew the heap, and covers its files, pipes and links in memory", async () => {
  const file = await writeWorkflow("memory", {
    grow: { memory_mb: 200, code: `def run():\n    return len(bytearray(50 * 2**20))\n` },
    small: {
      depends_on: ["grow"],
      memory_mb: 16,
      continue_on_error: true,
      code: `def run():\n    return len(bytearray(40 * 2**20))\n`,
    },
    files: {
      depends_on: ["small"],
      memory_mb: 64,
      continue_on_error: true,
      code: `def run():
    chunk = b"x" * 2**20
    with open("/tmp/big", "wb") as f:
        for _ in range(300):
            f.write(chunk)
    return "wrote 300 MiB"
`,
    },
    unlinked: {
      depends_on: ["files"],
      memory_mb: 64,
      continue_on_error: true,
      code: `import os
def run():
    chunk = b"x" * 2**20
    for i in range(5):
        fd = os.open(f"/tmp/f{i}", os.O_CREAT | os.O_RDWR)
        os.unlink(f"/tmp/f{i}")  # still open: still held
        for _ in range(60):
            os.write(fd, chunk)
    return "wrote 300 MiB"
`,
    },
    piped: {
      depends_on: ["unlinked"],
      memory_mb: 64,
      continue_on_error: true,
      code: `import os
def run():
    reader, writer = os.pipe()
    for _ in range(300):
        os.write(writer, b"x" * 2**20)
    return "wrote 300 MiB"
`,
    },
    links: {
      depends_on: ["piped"],
      memory_mb: 64,
      continue_on_error: true,
      code: `import os
def run():
    for i in range(100):
        os.symlink(str(i) + "A" * (10 * 2**20), f"/tmp/l{i}")
    return "made 1000 MiB of links"
`,
    },
    within: {
      depends_on: ["links"],
      memory_mb: 64,
      code: `def run():
    open("/tmp/fits", "wb").write(b"x" * 8 * 2**20)
    return "fits"
`,
    },
  });
  for (const mode of [[], ["--no-isolate"]]) {
    const result = await hwfe(["run", ...mode, "--json", "--keep-going", file]);
    const run = runJson(result);
    assert.equal(run.steps.grow.result, 50 * 2 ** 20, String(mode));
    assert.match(
      String(run.steps.small.error),
      /MemoryError: out of memory \(the step's limit is 16 MiB/,
    );
    assert.match(String(run.steps.files.error), /No space left on device/);
    assert.match(String(run.steps.files.error), /count towards the step's limit of 64 MiB/);
    assert.match(String(run.steps.unlinked.error), /No space left on device/, String(mode));
    assert.match(String(run.steps.piped.error), /No space left on device/, String(mode));
    assert.match(String(run.steps.links.error), /OSError/, String(mode));
    assert.equal(run.steps.within.result, "fits", String(mode));
  }
});

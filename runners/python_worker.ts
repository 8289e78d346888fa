/**
 * Worker module for Python steps: one Pyodide interpreter per worker, kept
 * warm across steps, each step in a fresh namespace.
 *
 * Start-up, from the host's snapshot or cold: _python_start.ts.
 *
 * The sandbox is the worker's Deno permissions (read Pyodide's folder,
 * nothing else): `from js import Deno` and Node's fs and net fail with
 * NotCapable. `os.system` goes through `child_process.spawnSync`, which
 * would throw inside wasm and kill the worker; it is replaced below with
 * one that refuses.
 *
 * @module
 */

import childProcess from "node:child_process";
import fs from "node:fs";
import { within } from "../engine/grants.ts";
import { startPyodide } from "./_python_start.ts";
import type { PyodideInterface } from "../_util/npm/pyodide.ts";
import { serveSteps } from "../host/worker_entry.ts";
import type { WorkerOutcome } from "../host/protocol.ts";
import {
  type Baseline,
  beyond,
  rewind,
  startWatching,
  stopWatching,
  takeBaseline,
  unrewindable,
  watchImports,
} from "./python_rewind.ts";
import {
  fileBytes,
  type Fs,
  refusedSpace,
  restoreFs,
  takeFsBaseline,
  watchFiles,
} from "./python_rewind_fs.ts";
import type { PythonInit, PythonJob } from "./_python_protocol.ts";
import { type CheckJob, isCheckJob, syntaxErrorFromJson } from "./syntax.ts";

interface CurrentJob {
  flag: Int32Array;
  write(stream: "stdout" | "stderr", text: string): void;
  flush(): void;
  decoders: Record<"stdout" | "stderr", TextDecoder>;
}

let current: CurrentJob | undefined;

// Pyodide's own diagnostics and step code calling `js.console` go to the
// step's output, never straight to hwfe's terminal.
for (
  const [method, stream] of [
    ["log", "stdout"],
    ["info", "stdout"],
    ["debug", "stdout"],
    ["warn", "stderr"],
    ["error", "stderr"],
    ["trace", "stderr"],
  ] as const
) {
  console[method] = (...args: unknown[]) =>
    current?.write(
      stream,
      args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" ") + "\n",
    );
}

const spawnRefused = (command: unknown) => {
  current?.write(
    "stderr",
    `hwfe: Python steps cannot run host commands (refused: ${String(command).slice(0, 200)})\n`,
  );
  return { status: 126, signal: null, pid: 0, output: [], stdout: "", stderr: "" };
};
(childProcess as unknown as Record<string, unknown>).spawnSync = spawnRefused;

// Files: granted paths are mounted (NODEFS) at the same path, so Python's
// open() reaches them through Node's fs, which Deno checks against the
// worker's permissions (the step's grants). Deno refuses with NotCapable,
// which NODEFS does not know (it would kill the interpreter): it becomes
// EACCES, a PermissionError in Python.
//
// A file granted alone is reached through its directory, mounted though
// the step may not read the directory itself: looking that directory up
// (a stat, which Deno refuses) answers "a directory" and nothing more, so
// the mount works; listing it or opening anything else in it is still
// refused by Deno.
const mountRoots = new Set<string>();
const DIRECTORY_STAT = {
  dev: 0,
  ino: 0,
  mode: 0o40555,
  nlink: 1,
  uid: 0,
  gid: 0,
  rdev: 0,
  size: 0,
  blksize: 4096,
  blocks: 0,
  atime: new Date(0),
  mtime: new Date(0),
  ctime: new Date(0),
  birthtime: new Date(0),
  isDirectory: () => true,
  isFile: () => false,
  isSymbolicLink: () => false,
};
const nodeFs = fs as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(nodeFs)) {
  if (typeof fn !== "function" || !name.endsWith("Sync")) continue;
  nodeFs[name] = function (this: unknown, ...args: unknown[]) {
    try {
      const result = fn.apply(this, args);
      if (name === "existsSync" && result === false && mountRoots.has(String(args[0]))) {
        return true;
      }
      return result;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotCapable)) throw error;
      if ((name === "statSync" || name === "lstatSync") && mountRoots.has(String(args[0]))) {
        return DIRECTORY_STAT;
      }
      throw Object.assign(new Error(`EACCES: permission denied (not granted to this step)`), {
        code: "EACCES",
        errno: -13,
      });
    }
  };
}

// Memory: Pyodide's heap is one wasm memory that grows through
// emscripten_resize_heap. Wrapping that import (when Pyodide instantiates
// its module) caps the heap per step: past the cap, malloc fails and
// Python raises MemoryError. In-memory files count too (watchFiles).
let heapLimitBytes = Infinity;
type Imports = Record<string, Record<string, unknown>> | undefined;
function capHeap(imports: Imports): void {
  const env = imports?.env;
  const grow = env?.emscripten_resize_heap;
  if (!env || typeof grow !== "function") return;
  env.emscripten_resize_heap = (requested: number) =>
    (requested >>> 0) + fileBytes() > heapLimitBytes ? false : grow(requested);
  watchImports(env);
}
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = ((source: never, imports: Imports) => {
  capHeap(imports);
  return instantiate(source, imports as WebAssembly.Imports);
}) as typeof WebAssembly.instantiate;
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiateStreaming = ((source: never, imports: Imports) => {
  capHeap(imports);
  return instantiateStreaming(source, imports as WebAssembly.Imports);
}) as typeof WebAssembly.instantiateStreaming;

function sink(stream: "stdout" | "stderr") {
  return {
    isatty: false,
    write(buffer: Uint8Array): number {
      const job = current;
      if (job) job.write(stream, job.decoders[stream].decode(buffer, { stream: true }));
      return buffer.length;
    },
  };
}

/** Sleeps up to `ms`, waking when the host interrupts; true when interrupted. */
function interruptibleSleep(ms: number): boolean {
  const flag = current?.flag;
  if (!flag) return false;
  current?.flush(); // what was printed before the sleep shows now
  if (Atomics.load(flag, 1) === 0 && ms > 0) Atomics.wait(flag, 1, 0, ms);
  return Atomics.load(flag, 1) !== 0;
}

// Hosts: pyodide.http.pyfetch uses the worker's fetch, which Deno checks
// against the step's net grants; its refusal is made to say so.
const hostFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  try {
    return await hostFetch(input, init);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    const url = input instanceof Request ? input.url : String(input);
    throw new TypeError(
      `fetch ${url}: not granted to this step (declare the host in permissions.net and run ` +
        `with --allow-net)`,
    );
  }
};

let python: PyodideInterface;
/** Host directories mounted so far (a worker's pool has one access for good). */
const mounted = new Set<string>();
/** Pyodide's own directories: a grant may not hide them. */
const INTERPRETER_DIRS = ["/lib", "/dev", "/proc", "/home/pyodide"];

/**
 * Mounts the host directories through which the step's grants are reached
 * (computed by the host: runners/python.ts) at the same paths, and makes
 * hwfe's working directory the step's (the prelude restores its own after
 * the step). Returns a problem to report instead of running the step.
 */
function mountGrants(mounts: string[], cwd: string): string | undefined {
  const FS = python.FS;
  for (const root of mounts) {
    if (mounted.has(root)) continue;
    const hidden = INTERPRETER_DIRS.find((dir) => root === "/" || within(dir, root));
    if (hidden) {
      return `Python steps cannot be granted ${root}: it would hide the interpreter's own ${
        root === "/" ? "files" : hidden
      }; grant a narrower path`;
    }
    FS.mkdirTree(root);
    mountRoots.add(root);
    // FS.mount rather than pyodide.mountNodeFS, whose own existence check
    // uses an fs binding that the wrapper above does not reach.
    const { filesystems } = FS as unknown as { filesystems: { NODEFS: unknown } };
    FS.mount(filesystems.NODEFS as Parameters<typeof FS.mount>[0], { root }, root);
    mounted.add(root);
  }
  try {
    FS.mkdirTree(cwd);
    if (!mounted.has(cwd) && ![...mounted].some((root) => within(cwd, root))) {
      // In memory only: read-only, so that a file written here by mistake
      // fails rather than vanishing when the run ends.
      FS.chmod(cwd, 0o555);
    }
    FS.chdir(cwd);
  } catch { /* a directory that cannot exist here: relative paths stay in memory */ }
  return undefined;
}

/** The heap's size once started: a step's limit is counted on top of it. */
let baseHeapBytes = 0;
/** The interpreter before any step, which every step leaves it as (python_rewind.ts). */
let baseline: Baseline;
/** The bridge calls hwfe's own call into the interpreter makes. */
let ownCalls: Map<string, number>;

// deno-lint-ignore no-explicit-any
const moduleOf = (py: PyodideInterface) => (py as any)._module;

/**
 * POSIX refuses `a.txt/` when a.txt is not a directory (ENOTDIR); Emscripten
 * drops the slash and opens the file. Path calls are checked here, the way
 * Python's os functions reach them.
 */
function refuseSlashOnFiles(py: PyodideInterface): void {
  const FS = py.FS as unknown as Record<string, unknown> & {
    stat(path: string): { mode: number };
    isDir(mode: number): boolean;
    ErrnoError: new (errno: number) => Error;
  };
  const ENOTDIR = 54; // Emscripten's number
  for (const name of ["open", "stat", "lstat", "unlink", "rmdir", "rename", "truncate", "chmod"]) {
    const call = FS[name];
    if (typeof call !== "function") continue;
    FS[name] = function (this: unknown, path: unknown, ...rest: unknown[]) {
      if (typeof path === "string" && path.length > 1 && path.endsWith("/")) {
        let isDir = false;
        try {
          isDir = FS.isDir(FS.stat(path.replace(/\/+$/, "") || "/").mode);
        } catch { /* missing: the call itself says so */ }
        if (!isDir) {
          try {
            FS.stat(path.replace(/\/+$/, ""));
          } catch {
            return call.call(this, path, ...rest);
          }
          throw new FS.ErrnoError(ENOTDIR);
        }
      }
      return call.call(this, path, ...rest);
    };
  }
}

/**
 * A device whose writes sleep (the milliseconds written) until the host
 * interrupts; a write of 0 bytes reports an interruption. Python's
 * time.sleep uses it (the prelude's _hwfe_attach) rather than a call
 * through the JavaScript bridge, which would make every sleeping step
 * retire its worker.
 */
function sleepDevice(py: PyodideInterface): string {
  const path = "/dev/hwfe-sleep";
  const FS = py.FS as unknown as {
    makedev(major: number, minor: number): number;
    registerDevice(dev: number, ops: Record<string, unknown>): void;
    mkdev(path: string, mode: number, dev: number): void;
  };
  const dev = FS.makedev(64, 0);
  const decoder = new TextDecoder();
  FS.registerDevice(dev, {
    read: () => 0,
    write(_stream: unknown, buffer: Uint8Array, offset: number, length: number) {
      const ms = Number(decoder.decode(buffer.subarray(offset, offset + length)));
      return interruptibleSleep(Number.isFinite(ms) ? ms : 0) ? 0 : length;
    },
  });
  FS.mkdev(path, 0o200, dev);
  return path;
}
let runStep: (name: string, code: string, inputs: string, env: string, params?: string) => unknown;
let checkSteps: (sources: string) => unknown;

serveSteps({
  language: "python",
  async setup(init) {
    const { py, ready } = await startPyodide(init as PythonInit);
    py.setStdout(sink("stdout"));
    py.setStderr(sink("stderr"));
    // Reading stdin is at its end at once: the worker's own would be hwfe's
    // terminal, or in a child process the pipe its messages come through.
    py.setStdin({ stdin: () => null });
    // Emscripten's terminals read the process's stdin too, and keep what
    // they read and what a step wrote without a newline for the next step.
    for (const tty of ["/dev/tty", "/dev/tty1"]) {
      try {
        py.FS.unlink(tty);
      } catch { /* not there */ }
    }
    watchFiles(
      py.FS as unknown as Fs,
      () => heapLimitBytes - moduleOf(py).HEAPU8.length,
      moduleOf(py).PIPEFS,
    );
    py.globals.get("_hwfe_attach")(sleepDevice(py));
    refuseSlashOnFiles(py);
    python = py;
    runStep = py.globals.get("_hwfe_run_step");
    checkSteps = py.globals.get("_hwfe_check_steps");
    // hwfe's own call into the interpreter, counted once: what a step's
    // call makes beyond it is the step's use of the JavaScript bridge.
    startWatching();
    // With every argument a step's call passes, params too, or that one counts as the step's.
    runStep("hwfe", "def run(inputs):\n    return inputs", '{"a":["\u00e9"]}', "{}", "{}");
    ownCalls = stopWatching();
    baseline = takeBaseline(moduleOf(py));
    baseHeapBytes = baseline.memory.length;
    return {
      report: ready,
      transfer: ready.snapshot ? [ready.snapshot.buffer as ArrayBuffer] : [],
    };
  },

  async run({ job, interruptFlag, interrupted, write, flush }) {
    if (isCheckJob(job.extra)) return checkSources(job.extra.check);
    const { memoryMb, env, mounts, cwd } = job.extra as PythonJob;
    if (mounts && cwd) {
      const problem = mountGrants(mounts, cwd);
      if (problem) return { kind: "error", message: `(python): ${problem}` };
    }
    const fsBaseline = takeFsBaseline(python.FS as unknown as Fs, moduleOf(python));
    heapLimitBytes = baseHeapBytes + memoryMb * 1024 * 1024;
    current = {
      flag: interruptFlag,
      write,
      flush,
      decoders: { stdout: new TextDecoder(), stderr: new TextDecoder() },
    };
    // Slot 0 is Pyodide's signal slot: the host stores 2 (SIGINT) there.
    python.setInterruptBuffer(new Int32Array(interruptFlag.buffer, 0, 1));
    let outcome: WorkerOutcome;
    let stopped = false;
    startWatching();
    try {
      let tagged = runStep(
        job.step,
        job.code,
        job.inputs,
        JSON.stringify(env ?? {}),
        job.params ?? "{}",
      );
      if (typeof tagged !== "string") tagged = await awaitTask(tagged, interruptFlag, flush);
      if (interrupted()) {
        outcome = { kind: "interrupted" };
      } else {
        outcome = decode(String(tagged), job.step);
        if (outcome.kind === "error" && outcome.message.startsWith("(python): MemoryError")) {
          outcome.message = outcome.message.replace(
            "MemoryError",
            `MemoryError: out of memory (the step's limit is ${memoryMb} MiB; raise it with memory_mb)`,
          );
        } else if (outcome.kind === "error" && refusedSpace()) {
          outcome.message += `\n(files in memory, such as /tmp, count towards the step's ` +
            `limit of ${memoryMb} MiB and at most 100,000 of them at once: raise it with ` +
            `memory_mb, or write to a granted directory)`;
        }
      }
    } catch (error) {
      stopped = true;
      if (interrupted()) {
        outcome = { kind: "interrupted" };
      } else {
        // The prelude catches every Python exception, so an error here means
        // the interpreter itself failed (a stack overflow in C, os._exit):
        // it cannot run another step.
        const errno = (error as { errno?: unknown } | null)?.errno;
        const reason = error instanceof Error
          ? error.message.split("\n")[0]
          : errno === undefined
          ? String(error)
          : `file system error ${errno}`;
        outcome = {
          kind: "error",
          message:
            `(python): the Python interpreter stopped (${reason}); hwfe starts a new one for later steps`,
        };
      }
    } finally {
      heapLimitBytes = Infinity;
      for (const stream of ["stdout", "stderr"] as const) {
        const rest = current.decoders[stream].decode();
        if (rest) write(stream, rest);
      }
      current = undefined;
    }
    const bridge = beyond(stopWatching(), ownCalls);
    // Whatever the step changed is undone before the next step, or the worker goes.
    const kept = !stopped && bridge.length === 0 &&
      restoreFs(python.FS as unknown as Fs, moduleOf(python), fsBaseline) === undefined &&
      unrewindable(moduleOf(python), baseline) === undefined;
    return kept ? outcome : { ...outcome, retire: true };
  },

  // After the outcome is posted, so that the step's time does not include
  // it (about 2 ms for 30 MB); before the next job, which waits for it.
  afterJob(outcome) {
    if (!outcome.retire) rewind(moduleOf(python), baseline);
  },
});

interface PyTask {
  then: PromiseLike<unknown>["then"];
  cancel(): void;
  destroy?(): void;
}

/**
 * Awaits an `async def run` task; cancels it when the host interrupts.
 * Output printed between awaits is sent every 20 ms meanwhile.
 */
async function awaitTask(task: unknown, flag: Int32Array, flush: () => void): Promise<unknown> {
  const pyTask = task as PyTask;
  flush();
  const flusher = setInterval(flush, 20);
  const wait = Atomics.waitAsync(flag, 1, 0);
  const stop = wait.async ? wait.value.then(() => STOPPED) : Promise.resolve(STOPPED);
  try {
    const winner = await Promise.race([Promise.resolve(pyTask), stop]);
    if (winner === STOPPED) {
      pyTask.cancel();
      return "Einterrupted";
    }
    return winner;
  } finally {
    clearInterval(flusher);
    Atomics.notify(flag, 1); // releases the waiter
    pyTask.destroy?.();
  }
}

const STOPPED = Symbol("stopped");

/** Compiles each source with `compile()`, running none: the problems as JSON. */
function checkSources(sources: CheckJob["check"]): WorkerOutcome {
  try {
    return { kind: "result", json: String(checkSteps(JSON.stringify(sources))) };
  } catch (error) {
    return { kind: "error", message: String(error).split("\n")[0], retire: true };
  }
}

function decode(tagged: string, step: string): WorkerOutcome {
  const tag = tagged[0];
  const body = tagged.slice(1);
  switch (tag) {
    case "R":
      return { kind: "result", json: body };
    case "N":
      return { kind: "error", message: "(python): no run() function defined" };
    case "B":
      return { kind: "error", message: `returned ${body}` };
    case "S":
      return { kind: "error", message: `(python): ${syntaxErrorFromJson(body, step)}` };
    case "E":
      return { kind: "error", message: `(python): ${body}` };
    default:
      return { kind: "error", message: "(python): the runtime returned an unknown outcome" };
  }
}

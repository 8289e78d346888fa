/**
 * Python steps: Pyodide (CPython compiled to wasm) in the step host's
 * workers, with the standard library only, no network and no host access
 * (see python_worker.ts for the sandbox, _python_prelude.ts for how a step
 * runs).
 *
 * Start-up: a cold Pyodide takes about 1.7 s. The first cold start makes a
 * memory snapshot that is cached per Pyodide version and prelude in the user
 * cache directory; later starts restore it in about 0.25 s. A missing,
 * stale or corrupt snapshot means a cold start, never a failure.
 *
 * @module
 */

import { CacheEntry, sha256OfText } from "../_util/cache.ts";
import { npmFile } from "../_util/npm_files.ts";
import { canStartChildren } from "../host/child_process.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import { PYTHON_PRELUDE } from "./_python_prelude.ts";
import type { PythonInit, PythonJob, PythonReady } from "./_python_protocol.ts";
import {
  DEFAULT_STEP_MEMORY_MB,
  type RunnerEvents,
  type StepChecks,
  stepMemoryMb,
} from "../engine/runner.ts";
import { checkOnWorker, runOnWorker } from "./_worker_job.ts";
import type { CheckingRunner } from "./syntax.ts";
import { dirname } from "node:path";
import { absolutePath, within } from "../engine/grants.ts";
import type { Step } from "../workflow/model.ts";

/** Pyodide's folder (its wasm, the standard library zip, the lock file). */
export function pyodideDir(): string {
  return npmFile("pyodide/pyodide.mjs")
    .replace(/pyodide\.mjs$/, "");
}

/** Pyodide's version, from its package.json (importing Pyodide costs ~30 ms of start-up). */
function pyodideVersion(): string {
  return JSON.parse(Deno.readTextFileSync(`${pyodideDir()}package.json`)).version;
}

/** Options of {@link pythonRunner}. */
export interface PythonRunnerOptions extends RunnerEvents {
  /** Where the start-up snapshot is cached; undefined: none. */
  cacheDir?: string;
  /** Run Python workers in child processes (host/child_process.ts); default true. */
  isolate?: boolean;
}

/** V8 heap of an isolated Python worker's process, in MiB. */
const ISOLATED_HEAP_MB = 512;

const MAX_SNAPSHOT_BYTES = 1 << 30;

/** Creates the Python runner on top of a step host. */
export function pythonRunner(
  host: StepHost,
  options: PythonRunnerOptions = {},
): CheckingRunner {
  const indexURL = pyodideDir();
  // A snapshot holds the prelude's state: a new prelude needs a new one.
  const prelude = sha256OfText(PYTHON_PRELUDE).slice(0, 16);
  const entry = options.cacheDir === undefined ? undefined : new CacheEntry(
    `${options.cacheDir}/python`,
    "snapshot",
    `pyodide-${pyodideVersion()}-${prelude}`,
  );
  const writable = entry?.writable() ?? false;
  if (entry && !writable) {
    options.onWarning?.(
      `Python start-up cache is off: hwfe may not write to ${entry.dir}; ` +
        "each run starts Python cold (about 2 s). Grant --allow-write or set HWFE_CACHE_DIR.",
    );
  }
  // The snapshot workers start from: read from the cache once, or made by
  // the first worker of this process that starts cold. Workers that start
  // while it is being made wait for it rather than all starting cold.
  let snapshot: Promise<PythonInit["snapshot"]> | undefined;
  let making: ((made: PythonInit["snapshot"]) => void) | undefined;
  // A worker in a child process reads the cached snapshot from its file
  // (where it lies, from the header) instead of getting 30 MB through the
  // pipe: a one-step run 0.9 -> 0.75 s. Not once this process made one.
  const isolated = options.isolate !== false && canStartChildren();
  let located: ReturnType<CacheEntry["locate"]> | undefined;
  let madeHere = false;
  const writes = new Set<Promise<void>>();

  const runtime: WorkerRuntime = {
    id: "python",
    languages: ["python"],
    // A child process unless --no-isolate: Pyodide's JavaScript bridge can
    // exhaust the worker's V8 heap, which aborts the whole process (Deno
    // workers take no heap limit), and a long call inside C cannot be
    // interrupted, only killed. The price, measured (one run each, -j2):
    // a one-step run 0.51 -> 0.80 s (a child compiles Pyodide's wasm
    // again), 200 trivial steps 0.94 -> 1.42 s; none on parallel_demo,
    // where the start overlaps the first level.
    ...(options.isolate !== false
      ? { isolation: "process" as const, heapMb: ISOLATED_HEAP_MB }
      : {}),
    moduleUrl: new URL("./python_worker.ts", import.meta.url),
    read: [indexURL, ...(isolated && entry ? [entry.path] : [])],
    async init(): Promise<PythonInit> {
      if (isolated && entry && !madeHere) {
        const where = await (located ??= entry.locate());
        if (where) {
          return { indexURL, snapshotFile: { path: entry.path, ...where }, makeSnapshot: false };
        }
      }
      snapshot ??= entry?.read().then((blob) => blob && { ...blob, bytes: shared(blob.bytes) }) ??
        Promise.resolve(undefined);
      const ready = await snapshot;
      if (ready) return { indexURL, snapshot: ready, makeSnapshot: false };
      if (making) return { indexURL, snapshot: await snapshot, makeSnapshot: false };
      snapshot = new Promise((resolve) => (making = resolve));
      // Said once, and only where the snapshot will be saved for next time
      // (otherwise a warning above says every run starts cold).
      if (writable) options.onRuntimeStarting?.("python");
      return { indexURL, makeSnapshot: true };
    },
    onStartFailed() {
      making?.(undefined);
      making = undefined;
    },
    onReady(data, ms) {
      const ready = checkReady(data);
      options.onRuntimeStarted?.({
        runtime: "python",
        from: ready.start,
        ms,
        ...(ready.rejected ? { note: `cached snapshot not used: ${ready.rejected}` } : {}),
      });
      // A worker that rejected the cached snapshot made a new one, which
      // replaces it below.
      if (!ready.snapshot) return;
      const bytes = ready.snapshot;
      const made = { bytes: shared(bytes) };
      madeHere = true;
      snapshot = Promise.resolve(made);
      making?.(made);
      making = undefined;
      if (!entry || !writable) return;
      const write = entry.write(bytes).catch((error) =>
        options.onWarning?.(
          `Python start-up cache not saved (${error.message}); the next run starts Python cold`,
        )
      ).finally(() => writes.delete(write));
      writes.add(write);
    },
  };

  return {
    language: "python",
    warmUp: (count, _workflow, memoryMb) =>
      host.warmUp(runtime, count, memoryTenant(memoryMb ?? DEFAULT_STEP_MEMORY_MB)),
    async close() {
      await Promise.all(writes);
    },
    reportsStart: true,
    ...pythonChecks,
    // Only when asked (hwfe validate --deep): Python takes a while to start.
    checkSyntax: (steps, _workflow, { python, memoryMb = DEFAULT_STEP_MEMORY_MB, signal }) =>
      python
        ? checkOnWorker(host, runtime, steps, signal, { memoryMb, env: {} }, memoryTenant(memoryMb))
        : Promise.resolve([]),
    run: (ctx) => {
      const job: PythonJob = {
        memoryMb: stepMemoryMb(ctx),
        env: ctx.env ?? {},
        mounts: ctx.access && mountRoots([...ctx.access.read, ...ctx.access.write]),
      };
      return runOnWorker(host, runtime, ctx, job, memoryTenant(job.memoryMb));
    },
  };
}

/** What can be known of a Python step before a run: paths it could write but not read. */
export const pythonChecks: StepChecks = { problems: (step) => writeOnlyProblems(step) };

/**
 * Paths a step may write but not read: Python reaches files through
 * NODEFS, which looks a path up (a read) before it writes it.
 */
function writeOnlyProblems(step: Step): string[] {
  const readable = step.permissions.read.map((p) => absolutePath(p));
  const writeOnly = step.permissions.write.filter((path) =>
    !readable.some((root) => within(absolutePath(path), root))
  );
  return writeOnly.length
    ? [
      `Python's open() looks a file up before writing it, so a path it writes must be ` +
      `readable too: add ${writeOnly.map((p) => `"${p}"`).join(", ")} to permissions.read`,
    ]
    : [];
}

/**
 * The heap a step grew stays as large for the next, whose limit it would
 * then not reach: a worker serves steps of one memory limit only.
 */
function memoryTenant(memoryMb: number): string {
  return `memory ${memoryMb}`;
}

/**
 * The host directories to mount so that Python reaches `paths` at the same
 * path: a directory itself, a file through its directory, a path that does
 * not exist yet through its nearest existing ancestor; none inside another.
 */
export function mountRoots(paths: string[]): string[] {
  const roots = [
    ...new Set(paths.map((path) => {
      for (let root = path;; root = dirname(root)) {
        try {
          if (Deno.statSync(root).isDirectory || root === dirname(root)) return root;
        } catch {
          if (root === dirname(root)) return root;
        }
      }
    })),
  ];
  return roots.filter((root) => !roots.some((other) => other !== root && within(root, other)))
    .sort();
}

/**
 * The bytes in a SharedArrayBuffer: every worker gets the same 30 MB
 * without a copy per message (a structured clone of it costs about 45 ms).
 */
function shared(bytes: Uint8Array): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(bytes.length));
  view.set(bytes);
  return view;
}

/** Checks a worker's start-up report (sent before any step code ran, but checked anyway). */
function checkReady(data: unknown): PythonReady {
  const r = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (r.start !== "snapshot" && r.start !== "cold") throw new Error("unknown start kind");
  if (r.rejected !== undefined && typeof r.rejected !== "string") throw new Error("bad rejection");
  if (
    r.snapshot !== undefined &&
    !(r.snapshot instanceof Uint8Array && r.snapshot.length <= MAX_SNAPSHOT_BYTES)
  ) {
    throw new Error("bad snapshot");
  }
  return {
    start: r.start,
    rejected: r.rejected as string | undefined,
    snapshot: r.snapshot as Uint8Array | undefined,
  };
}

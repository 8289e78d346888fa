/**
 * Isolation between the Python steps that share a worker: after every step
 * the interpreter is put back exactly as it was before the first one.
 *
 * Resetting Python from Python cannot be complete: a step can change
 * modules, classes, closures, C-level registries (codecs, audit hooks) and
 * objects' `__del__` run whenever hwfe drops them. Everything Python is
 * lives in Pyodide's wasm memory, though, so the worker copies that memory
 * once (about 30 MB) and copies it back after each step (about 2 ms).
 * What lives outside it is checked or restored here and, for the file
 * system, in python_rewind_fs.ts:
 *
 * - the in-memory file system (JavaScript objects): files and directories
 *   a step made are removed, changed modes restored, file descriptors it
 *   opened closed;
 * - Pyodide's table of JavaScript references (hiwire) and the wasm
 *   function table: a step that changed them cannot be rewound;
 * - JavaScript itself: a step that used Pyodide's JavaScript bridge
 *   (`import js`, `pyodide.code.run_js`, `pyodide.ffi`, asyncio's event
 *   loop, `pyfetch`) may have changed the worker's JavaScript realm, which
 *   no copy restores. Every bridge import of the wasm module is counted
 *   while a step runs; a step that called any beyond what hwfe's own call
 *   makes retires the worker, and a fresh one takes the next step. So do
 *   the imports whose state Emscripten keeps in JavaScript: sockets, the
 *   made-up DNS table, the protocol table (which caches pointers into the
 *   memory a rewind replaces), interval timers, promises and suspenders;
 * - the rest of that JavaScript state is put back: the umask (emulated
 *   there: Emscripten's would set hwfe's own process's), the inode and pipe
 *   counters, the flags and positions of the descriptors open before the
 *   step.
 *
 * @module
 */

import { emulateUmask } from "./python_rewind_fs.ts";

/**
 * Pyodide's wasm imports through which Python reaches JavaScript values,
 * and those whose state lives in JavaScript where a rewind cannot reach it.
 */
const RETIRING_IMPORT = new RegExp(
  "^(" + [
    // The bridge.
    "_?Jsv|_?Js[A-Z]|_?js2python|_?python2js|_?pyproxy|_?JsProxy|_?hiwire|__hiwire|raw_call_js",
    "destroy_prox|proxy_cache|array_to_js|_agen|handle_next_result|get_async_js|is_comlink",
    "jslib_|pyodide_js|ffi_|_dlopen|_emscripten_dlopen|_dlsym|_mmap|_munmap|_msync",
    "emscripten_set_up_async|emscripten_promise_|create_promise_handles|create_once_callable",
    "saveState$|restoreState$|syncifyHandler$|[sg]et_suspender$|can_run_sync",
    // Sockets (what their calls change belongs to a socket), names and timers.
    "__syscall_(socket|bind|connect|listen|accept4|getpeername|getsockname|getsockopt)$",
    "__syscall_(recvfrom|recvmsg|sendmsg|sendto)$",
    "getaddrinfo$|getnameinfo$|_emscripten_lookup_name$|getproto|_setitimer_js$",
  ].join("|") + ")",
);

/** The string conversions differ only by the width of the result's characters. */
function importClass(name: string): string {
  return name.replace(/^_python2js_(ascii|ucs1|ucs2|ucs4)$/, "_python2js_string");
}

let watching = false;
const bridgeCalls = new Map<string, number>();

/**
 * Wraps the imports of Pyodide's wasm module (called from
 * `WebAssembly.instantiate`) that a rewind cannot undo, so that calls made
 * while a step runs are counted, and emulates the umask. Properties such
 * as `sig`, which Emscripten reads when it puts an import in the function
 * table, are kept.
 */
export function watchImports(env: Record<string, unknown>): void {
  emulateUmask(env);
  for (const [name, fn] of Object.entries(env)) {
    if (typeof fn !== "function" || !RETIRING_IMPORT.test(name)) continue;
    const kind = importClass(name);
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (watching) bridgeCalls.set(kind, (bridgeCalls.get(kind) ?? 0) + 1);
      return fn.apply(this, args);
    };
    env[name] = Object.assign(wrapped, fn);
  }
}

/** Runs `call` (a step) while counting bridge calls; returns its value and the counts. */
export function watched<T>(call: () => T): { value: T; calls: Map<string, number> } {
  bridgeCalls.clear();
  watching = true;
  try {
    return { value: call(), calls: new Map(bridgeCalls) };
  } finally {
    watching = false;
  }
}

/** Starts counting (for a step that goes on asynchronously); `stopWatching` ends it. */
export function startWatching(): void {
  bridgeCalls.clear();
  watching = true;
}

/** Ends counting; returns what was called. */
export function stopWatching(): Map<string, number> {
  watching = false;
  return new Map(bridgeCalls);
}

/** What the parts of Pyodide used here look like (internal, hence loosely typed). */
interface Module {
  HEAPU8: Uint8Array;
  __hiwire_get(index: number): unknown;
  _hiwire_num_refs?(): number;
  wasmTable: WebAssembly.Table;
  ___stack_pointer?: WebAssembly.Global;
}

/** The interpreter as it was before any step ran. */
export interface Baseline {
  memory: Uint8Array;
  stackPointer: number | bigint | undefined;
  hiwire: unknown[];
  hiwireRefs: number | undefined;
  tableLength: number;
}

/** Most references Pyodide's table holds before any step; more would mean a leak of hwfe's own. */
const MAX_HIWIRE = 100_000;

/** Copies what a rewind restores. Called once, after start-up and before the first step. */
export function takeBaseline(module: Module): Baseline {
  const hiwire: unknown[] = [];
  for (let i = 0; i < MAX_HIWIRE; i++) {
    try {
      hiwire.push(module.__hiwire_get(i));
    } catch {
      break;
    }
  }
  return {
    memory: module.HEAPU8.slice(),
    stackPointer: module.___stack_pointer?.value,
    hiwire,
    hiwireRefs: module._hiwire_num_refs?.(),
    tableLength: module.wasmTable.length,
  };
}

/** Why a copy of memory would not restore the interpreter, if it would not. */
export function unrewindable(module: Module, base: Baseline): string | undefined {
  if (module.wasmTable.length !== base.tableLength) return "the wasm function table grew";
  const growth = module.HEAPU8.length - base.memory.length;
  if (growth > MAX_REWOUND_GROWTH) {
    return `its memory grew by ${Math.round(growth / 2 ** 20)} MiB, more than a rewind zeroes`;
  }
  if (module._hiwire_num_refs?.() !== base.hiwireRefs) {
    return "the interpreter's JavaScript references were released or leaked";
  }
  for (let i = 0; i < base.hiwire.length; i++) {
    let value: unknown;
    try {
      value = module.__hiwire_get(i);
    } catch {
      return "a JavaScript reference of the interpreter was released";
    }
    if (value !== base.hiwire[i]) return "a JavaScript reference of the interpreter changed";
  }
  return undefined;
}

/**
 * Most growth of the interpreter's memory a rewind zeroes (about 5 ms);
 * past it the worker retires instead.
 */
const MAX_REWOUND_GROWTH = 64 * 2 ** 20;

/** Copies the interpreter's memory back (after {@link unrewindable} found nothing). */
export function rewind(module: Module, base: Baseline): void {
  const heap = module.HEAPU8;
  heap.set(base.memory);
  // Memory grown during the step is zeroed whole, not up to the
  // allocator's current top, which falls again when it frees: the next
  // step must find neither this one's data (ctypes reads any address) nor
  // dirty memory the allocator believes fresh.
  if (heap.length > base.memory.length) heap.fill(0, base.memory.length);
  if (module.___stack_pointer && base.stackPointer !== undefined) {
    module.___stack_pointer.value = base.stackPointer;
  }
}

/** Bridge calls beyond what `allowed` (hwfe's own call into the interpreter) makes. */
export function beyond(calls: Map<string, number>, allowed: Map<string, number>): string[] {
  return [...calls].filter(([name, count]) => count > (allowed.get(name) ?? 0)).map(([name]) =>
    name
  );
}

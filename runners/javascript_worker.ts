/**
 * Worker module for JavaScript and TypeScript steps: QuickJS compiled to
 * wasm (quickjs-emscripten), one module per worker, a fresh runtime and
 * context per step. TypeScript steps arrive already transpiled
 * (typescript_worker.ts), with a source map for their error positions.
 *
 * Step code sees only the language, `console` and `hwfe`: no Deno,
 * process, timers or file system exist inside QuickJS. `hwfe.readTextFile`,
 * `writeTextFile`, `remove` and `fetch` call the worker, whose Deno
 * permissions are the step's grants (and reading QuickJS's wasm file).
 *
 * Limits: the interrupt handler stops runaway code (even inside
 * try/catch: QuickJS's interrupt cannot be caught); the module's memory is
 * a capped `WebAssembly.Memory`, so an allocation bomb gets "out of memory";
 * the stack size is set so deep recursion is a clean "stack overflow".
 *
 * @module
 */

import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from "../_util/npm/quickjs.ts";
import RELEASE_SYNC from "../_util/npm/quickjs_wasm.ts";
import { originalPositionFor, TraceMap } from "../_util/npm/trace_mapping.ts";
import { serveSteps } from "../host/worker_entry.ts";
import type { WorkerOutcome } from "../host/protocol.ts";
import { JS_PRELUDE, JS_PRELUDE_LAZY } from "./_js_prelude.ts";
import { concatBytes } from "../_util/bytes.ts";
import { clipped, describeMessage, syntaxOf } from "./_js_errors.ts";
import { type CheckJob, isCheckJob, type SyntaxProblem } from "./syntax.ts";

/** What the host sends to start a worker. */
export interface JavaScriptInit {
  quickjsWasm: string;
  /** Most 64 KiB pages of memory QuickJS may use. */
  memoryPages: number;
}

/** What a TypeScript job carries (in `WorkerJob.extra`): the transpiled code. */
export interface TypeScriptJob {
  language: "typescript";
  code: string;
  /** esbuild's source map, to report positions in the TypeScript source. */
  map: string;
  env: Record<string, string>;
  /** The step's result field: "json" takes the value unwrapped. */
  result?: "object" | "json";
}

/** What any JavaScript job carries (in `WorkerJob.extra`). */
interface JobExtra {
  language?: "typescript";
  code?: string;
  map?: string;
  /** The environment variables the run granted the step: `hwfe.env`. */
  env?: Record<string, string>;
  /** The step's result field: "json" takes the value unwrapped. */
  result?: "object" | "json";
}

/** QuickJS's stack for step code; deeper recursion is a clean error. */
const MAX_STACK_BYTES = 256 * 1024;

let quickjs: QuickJSWASMModule;
let memoryMb = 0;
/** QuickJS's memory, whose size tells whether a step may have run out of it. */
let memory: WebAssembly.Memory;

serveSteps({
  language: "javascript",
  languages: ["javascript", "typescript"],
  async setup(raw) {
    const init = raw as JavaScriptInit;
    // The module is compiled here from bytes: left to itself, the variant
    // would try to fetch its wasm as in a browser.
    const wasmModule = await WebAssembly.compile(await Deno.readFile(init.quickjsWasm));
    const wasmMemory = new WebAssembly.Memory({ initial: 256, maximum: init.memoryPages });
    memoryMb = init.memoryPages / 16;
    memory = wasmMemory;
    // The package's typings describe its CommonJS shape; the default export is the variant.
    const base = RELEASE_SYNC as unknown as QuickJSSyncVariant;
    quickjs = await newQuickJSWASMModuleFromVariant(
      newVariant(base, { wasmModule, wasmMemory }) as QuickJSSyncVariant,
    );
  },

  async run({ job, interrupted, interruptFlag, write }): Promise<WorkerOutcome> {
    if (isCheckJob(job.extra)) return checkSources(job.extra.check, interrupted);
    const extra = (job.extra ?? {}) as JobExtra;
    const ts = extra.language === "typescript" ? extra as TypeScriptJob : undefined;
    const language = ts ? "typescript" : "javascript";
    const code = ts ? ts.code : job.code;
    const positions = ts ? sourcePositions(ts.map) : undefined;
    const env = JSON.stringify(extra.env ?? {});
    const runtime = quickjs.newRuntime();
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    runtime.setInterruptHandler(() => interrupted());
    const ctx = runtime.newContext();
    const host = new HostCalls(interruptFlag, memoryMb * 1024 * 1024);
    let outcome: WorkerOutcome;
    try {
      outcome = await runIn(
        ctx,
        runtime,
        code,
        job.inputs,
        job.params ?? "{}",
        env,
        write,
        host,
        extra.result === "json",
      );
    } catch (error) {
      outcome = { kind: "error", message: String(error), retire: true };
    } finally {
      host.abort();
    }
    try {
      ctx.dispose();
      runtime.dispose();
    } catch (error) {
      // A handle left alive aborts QuickJS: this module cannot be trusted again.
      outcome = outcome.kind === "error" ? { ...outcome, retire: true } : {
        kind: "error",
        message: `the JavaScript runtime failed while cleaning up (${error})`,
        retire: true,
      };
    }
    if (interrupted()) return { kind: "interrupted" };
    if (outcome.kind !== "error") return outcome;
    let message = describeMessage(outcome.message, job.step, positions);
    const limit = `the step's limit is ${memoryMb} MiB; raise it with memory_mb`;
    if (message.startsWith("InternalError: out of memory")) {
      message = message.replace("out of memory", `out of memory (${limit})`);
    } else if (message === "Uncaught null" && nearlyFull(memory)) {
      // Out of memory, QuickJS cannot even make its error and throws null.
      message = `out of memory (${limit})`;
    }
    return {
      ...outcome,
      message: message.startsWith("returned ") ? message : `(${language}): ${message}`,
    };
  },
});

/**
 * Compiles each source as a step's code is run (a global script), running
 * none of it: its SyntaxError, as a list of problems in JSON.
 */
function checkSources(sources: CheckJob["check"], interrupted: () => boolean): WorkerOutcome {
  const runtime = quickjs.newRuntime();
  runtime.setMaxStackSize(MAX_STACK_BYTES);
  runtime.setInterruptHandler(() => interrupted());
  const ctx = runtime.newContext();
  const problems: SyntaxProblem[] = [];
  try {
    for (const { step, code } of sources) {
      const compiled = ctx.evalCode(code, "step", { compileOnly: true });
      if (!compiled.error) {
        compiled.value.dispose();
        continue;
      }
      const syntax = syntaxOf(clipped(ctx.dump(compiled.error)));
      compiled.error.dispose();
      if (syntax) problems.push({ step, ...syntax });
    }
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
  return { kind: "result", json: JSON.stringify(problems) };
}

/** Runs the step in a fresh context; error outcomes carry raw text for `describeMessage`. */
function runIn(
  ctx: QuickJSContext,
  runtime: QuickJSRuntime,
  code: string,
  inputs: string,
  params: string,
  env: string,
  write: (stream: "stdout" | "stderr", text: string) => void,
  host: HostCalls,
  raw: boolean,
): WorkerOutcome | Promise<WorkerOutcome> {
  const functions: [string, (...args: QuickJSHandle[]) => QuickJSHandle | undefined][] = [
    ["__hwfe_write", (stream, text) => {
      write(ctx.getNumber(stream) === 2 ? "stderr" : "stdout", ctx.getString(text));
      return undefined;
    }],
    ["__hwfe_fs", (op, path, text) =>
      ctx.newString(
        fileCall(ctx.getString(op), ctx.getString(path), text && ctx.getString(text)),
      )],
    [
      "__hwfe_fetch",
      (url, init) => ctx.newNumber(host.fetch(ctx.getString(url), ctx.getString(init))),
    ],
  ];
  for (const [name, fn] of functions) {
    const handle = ctx.newFunction(name, fn);
    ctx.setProp(ctx.global, name, handle);
    handle.dispose();
  }
  for (
    const [name, text] of [
      ["__hwfe_lazy", JS_PRELUDE_LAZY],
      ["__hwfe_env", env],
      ["__hwfe_inputs", inputs],
      ["__hwfe_params", params],
    ]
  ) {
    const handle = ctx.newString(text);
    ctx.setProp(ctx.global, name, handle);
    handle.dispose();
  }
  ctx.unwrapResult(ctx.evalCode(JS_PRELUDE, "hwfe prelude")).dispose();

  const evaluated = ctx.evalCode(code, "step");
  if (evaluated.error) return failure(ctx, evaluated.error);
  evaluated.value.dispose();

  const hwfe = ctx.getProp(ctx.global, "__hwfe");
  const call = ctx.getProp(hwfe, "call");
  const called = ctx.callFunction(call, hwfe, raw ? ctx.true : ctx.false);
  call.dispose();
  hwfe.dispose();
  if (called.error) return failure(ctx, called.error);
  if (ctx.typeof(called.value) === "string") {
    const tagged = ctx.getString(called.value);
    called.value.dispose();
    return decode(tagged);
  }
  return settle(ctx, runtime, called.value, host);
}

/**
 * The tagged string an async `run` settles to: runs QuickJS's jobs, and
 * while none are left, waits for the host calls it awaits (`hwfe.fetch`).
 */
async function settle(
  ctx: QuickJSContext,
  runtime: QuickJSRuntime,
  value: QuickJSHandle,
  host: HostCalls,
): Promise<WorkerOutcome> {
  try {
    for (;;) {
      const state = ctx.getPromiseState(value);
      if (state.type === "fulfilled") {
        const tagged = ctx.typeof(state.value) === "string" ? ctx.getString(state.value) : "";
        state.value.dispose();
        return decode(tagged);
      }
      if (state.type === "rejected") return failure(ctx, state.error);
      const jobs = runtime.executePendingJobs();
      if (jobs.error) return failure(ctx, jobs.error);
      if (jobs.value > 0 || ctx.getPromiseState(value).type !== "pending") continue;
      if (host.pending === 0) {
        return {
          kind: "error",
          message: "run() returned a promise that never settles " +
            "(JavaScript steps have no timers; only hwfe.fetch can be awaited)",
        };
      }
      const done = await host.next();
      if (!done) return { kind: "interrupted" };
      const settleFn = ctx.getProp(ctx.global, "__hwfe");
      const fn = ctx.getProp(settleFn, "settle");
      const args = [
        ctx.newNumber(done.id),
        done.ok ? ctx.true : ctx.false,
        ctx.newString(done.json),
      ];
      const settled = ctx.callFunction(fn, settleFn, ...args);
      for (const handle of [fn, settleFn, ...args]) handle.dispose();
      if (settled.error) return failure(ctx, settled.error);
      settled.value.dispose();
    }
  } finally {
    value.dispose();
  }
}

/** Files for `hwfe.readTextFile` and friends: T<text>, K or E<name>|<message>. */
function fileCall(op: string, path: string, text?: string): string {
  try {
    const problem = trailingSlashProblem(op, path);
    if (problem) return "E" + problem;
    switch (op) {
      case "read":
        return "T" + Deno.readTextFileSync(path);
      case "write":
      case "append":
        Deno.writeTextFileSync(path, text ?? "", { append: op === "append" });
        return "K";
      case "remove":
        Deno.removeSync(path);
        return "K";
    }
    return `EError|unknown file operation ${op}`;
  } catch (error) {
    const kind = op === "read" ? "read" : "write";
    return "E" + hostError(error, `${kind} ${path}`, kind);
  }
}

/**
 * POSIX's answer to a path ending in `/` (or `/.`), which names a directory:
 * `a.txt/` is ENOTDIR, and no file can be created at `new.txt/` (EISDIR).
 * Deno's permission checks normalise the path first, so without this
 * `a.txt/` would read, overwrite or remove a.txt. `Name|message`, or
 * undefined to go on.
 */
function trailingSlashProblem(op: string, path: string): string | undefined {
  const named = path.replace(/(\/\.?)+$/, "");
  if (named === path || named === "" || named === ".") return undefined;
  const kind = op === "read" ? "read" : "write";
  const what = `${op} ${path}`;
  const noFile = `IsADirectory|${what}: a path ending in '/' names a directory, ` +
    "so no file can be written there";
  let isDirectory: boolean | undefined;
  try {
    isDirectory = Deno.statSync(named).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      // read and remove fail with NotFound themselves
      return op === "write" || op === "append" ? noFile : undefined;
    }
    if (!(error instanceof Deno.errors.NotCapable)) return hostError(error, what, kind);
  }
  if (isDirectory === true) return undefined;
  if (isDirectory === false) {
    return `NotADirectory|${what}: not a directory (the path ends in '/', but ${named} is not one)`;
  }
  // The step may not read `named`: whether it is a directory is unknown.
  if (Deno.permissions.querySync({ name: kind, path: named }).state !== "granted") {
    return undefined; // the call itself is refused as not granted
  }
  return op === "remove"
    ? `PermissionDenied|${what}: a path ending in '/' must name a directory, and this step ` +
      `cannot read ${named} to check (declare it in permissions.read, or drop the '/')`
    : noFile;
}

/** `Name|message` for a failed host call; not granted is PermissionDenied. */
function hostError(error: unknown, what: string, kind: "read" | "write" | "net"): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `PermissionDenied|${what}: not granted to this step (declare it in permissions.${kind} ` +
      `and run with --allow-${kind})`;
  }
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return `${name}|${what}: ${message}`;
}

/** A settled host call for QuickJS: `json` is the response or `{name, message}`. */
interface Settled {
  id: number;
  ok: boolean;
  json: string;
}

/** The fetches one step has started; all aborted when it ends. */
class HostCalls {
  #next = 1;
  readonly #inflight = new Map<number, Promise<Settled>>();
  /** Made with the first fetch: most steps fetch nothing. */
  #abort?: AbortController;

  constructor(readonly interruptFlag: Int32Array, readonly maxBodyBytes: number) {}

  get pending(): number {
    return this.#inflight.size;
  }

  fetch(url: string, initJson: string): number {
    const id = this.#next++;
    this.#inflight.set(
      id,
      this.#fetch(url, initJson).then((json) => ({ id, ok: true, json }), (error) => ({
        id,
        ok: false,
        json: JSON.stringify(splitError(hostError(error, `fetch ${url}`, "net"))),
      })),
    );
    return id;
  }

  async #fetch(url: string, initJson: string): Promise<string> {
    const init = JSON.parse(initJson) as {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
    };
    const response = await fetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: (this.#abort ??= new AbortController()).signal,
    });
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        throw new RangeError(
          `the response is larger than the step's memory limit (${
            this.maxBodyBytes / 1048576
          } MiB)`,
        );
      }
      chunks.push(chunk);
    }
    const body = new TextDecoder().decode(concatBytes(chunks, size));
    return JSON.stringify({
      status: response.status,
      statusText: response.statusText,
      url: response.url,
      headers: [...response.headers],
      body,
    });
  }

  /** The next settled call, or undefined once the step is interrupted. */
  async next(): Promise<Settled | undefined> {
    const wait = Atomics.waitAsync(this.interruptFlag, 1, 0);
    const interrupted = wait.async ? wait.value.then(() => undefined) : Promise.resolve(undefined);
    const done = await Promise.race([...this.#inflight.values(), interrupted]);
    if (done) this.#inflight.delete(done.id);
    return done;
  }

  abort(): void {
    this.#abort?.abort();
  }
}

function splitError(text: string): { name: string; message: string } {
  const bar = text.indexOf("|");
  return { name: text.slice(0, bar), message: text.slice(bar + 1) };
}

/**
 * Whether QuickJS's memory has grown to within a tenth of its maximum (it
 * never shrinks, so a step that threw `null` after an earlier one filled it
 * is taken as out of memory too).
 */
function nearlyFull(memory: WebAssembly.Memory): boolean {
  return memory.buffer.byteLength >= 0.9 * memoryMb * 1024 * 1024;
}

function failure(ctx: QuickJSContext, error: QuickJSHandle): WorkerOutcome {
  const dumped = ctx.dump(error);
  error.dispose();
  return { kind: "error", message: JSON.stringify(clipped(dumped ?? null)) };
}

function decode(tagged: string): WorkerOutcome {
  switch (tagged[0]) {
    case "R":
      return { kind: "result", json: tagged.slice(1) };
    case "B":
      return { kind: "error", message: `returned ${tagged.slice(1)}` };
    case "N":
      return { kind: "error", message: "no run() function defined" };
    default:
      return { kind: "error", message: "the runtime returned an unknown outcome" };
  }
}

/** Maps positions in transpiled code back to the TypeScript source. */
function sourcePositions(map: string): (line: number, column: number) => [number, number] {
  const trace = new TraceMap(map);
  return (line, column) => {
    const original = originalPositionFor(trace, { line, column: Math.max(0, column - 1) });
    return original.line === null ? [line, column] : [original.line, original.column + 1];
  };
}

/**
 * Worker module for JavaScript and TypeScript steps: QuickJS compiled to
 * wasm (quickjs-emscripten), one module per worker, a fresh runtime and
 * context per step. TypeScript steps arrive already transpiled
 * (typescript_worker.ts), with a source map for their error positions.
 *
 * Step code sees only the language and `console`: no Deno, process, fetch,
 * timers or file system exist inside QuickJS. The worker's own Deno
 * permissions allow reading QuickJS's wasm file and nothing else.
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
} from "npm:quickjs-emscripten-core@0.32.0";
import RELEASE_SYNC from "npm:@jitl/quickjs-wasmfile-release-sync@0.32.0";
import { originalPositionFor, TraceMap } from "npm:@jridgewell/trace-mapping@0.3.31";
import { serveSteps } from "../lib/step_worker.ts";
import type { WorkerOutcome } from "../lib/step_host.ts";
import { JS_PRELUDE, JS_PRELUDE_LAZY } from "./_js_prelude.ts";

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
}

/** What any JavaScript job carries (in `WorkerJob.extra`). */
interface JobExtra {
  language?: "typescript";
  code?: string;
  map?: string;
  /** The environment variables the run granted the step: `hwfe.env`. */
  env?: Record<string, string>;
}

/** QuickJS's stack for step code; deeper recursion is a clean error. */
const MAX_STACK_BYTES = 256 * 1024;
/** Most stack frames shown in an error. */
const MAX_FRAMES = 12;

let quickjs: QuickJSWASMModule;
let memoryMb = 0;

serveSteps({
  language: "javascript",
  async setup(raw) {
    const init = raw as JavaScriptInit;
    // The module is compiled here from bytes: left to itself, the variant
    // would try to fetch its wasm as in a browser.
    const wasmModule = await WebAssembly.compile(await Deno.readFile(init.quickjsWasm));
    const wasmMemory = new WebAssembly.Memory({ initial: 256, maximum: init.memoryPages });
    memoryMb = init.memoryPages / 16;
    // The package's typings describe its CommonJS shape; the default export is the variant.
    const base = RELEASE_SYNC as unknown as QuickJSSyncVariant;
    quickjs = await newQuickJSWASMModuleFromVariant(
      newVariant(base, { wasmModule, wasmMemory }) as QuickJSSyncVariant,
    );
  },

  run({ job, interrupted, write }): WorkerOutcome {
    const label = `step ${job.step}`;
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
    let outcome: WorkerOutcome;
    try {
      outcome = runIn(ctx, runtime, code, job.inputs, env, write);
    } catch (error) {
      outcome = { kind: "error", message: String(error), retire: true };
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
    let message = describeMessage(outcome.message, label, positions);
    if (message.startsWith("InternalError: out of memory")) {
      message = message.replace(
        "out of memory",
        `out of memory (the step's limit is ${memoryMb} MiB; raise it with memory_mb)`,
      );
    }
    return {
      ...outcome,
      message: message.startsWith("returned ") ? message : `(${language}): ${message}`,
    };
  },
});

/** Runs the step in a fresh context; error outcomes carry raw text for `describeMessage`. */
function runIn(
  ctx: QuickJSContext,
  runtime: QuickJSRuntime,
  code: string,
  inputs: string,
  env: string,
  write: (stream: "stdout" | "stderr", text: string) => void,
): WorkerOutcome {
  const writer = ctx.newFunction("__hwfe_write", (stream, text) => {
    write(ctx.getNumber(stream) === 2 ? "stderr" : "stdout", ctx.getString(text));
  });
  ctx.setProp(ctx.global, "__hwfe_write", writer);
  writer.dispose();
  for (const [name, text] of [["__hwfe_lazy", JS_PRELUDE_LAZY], ["__hwfe_env", env]]) {
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
  const argument = ctx.newString(inputs);
  const called = ctx.callFunction(call, hwfe, argument);
  argument.dispose();
  call.dispose();
  hwfe.dispose();
  if (called.error) return failure(ctx, called.error);
  return settle(ctx, runtime, called.value);
}

/** The tagged string a call produced, waiting for an async `run` to settle. */
function settle(ctx: QuickJSContext, runtime: QuickJSRuntime, value: QuickJSHandle): WorkerOutcome {
  try {
    if (ctx.typeof(value) === "string") return decode(ctx.getString(value));
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
      if (jobs.value === 0 && ctx.getPromiseState(value).type === "pending") {
        return {
          kind: "error",
          message: "run() returned a promise that never settles " +
            "(JavaScript steps have no timers or I/O to wait for)",
        };
      }
    }
  } finally {
    value.dispose();
  }
}

function failure(ctx: QuickJSContext, error: QuickJSHandle): WorkerOutcome {
  const dumped = ctx.dump(error);
  error.dispose();
  return { kind: "error", message: JSON.stringify(dumped ?? null) };
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

/**
 * A readable error: `Name: message` and the step's own stack frames (line
 * numbers of the step's source, TypeScript mapped back), or a syntax error
 * with its line and column.
 */
function describeMessage(
  raw: string,
  label: string,
  positions?: (line: number, column: number) => [number, number],
): string {
  let dumped: unknown;
  try {
    dumped = JSON.parse(raw);
  } catch {
    return raw; // already a message (no run, a result that is not JSON data)
  }
  if (typeof dumped !== "object" || dumped === null) return `Uncaught ${JSON.stringify(dumped)}`;
  const error = dumped as { name?: string; message?: string; stack?: string };
  const map = (line: number, column: number) => positions?.(line, column) ?? [line, column];
  const frames = (error.stack ?? "").split("\n").filter((f) => /\(?step:\d+:\d+\)?$/.test(f))
    .map((frame) =>
      frame.replace(/\(?step:(\d+):(\d+)\)?$/, (whole, l, c) => {
        const [line, column] = map(Number(l), Number(c));
        const where = `${label}:${line}:${column}`;
        return whole.startsWith("(") ? `(${where})` : where;
      }).replace(/^\s*at <eval> /, "    at <top level> ")
    );
  if (error.name === "SyntaxError" && frames.length > 0) {
    const at = /:(\d+):(\d+)\)?$/.exec(frames[0]);
    if (at) return `syntax error: ${error.message} (line ${at[1]}, column ${at[2]})`;
  }
  const head = `${error.name ?? "Error"}: ${error.message ?? ""}`;
  return [head, ...collapse(frames)].join("\n");
}

/** Frames with runs of one repeated frame folded, at most MAX_FRAMES. */
function collapse(frames: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < frames.length;) {
    let j = i + 1;
    while (j < frames.length && frames[j] === frames[i]) j++;
    out.push(frames[i]);
    if (j - i > 1) out.push(`    [previous frame repeated ${j - i - 1} more times]`);
    i = j;
  }
  return out.length > MAX_FRAMES
    ? [...out.slice(0, MAX_FRAMES), `    [${out.length - MAX_FRAMES} more frames]`]
    : out;
}

/** Maps positions in transpiled code back to the TypeScript source. */
function sourcePositions(map: string): (line: number, column: number) => [number, number] {
  const trace = new TraceMap(map);
  return (line, column) => {
    const original = originalPositionFor(trace, { line, column: Math.max(0, column - 1) });
    return original.line === null ? [line, column] : [original.line, original.column + 1];
  };
}

/**
 * Worker module for WebAssembly steps. The host sends the module's bytes
 * (or its WebAssembly text, compiled here with wabt); the worker's Deno
 * permissions are the step's grants and nothing else. Three calling conventions, chosen from what the
 * module exports (docs/WASM.md):
 *
 * 1. `func() -> i32`: the reference engine's convention; the code is the
 *    result (0 success, 1-10 a warning, anything else a failure).
 * 2. JSON: `memory`, `alloc(len) -> ptr` and `func(ptr, len) -> ptr` where
 *    the returned pointer holds a little-endian u32 length and that many
 *    bytes of UTF-8 JSON. `dealloc(ptr, len)`, when exported, frees both.
 * 3. WASI preview 1 command (`_start`): inputs JSON on stdin, the result
 *    read from stdout as for shell steps, the exit code checked.
 *
 * Modules that import WASI get it in every convention: no files but the
 * step's granted directories (pre-opened, wasi_host_fs.ts), no environment
 * but its granted variables, no clock beyond what the shim gives; their stdout and stderr
 * are the step's output. A wasm loop cannot be interrupted: the host ends
 * the step at its timeout and drops this worker.
 *
 * @module
 */

import { ConsoleStdout, File, OpenFile, WASI } from "../_util/npm/wasi_shim.ts";
import { compileWat, WatError } from "./_wat.ts";
import { syntaxErrorText } from "./syntax.ts";
import { compactJson, isRawJson, parseJsonExact, stringifyJson } from "../_util/json.ts";
import { serveSteps } from "../host/worker_entry.ts";
import type { WorkerOutcome } from "../host/protocol.ts";
import { shellResult } from "./shell.ts";
import { capModuleMemory, MemoryCapError } from "./wasm_memory.ts";
import { preopens } from "./wasi_host_fs.ts";

/** What the host sends with each wasm job (in `WorkerJob.extra`). */
export interface WasmJob {
  /** How the step names its module, for messages and results. */
  moduleName: string;
  /** The module's bytes, or WebAssembly text to compile. */
  bytes?: Uint8Array;
  wat?: string;
  func: string;
  /** Number of direct dependencies (the reference result's `input_count`). */
  inputCount: number;
  /** The step's memory limit: the module's memories may not grow past it. */
  memoryMb: number;
  /** The environment variables the run granted the step: WASI's environment. */
  env: Record<string, string>;
  /** The step's granted directories, pre-opened under these names (wasi_host_fs.ts). */
  preopens?: { path: string; as: string[] }[];
}

const WASI_MODULE = "wasi_snapshot_preview1";
/** Most WASI output a step keeps (the engine stops a step at 64 MiB by default). */
const MAX_KEPT_BYTES = 256 * 1024 * 1024;
const encoder = new TextEncoder();

serveSteps({
  language: "wasm",
  setup() {},
  async run({ job, write }) {
    const wasm = job.extra as WasmJob;
    const limitBytes = wasm.memoryMb * 1024 * 1024;
    const module = await compileModule(wasm, job.step, limitBytes);
    if (!(module instanceof WebAssembly.Module)) return module;
    const exports = WebAssembly.Module.exports(module);
    const imports = WebAssembly.Module.imports(module);
    const usesWasi = imports.some((i) => i.module === WASI_MODULE);
    const foreign = imports.filter((i) => i.module !== WASI_MODULE);
    if (foreign.length) {
      return fail(
        `${wasm.moduleName} imports ${
          foreign.map((i) => `${i.module}.${i.name}`).join(", ")
        }; hwfe provides only WASI preview 1 (${WASI_MODULE})`,
      );
    }
    const exported = (name: string, kind: string) =>
      exports.some((e) => e.name === name && e.kind === kind);
    const listing = exports.map((e) => `${e.name} (${e.kind})`).join(", ") || "nothing";

    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    // Output is kept for a WASI result up to a bound: a module printing
    // forever (even after its step was stopped) must not exhaust the heap.
    let kept = 0;
    const sink = (stream: "stdout" | "stderr", into: Uint8Array[]) =>
      new ConsoleStdout((bytes) => {
        if (kept > MAX_KEPT_BYTES) return;
        kept += bytes.length;
        into.push(bytes.slice());
        // Batched by serveSteps: a module can call fd_write millions of times a second.
        write(stream, decoders[stream].decode(bytes, { stream: true }));
      });
    const stdin = new OpenFile(new File(encoder.encode(job.inputs)));
    const environment = Object.entries(wasm.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const wasi = new WASI([wasm.moduleName], environment, [
      stdin,
      sink("stdout", stdout),
      sink("stderr", stderr),
      ...preopens(wasm.preopens ?? []),
    ], {
      debug: false,
    });

    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(
        module,
        usesWasi ? { [WASI_MODULE]: wasi.wasiImport } : {},
      );
    } catch (error) {
      return fail(`${wasm.moduleName} cannot be instantiated: ${text(error)}`);
    }
    const api = instance.exports as Record<string, unknown>;

    try {
      if (exported(wasm.func, "function")) {
        const fn = api[wasm.func] as (...args: number[]) => unknown;
        if (usesWasi) wasi.initialize(instance as never);
        if (fn.length === 0) return codeResult(wasm, fn(), job.inputs);
        if (fn.length === 2 && exported("memory", "memory") && exported("alloc", "function")) {
          return jsonCall(wasm, api, fn, job.inputs);
        }
        return fail(
          `export '${wasm.func}' takes ${fn.length} parameters; hwfe calls an export that takes ` +
            "none (returning an i32 code), or (ptr, len) when the module also exports memory and " +
            "alloc (the JSON convention, docs/WASM.md)",
        );
      }
      if (exported("_start", "function") && usesWasi) {
        const code = wasi.start(instance as never);
        const out = joined(stdout);
        const err = joined(stderr);
        if (code !== 0) {
          const tail = err.trim().split("\n").slice(-5).join("\n");
          return fail(`${wasm.moduleName} exited with code ${code}${tail ? `: ${tail}` : ""}`);
        }
        return { kind: "result", json: shellResult(out, err, code) };
      }
      return fail(
        `${wasm.moduleName} has no export '${wasm.func}'` +
          (exported("_start", "function") ? " and its _start does not use WASI" : "") +
          `; it exports: ${listing}`,
      );
    } catch (error) {
      // A failed allocation usually ends in a trap; near the limit, say so.
      const memory = api.memory;
      const used = memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : 0;
      const oom = used >= limitBytes / 2
        ? ` (its memory had grown to ${(used / 1024 / 1024).toFixed(1)} MiB of the step's ` +
          `${wasm.memoryMb} MiB limit; raise it with memory_mb)`
        : "";
      if (error instanceof WebAssembly.RuntimeError) {
        return fail(`${wasm.moduleName} trapped: ${error.message}${oom}`);
      }
      return fail(text(error) + oom);
    } finally {
      for (const stream of ["stdout", "stderr"] as const) {
        const rest = decoders[stream].decode();
        if (rest) write(stream, rest);
      }
    }
  },
});

/** The step's module compiled, its memory capped at the step's limit; or why it cannot be. */
async function compileModule(
  wasm: WasmJob,
  step: string,
  limitBytes: number,
): Promise<WebAssembly.Module | WorkerOutcome> {
  try {
    const bytes = wasm.bytes ?? await compileWat(wasm.wat ?? "");
    let capped: Uint8Array;
    try {
      capped = capModuleMemory(bytes, limitBytes);
    } catch (error) {
      if (error instanceof MemoryCapError) {
        return fail(`${wasm.moduleName} cannot run: ${error.message}; raise it with memory_mb`);
      }
      capped = bytes; // malformed: compiling says how
    }
    return await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>);
  } catch (error) {
    return fail(
      error instanceof WatError
        ? syntaxErrorText(error.problem, step)
        : `${wasm.moduleName} is not a valid WebAssembly module: ${withoutBytes(text(error))}`,
    );
  }
}

/**
 * Convention 1: the reference engine's result for a return code, field for
 * field: `wasm_execution`, `input_summary` when there are inputs, and
 * `processed_data`.
 */
function codeResult(wasm: WasmJob, returned: unknown, inputs: string): WorkerOutcome {
  const code = Number(returned);
  if (!Number.isInteger(code)) {
    return fail(`export '${wasm.func}' returned ${String(returned)}, not an i32 code`);
  }
  if (code !== 0 && (code < 1 || code > 10)) {
    return fail(
      `export '${wasm.func}' returned code ${code} (0 is success, 1-10 a warning, anything else a failure)`,
    );
  }
  const summary = inputSummary(inputs);
  const timestamp = new Date().toISOString();
  return {
    kind: "result",
    json: stringifyJson({
      wasm_execution: {
        module: wasm.moduleName,
        function: wasm.func,
        return_code: code,
        status: code === 0 ? "success" : "error",
        input_count: wasm.inputCount,
      },
      ...(Object.keys(summary).length ? { input_summary: summary } : {}),
      processed_data: code === 0
        ? { success: true, message: "WASM processing completed successfully", timestamp }
        : {
          warning: true,
          message: `WASM processing completed with warning code ${code}`,
          timestamp,
        },
    }),
  };
}

/**
 * Each input described as the reference engine describes it: `array[n]`,
 * `object[n]` (n members), `string[n]` (n bytes of UTF-8, as Rust counts),
 * `number[x]` and `bool[x]` (x the value as JSON writes it), `null`; keyed
 * by step name, in name order.
 */
function inputSummary(inputs: string): Record<string, string> {
  const byName = parseJsonExact(inputs) as Record<string, unknown>;
  const summary: Record<string, string> = {};
  for (const name of Object.keys(byName).sort()) {
    const value = byName[name];
    summary[name] = value === null
      ? "null"
      : Array.isArray(value)
      ? `array[${value.length}]`
      : typeof value === "string"
      ? `string[${encoder.encode(value).length}]`
      : typeof value === "boolean"
      ? `bool[${value}]`
      : typeof value === "number" || isRawJson(value)
      ? `number[${JSON.stringify(value)}]`
      : `object[${Object.keys(value as object).length}]`;
  }
  return summary;
}

/** Convention 2: inputs JSON in the module's memory, result JSON back. */
function jsonCall(
  wasm: WasmJob,
  api: Record<string, unknown>,
  fn: (ptr: number, len: number) => unknown,
  inputs: string,
): WorkerOutcome {
  const memory = api.memory as WebAssembly.Memory;
  const alloc = api.alloc as (len: number) => number;
  const dealloc = api.dealloc as ((ptr: number, len: number) => void) | undefined;
  const bytes = encoder.encode(inputs);
  const inPtr = alloc(bytes.length) >>> 0;
  if (inPtr + bytes.length > memory.buffer.byteLength) {
    return fail(`alloc(${bytes.length}) returned ${inPtr}, outside the module's memory`);
  }
  new Uint8Array(memory.buffer, inPtr, bytes.length).set(bytes);
  const outPtr = Number(fn(inPtr, bytes.length)) >>> 0;
  const size = memory.buffer.byteLength; // the call may have grown memory
  if (outPtr + 4 > size) return fail(`export '${wasm.func}' returned ${outPtr}, outside memory`);
  const length = new DataView(memory.buffer).getUint32(outPtr, true);
  if (outPtr + 4 + length > size) {
    return fail(`export '${wasm.func}' returned a result of ${length} bytes that runs past memory`);
  }
  let json: string;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      new Uint8Array(memory.buffer, outPtr + 4, length),
    );
    json = compactJson(text);
  } catch {
    return fail(`export '${wasm.func}' returned ${length} bytes that are not UTF-8 JSON`);
  }
  if (typeof dealloc === "function") {
    dealloc(inPtr, bytes.length);
    dealloc(outPtr, length + 4);
  }
  return { kind: "result", json };
}

function joined(chunks: Uint8Array[]): string {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}

function fail(message: string): WorkerOutcome {
  return { kind: "error", message: `(wasm): ${message}` };
}

/**
 * A compile error without the bytes V8 quotes ("expected magic word 00 61
 * 73 6d, found 72 6f 6f 74"): a message must not show a file's content.
 */
function withoutBytes(message: string): string {
  return message.replace(/,? found(?: [0-9a-f]{2})+/gi, "");
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

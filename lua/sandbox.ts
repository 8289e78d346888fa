/**
 * Sandboxed Lua 5.4 on wasmoon, shared by the workflow loader (main thread)
 * and the Lua step runner (a worker). Every call gets a fresh Lua state.
 *
 * wasmoon rather than fengari (the design's first choice): fengari's
 * integers are 32-bit and it is about 13x slower; wasmoon runs real Lua 5.4,
 * as the reference engine does. See docs/RUNTIMES.md.
 *
 * @module
 */

import { LuaFactory } from "../_util/npm/wasmoon.ts";
import { luaWasmPath, noteLuaLoaded } from "./wasmoon.ts";
import { LUA_PRELUDE } from "./_prelude.ts";
import type { JsonText } from "../_util/json.ts";
import { type PathFault, pathFault } from "../_util/posix_paths.ts";

/** What running a Lua chunk came to. */
export type LuaOutcome =
  | {
    kind: "result";
    json: JsonText;
    /** A workflow file's result that depended on nothing but its text. */
    cacheable?: boolean;
  }
  | { kind: "syntax_error"; message: string }
  | { kind: "runtime_error"; message: string }
  | { kind: "bad_result"; message: string }
  | { kind: "no_run" }
  | { kind: "no_workflow" }
  | { kind: "interrupted" };

/** How a Lua chunk talks back to its host. */
export interface LuaHost {
  /** Polled every 10,000 instructions; true stops the chunk. */
  interrupted(): boolean;
  /** Output printed by the chunk, in whole `print` calls. */
  output(stream: "stdout" | "stderr", text: string): void;
}

/** What to run: a workflow file or a step. */
export interface LuaChunk {
  mode: "workflow" | "step";
  /** Chunk name as Lua reports it: "@path" for a file, "=label" otherwise. */
  chunkName: string;
  code: string;
  /** JSON text of the step's inputs (step mode). */
  inputs?: JsonText;
  /** Most memory the chunk may allocate, in bytes. */
  memoryBytes?: number;
  /** JSON text of the environment variables `os.getenv` may return. */
  env?: JsonText;
  /** JSON text of the workflow's parameters: a step's `params` (step mode). */
  params?: JsonText;
  /**
   * A workflow file's `params.name`: given the JSON of `workflow.params`
   * as the file has set it so far (undefined before), "V<json>" or
   * "E<message>" (lua/_params.ts). Without it, `params` is empty.
   */
  param?: (name: string, declared?: string) => string;
}

let factory: LuaFactory | undefined;
let prelude: Promise<{ pointer: number; size: number }> | undefined;
let stepsRun = 0;

/**
 * The prelude compiled to Lua bytecode once per thread, kept in the wasm
 * module's memory (every Lua state of a thread lives in the same module).
 * Parsing its source took 0.6-0.7 ms of each step, loading the bytecode
 * 0.12-0.16 ms (measured on 500 steps). Step code itself is always text.
 */
function compiledPrelude(): Promise<{ pointer: number; size: number }> {
  return prelude ??= (async () => {
    const lua = await luaFactory().getLuaModule();
    const engine = await luaFactory().createEngine({ injectObjects: false, enableProxy: false });
    try {
      engine.global.set("__source", LUA_PRELUDE);
      // Hex, because wasmoon cuts strings crossing to JS at NUL bytes;
      // formatted 4 KiB at a time (a function call per byte took ~40 ms of
      // a fresh worker's first step).
      const hex = String(engine.doStringSync(`
        local code = string.dump(load(__source, "=hwfe prelude", "t"))
        local parts = {}
        for i = 1, #code, 4096 do
          local piece = code:sub(i, i + 4095)
          parts[#parts + 1] = string.format(string.rep("%02x", #piece), piece:byte(1, -1))
        end
        return table.concat(parts)`));
      const size = hex.length / 2;
      const pointer = lua.module._malloc(size);
      const heap = lua.module.HEAPU8;
      const digit = (c: number) => c <= 57 ? c - 48 : c - 87; // 0-9, a-f
      for (let i = 0; i < size; i++) {
        heap[pointer + i] = digit(hex.charCodeAt(2 * i)) * 16 + digit(hex.charCodeAt(2 * i + 1));
      }
      return { pointer, size };
    } finally {
      engine.global.close();
    }
  })();
}

/** Loads the Lua wasm module once per thread; later calls are free. */
export function luaFactory(wasmPath: string = luaWasmPath()): LuaFactory {
  // wasmoon fetches its wasm from unpkg when it thinks it is in a browser
  // (a worker looks like one), so the path is always given.
  noteLuaLoaded();
  return factory ??= new LuaFactory(wasmPath);
}

/** Runs one chunk in a fresh sandboxed Lua state and closes the state. */
export async function runLuaChunk(chunk: LuaChunk, host: LuaHost): Promise<LuaOutcome> {
  const engine = await luaFactory().createEngine({
    injectObjects: false,
    enableProxy: false,
  });
  try {
    const g = engine.global;
    g.set("__hwfe_mode", chunk.mode);
    g.set("__hwfe_name", chunk.chunkName);
    g.set("__hwfe_code", chunk.code);
    g.set("__hwfe_inputs", chunk.inputs ?? "{}");
    g.set("__hwfe_interrupted", () => host.interrupted());
    g.set("__hwfe_emit", (stream: string, text: string) => {
      host.output(stream === "stderr" ? "stderr" : "stdout", String(text));
    });
    if (chunk.memoryBytes !== undefined) g.set("__hwfe_memory_kb", chunk.memoryBytes / 1024);
    if (chunk.env !== undefined) g.set("__hwfe_env", chunk.env);
    if (chunk.params !== undefined) g.set("__hwfe_params", chunk.params);
    const param = chunk.param;
    if (param) {
      g.set(
        "__hwfe_param",
        (name: string, declared?: string | null) =>
          param(String(name), declared === null || declared === undefined ? undefined : declared),
      );
    }
    if (chunk.mode === "step") {
      // Files, as far as the worker's Deno permissions (the step's grants) allow.
      g.set("__hwfe_fs", fileSystem);
    }
    let tagged: unknown;
    try {
      // Compiling the bytecode costs about 15 ms in a fresh thread: worth it
      // from the third step on, not for a workflow file or a one-step run.
      if (chunk.mode === "step" && ++stepsRun > 2) {
        const prelude = await compiledPrelude();
        const loaded = engine.global.lua.luaL_loadbufferx(
          engine.global.address,
          prelude.pointer,
          prelude.size,
          "=hwfe prelude",
          "b",
        );
        if (loaded !== 0) throw new Error(`the prelude's bytecode did not load (${loaded})`);
        tagged = engine.global.runSync()[0];
      } else {
        tagged = engine.doStringSync(LUA_PRELUDE);
      }
    } catch (error) {
      if (host.interrupted()) return { kind: "interrupted" };
      return {
        kind: "runtime_error",
        message: error instanceof Error ? error.message : String(error),
      };
    }
    if (host.interrupted()) return { kind: "interrupted" };
    return decodeOutcome(String(tagged));
  } finally {
    engine.global.close();
  }
}

/** Compiles one chunk, running none of it: its syntax error, or nil. */
const COMPILE_ONE = `return function(code, name) local _, e = load(code, name, "t") return e end`;

/**
 * Compiles every chunk in one call (a call per chunk cost about 0.1 ms
 * each): the chunks' texts and names arrive joined, with their lengths in
 * bytes; returns the indexes of those that do not compile.
 */
const COMPILE_ALL = `
local codes, names, failed = __hwfe_codes, __hwfe_names, {}
local at, name_at, i = 1, 1, 0
for code_length, name_length in __hwfe_lengths:gmatch("(%d+):(%d+)") do
  code_length, name_length = tonumber(code_length), tonumber(name_length)
  local code = codes:sub(at, at + code_length - 1)
  local name = names:sub(name_at, name_at + name_length - 1)
  if not load(code, name, "t") then failed[#failed + 1] = i end
  at, name_at, i = at + code_length, name_at + name_length, i + 1
end
return table.concat(failed, " ")`;

/**
 * Compiles each chunk with the sandbox's loader (`load` in text mode)
 * without running any of it; returns each one's syntax error as Lua words
 * it (`[step a]:3: unexpected symbol near 'x'`), or undefined. One Lua
 * state for them all: compiling runs no code of the chunk.
 */
export async function compileLuaChunks(
  chunks: Pick<LuaChunk, "chunkName" | "code">[],
): Promise<(string | undefined)[]> {
  const engine = await luaFactory().createEngine({ injectObjects: false, enableProxy: false });
  try {
    const compile = engine.doStringSync(COMPILE_ONE) as (code: string, name: string) => unknown;
    const errorOf = ({ code, chunkName }: Pick<LuaChunk, "chunkName" | "code">) => {
      const error = compile(code, chunkName);
      return error === null || error === undefined ? undefined : String(error);
    };
    // wasmoon cuts a string at a NUL: such chunks go one at a time.
    if (chunks.some((c) => c.code.includes("\0") || c.chunkName.includes("\0"))) {
      return chunks.map(errorOf);
    }
    const bytes = (text: string) => encoder.encode(text).length;
    const g = engine.global;
    g.set("__hwfe_codes", chunks.map((c) => c.code).join(""));
    g.set("__hwfe_names", chunks.map((c) => c.chunkName).join(""));
    g.set("__hwfe_lengths", chunks.map((c) => `${bytes(c.code)}:${bytes(c.chunkName)}`).join(" "));
    const errors: (string | undefined)[] = chunks.map(() => undefined);
    for (const index of String(engine.doStringSync(COMPILE_ALL)).split(" ").filter(Boolean)) {
      errors[Number(index)] = errorOf(chunks[Number(index)]);
    }
    return errors;
  } finally {
    engine.global.close();
  }
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Bytes for Lua: text when valid UTF-8 without NUL (wasmoon cuts strings at NUL), else hex. */
function bytesForLua(bytes: Uint8Array): string {
  if (!bytes.includes(0)) {
    try {
      return "T" + fatalUtf8.decode(bytes);
    } catch { /* not UTF-8: hex below */ }
  }
  return "H" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytesFromLua(data: string): Uint8Array {
  if (data[0] !== "H") return encoder.encode(data.slice(1));
  const bytes = new Uint8Array((data.length - 1) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(data.substr(1 + 2 * i, 2), 16);
  return bytes;
}

/**
 * The one host function behind a Lua step's `io` (lua/_io.ts):
 * replies K (done), T<text>, H<hex> or E<errno>|<message>. Deno checks
 * every call against the worker's permissions.
 */
function fileSystem(op: string, path: string, arg?: string): string {
  const writing = op === "write" || op === "append";
  const fault = pathFault(path, writing) ??
    (op === "rename" ? pathFault(arg ?? "", false) : undefined);
  if (fault) return "E" + FAULTS[fault];
  try {
    switch (op) {
      case "read":
        return bytesForLua(Deno.readFileSync(path));
      case "write":
      case "append":
        Deno.writeFileSync(path, bytesFromLua(arg ?? "T"), { append: op === "append" });
        return "K";
      case "remove":
        Deno.removeSync(path);
        return "K";
      case "rename":
        Deno.renameSync(path, arg ?? "");
        return "K";
      default:
        return `E22|unknown operation ${op}`;
    }
  } catch (error) {
    return "E" + fileError(error, op === "read" ? "read" : "write");
  }
}

/** The errno and message of each fault Deno's path normalization would hide. */
const FAULTS: Record<PathFault, string> = {
  ENOTDIR: "20|Not a directory",
  EISDIR: "21|Is a directory",
  ENOENT: "2|No such file or directory",
};

/** An errno and message for a failed file call, as C would give them. */
function fileError(error: unknown, kind: "read" | "write"): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `13|Permission denied (not granted to this step: declare it in permissions.${kind} and run with --allow-${kind})`;
  }
  if (error instanceof Deno.errors.NotFound) return "2|No such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "13|Permission denied";
  if (error instanceof Deno.errors.AlreadyExists) return "17|File exists";
  if (error instanceof Deno.errors.IsADirectory) return "21|Is a directory";
  if (error instanceof Deno.errors.NotADirectory) return "20|Not a directory";
  return `5|${error instanceof Error ? error.message : String(error)}`;
}

function decodeOutcome(tagged: string): LuaOutcome {
  const rest = tagged.slice(1);
  switch (tagged[0]) {
    case "R":
      return { kind: "result", json: rest };
    case "D":
      return { kind: "result", json: rest, cacheable: true };
    case "S":
      return { kind: "syntax_error", message: rest };
    case "E":
      return { kind: "runtime_error", message: rest };
    case "T":
      return { kind: "bad_result", message: rest };
    case "N":
      return { kind: "no_run" };
    case "W":
      return { kind: "no_workflow" };
    default:
      return { kind: "interrupted" };
  }
}

/**
 * Keeps a Lua traceback's frames that point into the chunk named `label`
 * and drops hwfe's own; returns the message alone when none are left.
 */
export function trimTraceback(message: string, label: string): string {
  const at = message.indexOf("\nstack traceback:\n");
  if (at < 0) return message;
  const frames = message.slice(at + 18).split("\n")
    .filter((line) => line.trimStart().startsWith(label));
  const head = message.slice(0, at);
  return frames.length ? `${head}\nstack traceback:\n${frames.join("\n")}` : head;
}

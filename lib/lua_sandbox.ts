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

import { LuaFactory } from "npm:wasmoon@1.16.0";
import { createRequire } from "node:module";
import { LUA_PRELUDE } from "./_lua_prelude.ts";
import type { JsonText } from "./json.ts";

/** What running a Lua chunk came to. */
export type LuaOutcome =
  | { kind: "result"; json: JsonText }
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
}

/** Absolute path of wasmoon's `glue.wasm`, which a Lua worker must be able to read. */
export function luaWasmPath(): string {
  return createRequire(import.meta.url).resolve("wasmoon/dist/glue.wasm");
}

let factory: LuaFactory | undefined;

/** Loads the Lua wasm module once per thread; later calls are free. */
export function luaFactory(wasmPath: string = luaWasmPath()): LuaFactory {
  // wasmoon fetches its wasm from unpkg when it thinks it is in a browser
  // (a worker looks like one), so the path is always given.
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
    let tagged: unknown;
    try {
      tagged = engine.doStringSync(LUA_PRELUDE);
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

function decodeOutcome(tagged: string): LuaOutcome {
  const rest = tagged.slice(1);
  switch (tagged[0]) {
    case "R":
      return { kind: "result", json: rest };
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

/**
 * Which wasmoon hwfe runs Lua on and where its Lua wasm file is, without
 * loading wasmoon itself (its JavaScript costs about 25 ms to load, which
 * a run whose workflow comes from the cache does not need on the main
 * thread).
 *
 * @module
 */

import { npmFile } from "../_util/npm_files.ts";

let engine: string | undefined;
let loadedHere = false;

/**
 * Whether this thread has loaded Lua already (lua/sandbox.ts, to evaluate
 * a workflow file): then more Lua here costs next to nothing, while the
 * first costs about 0.1-0.2 s of this thread's time.
 */
export function luaLoadedHere(): boolean {
  return loadedHere;
}

/** Notes that this thread has loaded Lua (lua/sandbox.ts). */
export function noteLuaLoaded(): void {
  loadedHere = true;
}

/**
 * The Lua engine as npm names it, `name@version`, read from the package
 * installed (so it is written only where wasmoon is imported, in
 * _util/npm/wasmoon.ts): part of the key of every cached workflow
 * evaluation, so another wasmoon evaluates again.
 */
export function luaEngine(): string {
  engine ??= `wasmoon@${
    JSON.parse(Deno.readTextFileSync(npmFile("wasmoon/package.json"))).version
  }`;
  return engine;
}

/** Absolute path of wasmoon's `glue.wasm`, which a Lua worker must be able to read. */
export function luaWasmPath(): string {
  return npmFile("wasmoon/dist/glue.wasm");
}

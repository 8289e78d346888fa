/**
 * Where wasmoon's Lua wasm file is, without loading wasmoon itself (its
 * JavaScript costs about 25 ms to load, which a run whose workflow comes
 * from the cache does not need on the main thread).
 *
 * @module
 */

import { npmFile } from "../_util/npm_files.ts";

/** Absolute path of wasmoon's `glue.wasm`, which a Lua worker must be able to read. */
export function luaWasmPath(): string {
  return npmFile("wasmoon/dist/glue.wasm");
}

/**
 * Which wasmoon hwfe runs Lua on and where its Lua wasm file is, without
 * loading wasmoon itself (its JavaScript costs about 25 ms to load, which
 * a run whose workflow comes from the cache does not need on the main
 * thread).
 *
 * @module
 */

import { npmFile } from "../_util/npm_files.ts";

/**
 * The Lua engine as npm names it, `name@version`: part of the key of every
 * cached workflow evaluation, so another wasmoon evaluates again. The
 * imports of wasmoon (lua/sandbox.ts, _util/npm_files.ts) must name the same
 * (wasmoon_test.ts checks).
 */
export const LUA_ENGINE = "wasmoon@1.16.0";

/** Absolute path of wasmoon's `glue.wasm`, which a Lua worker must be able to read. */
export function luaWasmPath(): string {
  return npmFile("wasmoon/dist/glue.wasm");
}

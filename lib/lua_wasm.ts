/**
 * Where wasmoon's Lua wasm file is, without loading wasmoon itself (its
 * JavaScript costs about 25 ms to load, which a run whose workflow comes
 * from the cache does not need on the main thread).
 *
 * @module
 */

import { createRequire } from "node:module";
// Type-only: keeps the package resolvable for createRequire.
import type {} from "npm:wasmoon@1.16.0";

/** Absolute path of wasmoon's `glue.wasm`, which a Lua worker must be able to read. */
export function luaWasmPath(): string {
  return createRequire(import.meta.url).resolve("wasmoon/dist/glue.wasm");
}

/**
 * The V8 flags of the process that runs hwfe (its tasks, its compiled
 * binary, its install command). V8 reads flags once, at start-up (setting
 * them later has no effect), so they are command-line flags everywhere.
 *
 * `--no-wasm-dynamic-tiering`: the in-process runtimes (wasmoon for Lua,
 * QuickJS for JavaScript) are WebAssembly interpreters that several
 * workers of one process run at once. With dynamic tiering, V8 starts
 * every function in its baseline compiler (Liftoff) and optimises hot ones
 * later; measured on two cores, four CPU-bound Lua steps took 3.5 s at
 * -j 1 and 4.0 s at -j 2 (each step twice the CPU time when two ran at
 * once), JavaScript steps 3.0 s and 5.5 s. Without it every function is
 * compiled by the optimising compiler (TurboFan) when first called: Lua
 * 3.2 s and 1.9 s (1.7x), JavaScript 3.6 s and 2.3 s, and a one-step run
 * starts as fast as before (docs/BENCHMARKS.md).
 *
 * Step children (Python, wasm) do not get it: each is a process of its
 * own, where tiering costs nothing in parallel, and TurboFan-compiling
 * each Pyodide function on first call made a Python child's first step
 * about 0.2 s slower. A compiled hwfe runs its children as itself, so
 * there they do get it.
 *
 @module
 */

/** The flags, each as `--name`. */
export const V8_FLAGS: readonly string[] = ["--no-wasm-dynamic-tiering"];

/** `--v8-flags=...` for a `deno` command line, with `extra` flags first. */
export function v8FlagsArg(...extra: string[]): string {
  return `--v8-flags=${[...extra, ...V8_FLAGS].join(",")}`;
}

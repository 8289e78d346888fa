/**
 * Files of hwfe's npm packages that runtimes read from disk (wasm files,
 * Pyodide's standard library), found without loading the packages.
 *
 * @module
 */

import { createRequire } from "node:module";
import { ExitCode, HwfeError } from "./errors.ts";

/**
 * The packages whose files {@link npmFile} finds. These imports are never
 * called: they keep each package in the module graph, so Deno installs it
 * and `require.resolve` finds it from any referrer, also when hwfe is
 * imported from a URL. Loading them here would cost start-up time that
 * most runs do not need (about 30 ms for Pyodide, 25 ms for wasmoon).
 */
export const NPM_PACKAGES = {
  wasmoon: () => import("npm:wasmoon@1.16.0"),
  pyodide: () => import("npm:pyodide@314.0.7"),
  quickjs: () => import("npm:@jitl/quickjs-wasmfile-release-sync@0.32.0"),
  esbuild: () => import("npm:esbuild-wasm@0.28.2/esm/browser.js"),
};

/**
 * Every other npm package in deno.lock, at its version there. These
 * imports are never called either; they put the whole lockfile in the
 * module graph of any program that loads hwfe, so Deno has installed
 * every package in it before a step child starts: a child loads from
 * hwfe's lockfile (or the program's) and the cache alone, and Deno
 * installs a lockfile's every package (host/child_process.ts). As direct
 * dependencies at exact versions they also decide, where Deno can, which
 * version a package's own dependency resolves to (it reuses a version
 * already in the graph that satisfies the range), so that a fresh
 * resolution (`deno install -g`, a program without a lockfile) picks what
 * deno.lock names.
 */
export const PINNED_DEPENDENCIES = [
  () => import("npm:ws@8.23.0"),
  () => import("npm:@types/emscripten@1.41.6"),
  () => import("npm:@types/emscripten@1.39.10"),
  () => import("npm:@jitl/quickjs-ffi-types@0.32.0"),
  () => import("npm:quickjs-emscripten-core@0.32.0"),
  () => import("npm:@jridgewell/trace-mapping@0.3.31"),
  () => import("npm:@jridgewell/resolve-uri@3.1.3"),
  () => import("npm:@jridgewell/sourcemap-codec@1.6.0"),
  () => import("npm:@bjorn3/browser_wasi_shim@0.4.2"),
  () => import("npm:wabt@1.0.39"),
  () => import("npm:commander@15.1.0"),
  () => import("npm:smol-toml@1.9.1"),
  () => import("npm:yaml@2.9.1"),
  () => import("npm:dotenv@18.0.10"),
];

/** The absolute path of a file in one of {@link NPM_PACKAGES}, e.g. "wasmoon/dist/glue.wasm". */
export function npmFile(path: string): string {
  const file = npmPath(path);
  // Workers get read access to these files, which hwfe can only pass on if
  // it has it: say so now, before a run starts, rather than from a worker.
  if (Deno.permissions.querySync({ name: "read", path: file }).state !== "granted") {
    throw new HwfeError(
      `hwfe reads its runtimes' files (such as ${file}) from Deno's cache, which needs read ` +
        `access: start your program with deno run --allow-read (and --unstable-worker-options)`,
      ExitCode.usage,
    );
  }
  return file;
}

/** Where this process resolves `path` in one of {@link NPM_PACKAGES}, without checking access. */
function npmPath(path: string): string {
  // createRequire needs a file path as its base. A module imported over
  // HTTP has none, and any will do: the packages come from the module graph.
  return createRequire(import.meta.url.startsWith("file:") ? import.meta.url : baseDir())
    .resolve(path);
}

function baseDir(): string {
  try {
    return `${Deno.cwd()}/`;
  } catch {
    return Deno.build.os === "windows" ? "C:\\" : "/";
  }
}

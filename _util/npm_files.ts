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
  wasmoon: () => import("./npm/wasmoon.ts"),
  pyodide: () => import("./npm/pyodide.ts"),
  quickjs: () => import("./npm/quickjs_wasm.ts"),
  esbuild: () => import("./npm/esbuild.ts"),
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
  () => import("./npm/quickjs.ts"),
  () => import("./npm/trace_mapping.ts"),
  () => import("npm:@jridgewell/resolve-uri@3.1.3"),
  () => import("npm:@jridgewell/sourcemap-codec@1.6.0"),
  () => import("./npm/wasi_shim.ts"),
  () => import("./npm/wabt.ts"),
  () => import("./npm/commander.ts"),
  () => import("./npm/smol_toml.ts"),
  () => import("./npm/yaml.ts"),
  () => import("./npm/dotenv.ts"),
  () => import("./npm/picocolors.ts"),
  () => import("./npm/log_update.ts"),
  () => import("./npm/ansi_escapes.ts"),
  () => import("./npm/string_width.ts"),
  () => import("./npm/slice_ansi.ts"),
  () => import("npm:ansi-regex@6.6.0"),
  () => import("npm:ansi-styles@6.2.3"),
  () => import("npm:cli-cursor@5.0.0"),
  () => import("npm:environment@1.1.0"),
  () => import("npm:get-east-asian-width@1.7.0"),
  () => import("npm:is-fullwidth-code-point@5.1.0"),
  () => import("npm:mimic-function@5.0.1"),
  () => import("npm:onetime@7.0.0"),
  () => import("npm:restore-cursor@5.1.0"),
  () => import("npm:signal-exit@4.1.0"),
  () => import("npm:strip-ansi@7.2.0"),
  () => import("npm:wrap-ansi@10.0.2"),
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

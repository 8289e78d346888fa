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
 * The dependencies of those packages, at the versions in deno.lock. These
 * imports are never called either: as direct dependencies at exact
 * versions they decide which version each package's own dependency
 * resolves to (Deno reuses a version already in the graph that satisfies
 * the range), so every resolution of hwfe's packages picks the same ones:
 * from a checkout's lockfile, from `deno install`'s fresh one, from a
 * program's own, or from none. A step child, which loads what its parent
 * loaded from a lockfile and the cache alone (lib/child_worker.ts), then
 * finds every version it needs already cached.
 */
export const PINNED_DEPENDENCIES = [
  () => import("npm:ws@8.23.0"),
  () => import("npm:@types/emscripten@1.41.6"),
  () => import("npm:@types/emscripten@1.39.10"),
  () => import("npm:@jitl/quickjs-ffi-types@0.32.0"),
  () => import("npm:@jridgewell/resolve-uri@3.1.3"),
  () => import("npm:@jridgewell/sourcemap-codec@1.6.0"),
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
export function npmPath(path: string): string {
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

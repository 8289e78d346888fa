/**
 * Files of hwfe's npm packages that runtimes read from disk (wasm files,
 * Pyodide's standard library), found without loading the packages.
 *
 * @module
 */

import { createRequire } from "node:module";

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

/** The absolute path of a file in one of {@link NPM_PACKAGES}, e.g. "wasmoon/dist/glue.wasm". */
export function npmFile(path: string): string {
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

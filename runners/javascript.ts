/**
 * JavaScript and TypeScript steps: QuickJS in the step host's workers (see
 * javascript_worker.ts). TypeScript workers also load esbuild's wasm build,
 * so only a workflow with a TypeScript step pays for it.
 *
 * @module
 */

import { createRequire } from "node:module";
import "npm:@jitl/quickjs-wasmfile-release-sync@0.32.0";
import "npm:esbuild-wasm@0.28.2/esm/browser.js";
import type { StepHost, WorkerRuntime } from "../lib/step_host.ts";
import type { JavaScriptInit } from "./javascript_worker.ts";
import type { Runner } from "./types.ts";
import { runOnWorker } from "./worker_runner.ts";

/** Most memory one JavaScript worker may use: 4096 pages of 64 KiB, 256 MiB. */
export const JS_MEMORY_PAGES = 4096;

const require = createRequire(import.meta.url);

/** QuickJS's wasm file, which JavaScript workers read. */
export function quickjsWasmPath(): string {
  return require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
}

/** esbuild's wasm file, which TypeScript workers read. */
export function esbuildWasmPath(): string {
  return require.resolve("esbuild-wasm/esbuild.wasm");
}

function runner(host: StepHost, language: "javascript" | "typescript"): Runner {
  const quickjsWasm = quickjsWasmPath();
  const esbuildWasm = language === "typescript" ? esbuildWasmPath() : undefined;
  const init: JavaScriptInit = { quickjsWasm, memoryPages: JS_MEMORY_PAGES, esbuildWasm };
  const runtime: WorkerRuntime = {
    id: language,
    moduleUrl: new URL("./javascript_worker.ts", import.meta.url),
    read: esbuildWasm ? [quickjsWasm, esbuildWasm] : [quickjsWasm],
    init: () => init,
  };
  return {
    language,
    warmUp: (count) => host.warmUp(runtime, count),
    reportsStart: true,
    run: (ctx) => runOnWorker(host, runtime, ctx),
  };
}

/** Creates the JavaScript runner on top of a step host. */
export function javascriptRunner(host: StepHost): Runner {
  return runner(host, "javascript");
}

/** Creates the TypeScript runner (esbuild, then QuickJS) on top of a step host. */
export function typescriptRunner(host: StepHost): Runner {
  return runner(host, "typescript");
}

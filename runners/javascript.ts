/**
 * JavaScript and TypeScript steps: QuickJS in the step host's workers (see
 * javascript_worker.ts). TypeScript steps share those workers: a run's
 * TypeScript sources are transpiled together by esbuild's wasm build in a
 * separate, short-lived worker (typescript_worker.ts), started as soon as
 * the plan shows a TypeScript step so that it overlaps earlier levels.
 *
 * @module
 */

import { resolve } from "node:path";
import { CacheEntry, sha256Hex, sha256OfText as hash } from "../_util/cache.ts";
import { StepError } from "../_util/errors.ts";
import { npmFile } from "../_util/npm_files.ts";
import { untilAborted } from "../_util/abort.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import { sandboxedWorker } from "../host/sandboxed_worker.ts";
import type { Workflow } from "../workflow/model.ts";
import type { JavaScriptInit, TypeScriptJob } from "./javascript_worker.ts";
import type { Transpiled, TranspileRequest } from "./typescript_worker.ts";
import {
  DEFAULT_STEP_MEMORY_MB,
  type Runner,
  type RunnerEvents,
  stepMemoryMb,
} from "../engine/runner.ts";
import { runOnWorker } from "./_worker_job.ts";

/** QuickJS's wasm file, which JavaScript workers read. */
export function quickjsWasmPath(): string {
  return npmFile("@jitl/quickjs-wasmfile-release-sync/wasm");
}

/** esbuild's wasm file, which the TypeScript transpiler reads. */
export function esbuildWasmPath(): string {
  return npmFile("esbuild-wasm/esbuild.wasm");
}

/**
 * The worker runtimes JavaScript and TypeScript steps run on, one per
 * memory limit: QuickJS's memory is capped per worker (a
 * `WebAssembly.Memory` with a maximum), so steps with different limits
 * need different workers.
 */
export function javascriptRuntimes(): (memoryMb: number) => WorkerRuntime {
  const quickjsWasm = quickjsWasmPath();
  const byLimit = new Map<number, WorkerRuntime>();
  return (memoryMb) => {
    const pages = Math.max(256, Math.floor(memoryMb * 16)); // 64 KiB pages; QuickJS needs 16 MiB
    let runtime = byLimit.get(pages);
    if (!runtime) {
      const init: JavaScriptInit = { quickjsWasm, memoryPages: pages };
      runtime = {
        id: pages === DEFAULT_STEP_MEMORY_MB * 16 ? "javascript" : `javascript (${memoryMb} MiB)`,
        languages: ["javascript", "typescript"],
        moduleUrl: new URL("./javascript_worker.ts", import.meta.url),
        read: [quickjsWasm],
        init: () => init,
      };
      byLimit.set(pages, runtime);
    }
    return runtime;
  };
}

/** Creates the JavaScript runner on top of a step host. */
export function javascriptRunner(
  host: StepHost,
  runtimes: (memoryMb: number) => WorkerRuntime,
): Runner {
  return {
    language: "javascript",
    warmUp: (count, _workflow, memoryMb) =>
      host.warmUp(runtimes(memoryMb ?? DEFAULT_STEP_MEMORY_MB), count),
    reportsStart: true,
    run: (ctx) =>
      runOnWorker(host, runtimes(stepMemoryMb(ctx)), ctx, {
        env: ctx.env ?? {},
        result: ctx.step.result,
      }),
  };
}

/** Options of {@link typescriptRunner}. */
export interface TypeScriptRunnerOptions extends RunnerEvents {
  /** hwfe's cache directory: transpiled steps are kept per workflow; undefined: none. */
  cacheDir?: string;
}

function esbuildVersion(): string {
  return JSON.parse(Deno.readTextFileSync(new URL("package.json", `file://${esbuildWasmPath()}`)))
    .version;
}

/**
 * Creates the TypeScript runner: esbuild, then the JavaScript workers.
 * A workflow's transpiled steps are cached (per workflow, keyed by esbuild's
 * version and the sources): starting esbuild's worker took about 0.35 s of
 * every run with TypeScript steps.
 */
export function typescriptRunner(
  host: StepHost,
  runtimes: (memoryMb: number) => WorkerRuntime,
  options: TypeScriptRunnerOptions = {},
): Runner {
  let batch: { workflow: Workflow; done: Promise<Map<string, Transpiled>> } | undefined;
  let transpiler: Worker | undefined;
  const writes = new Set<Promise<void>>();

  const transpileAll = (workflow: Workflow): Promise<Map<string, Transpiled>> => {
    if (batch?.workflow === workflow) return batch.done;
    const sources = [...workflow.steps.values()]
      .filter((step) => step.language === "typescript")
      .map((step) => ({ step: step.name, code: step.code ?? "" }));
    const done = cachedTranspile(workflow, sources);
    batch = { workflow, done };
    return done;
  };

  const cachedTranspile = async (
    workflow: Workflow,
    sources: TranspileRequest["sources"],
  ): Promise<Map<string, Transpiled>> => {
    const entry = options.cacheDir === undefined ? undefined : new CacheEntry(
      `${options.cacheDir}/typescript`,
      `${
        hash(workflow.file ? resolve(workflow.file) : `workflow ${workflow.name}`).slice(0, 16)
      }.transpiled`, // not .js: Deno's tools would take it for a module
      hash(`${esbuildVersion()}\n${JSON.stringify(sources)}`),
    );
    const cached = await entry?.read();
    if (cached && await sha256Hex(cached.bytes) === cached.sha256) {
      try {
        const list = JSON.parse(new TextDecoder().decode(cached.bytes)) as Transpiled[];
        return new Map(list.map((t) => [t.step, t]));
      } catch { /* unreadable: transpile again */ }
    }
    const done = await transpile(sources, (worker) => (transpiler = worker));
    if (entry?.writable()) {
      const bytes = new TextEncoder().encode(JSON.stringify([...done.values()]));
      const write = entry.write(bytes).catch((error) =>
        options.onWarning?.(`TypeScript cache not saved (${error.message})`)
      ).finally(() => writes.delete(write));
      writes.add(write);
    }
    return done;
  };

  return {
    language: "typescript",
    warmUp(count, workflow, memoryMb) {
      host.warmUp(runtimes(memoryMb ?? DEFAULT_STEP_MEMORY_MB), count);
      transpileAll(workflow).catch(() => {}); // reported by the steps
    },
    async close() {
      transpiler?.terminate();
      await Promise.all(writes);
    },
    reportsStart: true,
    async run(ctx) {
      const name = ctx.step.name;
      const all = await untilAborted(transpileAll(ctx.workflow), ctx.signal);
      if (!all) throw new StepError(`step '${name}' was interrupted`);
      const out = all.get(name);
      if (!out) throw new StepError(`step '${name}' (typescript): it was not transpiled`);
      if ("error" in out) throw new StepError(`step '${name}' (typescript): ${out.error}`);
      const extra: TypeScriptJob = {
        language: "typescript",
        code: out.code,
        map: out.map,
        env: ctx.env ?? {},
        result: ctx.step.result,
      };
      return await runOnWorker(host, runtimes(stepMemoryMb(ctx)), ctx, extra);
    },
  };
}

/** Transpiles the sources in a fresh worker, terminated as soon as it answers. */
function transpile(
  sources: TranspileRequest["sources"],
  started: (worker: Worker) => void,
): Promise<Map<string, Transpiled>> {
  const esbuildWasm = esbuildWasmPath();
  const worker = sandboxedWorker(
    new URL("./typescript_worker.ts", import.meta.url),
    "hwfe-typescript",
    { read: [esbuildWasm], write: [], net: [] },
  );
  started(worker);
  return new Promise<Map<string, Transpiled>>((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      worker.terminate();
      const results = (data as { results?: unknown }).results;
      if (!Array.isArray(results)) {
        const why = (data as { failed?: unknown }).failed;
        return reject(new StepError(`the TypeScript transpiler failed: ${String(why)}`));
      }
      const byStep = new Map<string, Transpiled>();
      for (const r of results as Record<string, unknown>[]) {
        if (typeof r.step !== "string") continue;
        if (typeof r.error === "string") byStep.set(r.step, { step: r.step, error: r.error });
        else if (typeof r.code === "string" && typeof r.map === "string") {
          byStep.set(r.step, { step: r.step, code: r.code, map: r.map });
        }
      }
      resolve(byStep);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new StepError(`the TypeScript transpiler crashed: ${event.message}`));
    };
    worker.postMessage({ esbuildWasm, sources } satisfies TranspileRequest);
  });
}

/**
 * TypeScript steps: transpiled by esbuild's wasm build in a separate,
 * short-lived worker (typescript_worker.ts), started as soon as the plan
 * shows a TypeScript step so that it overlaps earlier levels, then run on
 * the JavaScript runtime's workers (javascript.ts).
 *
 * The transpiler takes a run's sources shortest first and reports each as
 * it is done, so a step waits for its own source and shorter ones, never
 * for a huge one beside it. A source that breaks esbuild (its stack
 * overflows) fails its step alone: the rest go to a fresh worker.
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
import type { Step, Workflow } from "../workflow/model.ts";
import type { TypeScriptJob } from "./javascript_worker.ts";
import type { Transpiled, TranspileRequest, TranspileSyntax } from "./typescript_worker.ts";
import { DEFAULT_STEP_MEMORY_MB, type RunnerEvents, stepMemoryMb } from "../engine/runner.ts";
import { runOnWorker } from "./_worker_job.ts";
import { withFileLines } from "../workflow/code_lines.ts";
import type { CheckingRunner, SyntaxOptions, SyntaxProblem } from "./syntax.ts";

/** esbuild's wasm file, which the TypeScript transpiler reads. */
export function esbuildWasmPath(): string {
  return npmFile("esbuild-wasm/esbuild.wasm");
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

type Source = TranspileRequest["sources"][number];

/** A workflow's transpiling: one promise per step. */
class Batch {
  readonly #results = new Map<string, PromiseWithResolvers<Transpiled>>();
  #stopWorker?: (why: string) => void;
  #closed = false;

  constructor(readonly workflow: Workflow, readonly sources: Source[]) {
    for (const { step } of sources) {
      const result = Promise.withResolvers<Transpiled>();
      result.promise.catch(() => {}); // observed by the step, if it runs
      this.#results.set(step, result);
    }
  }

  result(step: string): Promise<Transpiled> | undefined {
    return this.#results.get(step)?.promise;
  }

  resolve(result: Transpiled): void {
    this.#results.get(result.step)?.resolve(result);
  }

  /** Transpiles every source, shortest first; resolves once all are done. */
  async run(): Promise<Transpiled[]> {
    const all: Transpiled[] = [];
    let rest = [...this.sources].sort((a, b) => a.code.length - b.code.length);
    // Each worker takes at least one source (at most one worker per source).
    while (rest.length > 0 && !this.#closed) {
      const done = await this.#transpile(rest);
      all.push(...done);
      const finished = new Set(done.map((t) => t.step));
      const left = rest.filter((source) => !finished.has(source.step));
      if (done.length === 0 || left.length === rest.length) break;
      rest = left;
    }
    return all;
  }

  /** Runs one worker over `sources` until it finishes them or one breaks esbuild. */
  #transpile(sources: Source[]): Promise<Transpiled[]> {
    const esbuildWasm = esbuildWasmPath();
    const worker = sandboxedWorker(
      new URL("./typescript_worker.ts", import.meta.url),
      "hwfe-typescript",
      { read: [esbuildWasm], write: [], net: [] },
    );
    const done: Transpiled[] = [];
    return new Promise<Transpiled[]>((resolve) => {
      const fail = (why: string) => {
        worker.terminate();
        const error = new StepError(why);
        for (const { step } of sources) {
          if (!done.some((t) => t.step === step)) this.#results.get(step)?.reject(error);
        }
        resolve(done);
      };
      this.#stopWorker = fail;
      worker.onmessage = ({ data }) => {
        const message = data as { result?: unknown; end?: unknown; failed?: unknown };
        if (message.end === true) {
          worker.terminate();
          return resolve(done);
        }
        const result = checkTranspiled(message.result);
        if (!result) {
          return fail(`the TypeScript transpiler failed: ${String(message.failed ?? "")}`);
        }
        done.push(result);
        this.resolve(result);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        fail(`the TypeScript transpiler crashed: ${event.message}`);
      };
      worker.postMessage({ esbuildWasm, sources } satisfies TranspileRequest);
    });
  }

  /** Stops transpiling: steps still waiting fail. */
  close(): void {
    this.#closed = true;
    this.#stopWorker?.("the TypeScript transpiler was stopped");
  }
}

/** A transpiler's message about one step, checked; undefined when malformed. */
function checkTranspiled(value: unknown): Transpiled | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.step !== "string") return undefined;
  if (typeof r.error === "string") {
    const syntax = checkSyntax(r.syntax);
    return {
      step: r.step,
      error: r.error,
      ...(r.broken === true ? { broken: true } : {}),
      ...(syntax ? { syntax } : {}),
    };
  }
  if (typeof r.code === "string" && typeof r.map === "string") {
    return { step: r.step, code: r.code, map: r.map };
  }
  return undefined;
}

/** A transpiler's syntax error, checked; undefined when absent or malformed. */
function checkSyntax(value: unknown): TranspileSyntax | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const s = value as Record<string, unknown>;
  const whole = (n: unknown) => n === undefined || (Number.isInteger(n) && (n as number) > 0);
  if (typeof s.message !== "string" || !whole(s.line) || !whole(s.column)) return undefined;
  return {
    message: s.message,
    ...(s.line !== undefined ? { line: s.line as number } : {}),
    ...(s.column !== undefined ? { column: s.column as number } : {}),
  };
}

/** The longest the check before a run waits for its TypeScript to be transpiled, by default. */
const MAX_CHECK_WAIT_MS = 3000;

/** Version of the transpiled cache's contents: part of its key. */
const TRANSPILED_FORMAT = 2;

/**
 * The syntax errors esbuild found in `steps`, from their batch's
 * transpiling. A source that takes esbuild long must not hold up the run:
 * after MAX_CHECK_WAIT_MS (or a step's shorter timeout) it is left to its
 * step, whose timeout covers its transpiling.
 */
async function transpileProblems(
  batch: Batch,
  steps: Step[],
  { signal, onUnchecked, waitMs: most = MAX_CHECK_WAIT_MS }: SyntaxOptions,
): Promise<SyntaxProblem[]> {
  const waitMs = Math.min(most, ...steps.map((s) => (s.timeout ?? Infinity) * 1000));
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), waitMs);
  const until = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const problems: SyntaxProblem[] = [];
  try {
    for (const step of steps) {
      const pending = batch.result(step.name);
      // A transpiler that failed fails its steps when they run, with its reason.
      const out = pending && await untilAborted(pending, until).catch(() => undefined);
      if (out && "syntax" in out && out.syntax) problems.push({ step: step.name, ...out.syntax });
      if (!out || "broken" in out) onUnchecked?.(step.name);
    }
  } finally {
    clearTimeout(timer);
  }
  return problems;
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
): CheckingRunner {
  let batch: Batch | undefined;
  const writes = new Set<Promise<void>>();

  const transpileAll = (workflow: Workflow): Batch => {
    if (batch?.workflow === workflow) return batch;
    batch?.close();
    const sources = [...workflow.steps.values()]
      .filter((step) => step.language === "typescript")
      .map((step) => ({ step: step.name, code: step.code ?? "" }));
    const current = batch = new Batch(workflow, sources);
    cachedTranspile(current).catch(() => {}); // each step sees its own failure
    return current;
  };

  const cachedTranspile = async (batch: Batch): Promise<void> => {
    const { workflow, sources } = batch;
    const entry = options.cacheDir === undefined ? undefined : new CacheEntry(
      `${options.cacheDir}/typescript`,
      `${
        hash(workflow.file ? resolve(workflow.file) : `workflow ${workflow.name}`).slice(0, 16)
      }.transpiled`, // not .js: Deno's tools would take it for a module
      hash(`${esbuildVersion()}\n${TRANSPILED_FORMAT}\n${JSON.stringify(sources)}`),
    );
    const cached = await entry?.read();
    if (cached && await sha256Hex(cached.bytes) === cached.sha256) {
      try {
        const list = JSON.parse(new TextDecoder().decode(cached.bytes)) as Transpiled[];
        const checked = list.map(checkTranspiled);
        if (checked.length === sources.length && checked.every((t) => t !== undefined)) {
          for (const result of checked) batch.resolve(result!);
          return;
        }
      } catch { /* unreadable: transpile again */ }
    }
    const done = await batch.run();
    // A source that broke esbuild is not a fact about the source: not kept.
    const complete = done.length === sources.length && !done.some((t) => "broken" in t);
    if (entry?.writable() && complete) {
      const bytes = new TextEncoder().encode(JSON.stringify(done));
      const write = entry.write(bytes).catch((error) =>
        options.onWarning?.(`TypeScript cache not saved (${error.message})`)
      ).finally(() => writes.delete(write));
      writes.add(write);
    }
  };

  return {
    language: "typescript",
    warmUp(count, workflow, memoryMb) {
      host.warmUp(runtimes(memoryMb ?? DEFAULT_STEP_MEMORY_MB), count);
      transpileAll(workflow);
    },
    async close() {
      batch?.close();
      await Promise.all(writes);
    },
    // The run's own transpiling (begun by warmUp), whose errors are syntax errors.
    checkSyntax: (steps, workflow, options) =>
      transpileProblems(transpileAll(workflow), steps, options),
    reportsStart: true,
    async run(ctx) {
      const name = ctx.step.name;
      // Transpiling is the step's own work: its timeout runs meanwhile (a
      // source that takes esbuild seconds must not run past it).
      ctx.started?.();
      const pending = transpileAll(ctx.workflow).result(name);
      if (!pending) throw new StepError(`step '${name}' (typescript): it was not transpiled`);
      let out: Transpiled | undefined;
      try {
        out = await untilAborted(pending, ctx.signal);
      } catch (error) {
        if (!(error instanceof StepError)) throw error;
        throw new StepError(`step '${name}' (typescript): ${error.message}`);
      }
      if (!out) throw new StepError(`step '${name}' was interrupted`);
      if ("error" in out) {
        throw new StepError(
          withFileLines(`step '${name}' (typescript): ${out.error}`, ctx.step, ctx.workflow),
        );
      }
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

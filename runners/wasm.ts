/**
 * WebAssembly steps: the module is read here and run in a step-host worker
 * whose only Deno permissions are the step's grants (see wasm_worker.ts for
 * the calling conventions).
 *
 * hwfe reads the module with its own, broader permissions, so it reads only
 * what the step could have read itself: a regular file inside the workflow
 * file's directory or inside the step's declared and granted read paths
 * (relative paths are looked up next to the workflow file, then in the
 * working directory, as the reference engine did), no larger than the run's
 * cap, within the step's timeout. Its messages never show the file's bytes.
 *
 * @module
 */

import { dirname, relative } from "node:path";
import { DEFAULT_SETTINGS } from "../engine/settings.ts";
import { modulePaths } from "../workflow/module_paths.ts";
import { fileKind } from "../_util/file_kind.ts";
import { absolutePath, type GrantList, within } from "../engine/grants.ts";
import { StepError } from "../_util/errors.ts";
import type { StepHost, WorkerRuntime } from "../host/pool.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import type { WasmJob } from "./wasm_worker.ts";
import { type StepChecks, stepMemoryMb } from "../engine/runner.ts";
import type { CheckingRunner, SyntaxProblem } from "./syntax.ts";
import { runOnWorker } from "./_worker_job.ts";
import { concatBytes } from "../_util/bytes.ts";

const MIB = 1024 * 1024;
/** The module cap when the run sets none: `execution.max_module_mb`'s default. */
export const DEFAULT_MAX_MODULE_BYTES = DEFAULT_SETTINGS.maxModuleMb * MIB;
/** Bytes read at a time, so that a stopped step stops reading. */
const CHUNK_BYTES = MIB;

/** Where a step's module may come from. */
interface ModuleRoots {
  /** The workflow file's directory (the working directory for a workflow built in code). */
  workflowDir: string;
  /** The step's read paths: declared (validation) or declared and granted (a run). */
  read: string[];
  /** The run's deny-read rules. */
  deny: GrantList;
}

/** A module file that may be read. */
interface FoundModule {
  /** Where it was found, as looked up. */
  path: string;
  /** The same file, every link followed. */
  real: string;
  /** Its device and inode, to check that the file opened is the file checked. */
  dev: number;
  ino: number | null;
}

/** A module that may not or cannot be read; `message` follows "step 'x' (wasm): ". */
class ModuleProblem extends Error {
  /** Not there (yet): an earlier step may still build it. */
  missing = false;
}

/** The real path of `path`, or undefined when it does not exist. */
function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

function formatMib(bytes: number): string {
  return `${Number((bytes / MIB).toFixed(1))} MiB`;
}

/**
 * Finds a step's module where it may be read, without reading it. Paths
 * outside the roots are never looked at, so a message tells nothing about
 * them. Throws a ModuleProblem.
 */
function findModule(
  step: Step,
  workflow: Workflow,
  roots: ModuleRoots,
  maxBytes: number,
): FoundModule {
  const module = step.module!;
  const allowed = [roots.workflowDir, ...roots.read].map(absolutePath);
  const denied = (path: string, rules: string[]) =>
    roots.deny === "all" || rules.some((rule) => within(path, rule));
  const denyRules = roots.deny === "all" ? [] : roots.deny.map(absolutePath);
  const where = `the workflow's directory (${roots.workflowDir})` +
    (roots.read.length ? ` and the step's read paths (${roots.read.join(", ")})` : "");
  const tried = modulePaths(module, workflow.file);
  const candidates = tried.filter((path) => allowed.some((root) => within(path, root)));
  if (candidates.length === 0) {
    throw new ModuleProblem(
      `module '${module}' lies outside ${where}; hwfe reads a module only from there: move it ` +
        `next to the workflow file, or declare it in the step's permissions.read and grant it`,
    );
  }
  const readable = candidates.filter((path) => !denied(path, denyRules));
  const refused = candidates.filter((path) => !readable.includes(path));
  const deniedNote = refused.length
    ? `; ${refused.join(" and ")} is denied by the run's deny-read rules`
    : "";
  if (readable.length === 0) {
    throw new ModuleProblem(
      `module '${module}' (${refused.join(" and ")}) is denied by the run's deny-read rules`,
    );
  }
  for (const path of readable) {
    try {
      Deno.lstatSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        continue;
      }
      throw new ModuleProblem(
        `cannot read module '${module}' (${path}): ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    // A link, or a linked directory on the way, must not lead out of the roots.
    const real = realPath(path);
    if (real === undefined) continue; // a link to nothing
    const realRoots = allowed.map(realPath).filter((root) => root !== undefined);
    const realDeny = denyRules.map((rule) => realPath(rule) ?? rule);
    if (!realRoots.some((root) => within(real, root)) || denied(real, realDeny)) {
      throw new ModuleProblem(
        `module '${module}' (${path}) leads through a symbolic link to ${real}, outside ${where}; ` +
          `hwfe does not follow it: copy the module there, or declare its target in the step's ` +
          `permissions.read and grant it`,
      );
    }
    const info = Deno.statSync(real);
    if (!info.isFile) {
      throw new ModuleProblem(
        `module '${module}' (${path}) is ${fileKind(info)}, not a regular file; name a .wasm file`,
      );
    }
    if (info.size > maxBytes) {
      throw new ModuleProblem(tooLarge(module, path, info.size, maxBytes));
    }
    return { path, real, dev: info.dev, ino: info.ino };
  }
  const others = tried.filter((path) => !candidates.includes(path));
  const missing = new ModuleProblem(
    `module '${module}' not found (looked for ${readable.join(" and ")})${deniedNote}` +
      (others.length
        ? `; ${others.join(" and ")} lies outside ${where}, so hwfe did not look there ` +
          `(declare it in the step's permissions.read and grant it)`
        : ""),
  );
  missing.missing = true;
  throw missing;
}

function tooLarge(module: string, path: string, size: number, maxBytes: number): string {
  return `module '${module}' (${path}) holds ${size} bytes, more than the ${
    formatMib(maxBytes)
  } a module may (raise execution.max_module_mb or HWFE_MAX_MODULE_MB, up to 1024)`;
}

/** Settles with `promise`, or rejects as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new StepError("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StepError("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Reads a found module, at most `maxBytes`, stopping when `signal` aborts.
 * A file swapped for a FIFO since it was checked can block the open: the
 * step still ends at its timeout or cancellation.
 */
async function readModule(
  module: string,
  found: FoundModule,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const opening = Deno.open(found.real, { read: true });
  // Closes a file opened after the step was stopped.
  opening.then((file) => signal.aborted && file.close(), () => {});
  const file = await unlessAborted(opening, signal);
  try {
    const info = await file.stat();
    if (!info.isFile || info.dev !== found.dev || info.ino !== found.ino) {
      throw new ModuleProblem(`module '${module}' (${found.path}) changed while hwfe read it`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buffer = new Uint8Array(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const n = await unlessAborted(file.read(buffer), signal);
      if (n === null) break;
      total += n;
      if (total > maxBytes) throw new ModuleProblem(tooLarge(module, found.path, total, maxBytes));
      chunks.push(buffer.subarray(0, n));
    }
    return concatBytes(chunks, total);
  } finally {
    try {
      file.close();
    } catch { /* closed already */ }
  }
}

/** WebAssembly's magic number and version 1, the module's first 8 bytes. */
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Why `bytes` are not a WebAssembly 1 module, in words that show none of them; or undefined. */
export function headerProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < 4 || HEADER.slice(0, 4).some((b, i) => bytes[i] !== b)) {
    return "is not a WebAssembly module (a .wasm file starts with \\0asm)";
  }
  if (bytes.length < 8 || HEADER.slice(4).some((b, i) => bytes[4 + i] !== b)) {
    return "is not a WebAssembly 1.0 module (components and other versions cannot run here)";
  }
  return undefined;
}

/**
 * The granted directories to pre-open, each under its absolute path and,
 * inside the working directory, its relative one ("." for the directory
 * itself), so that a module finds `data/x.csv` and `/abs/data/x.csv`.
 */
export function preopenDirs(paths: string[]): { path: string; as: string[] }[] {
  const cwd = Deno.cwd();
  return [...new Set(paths)].filter((path) => {
    try {
      return Deno.statSync(path).isDirectory;
    } catch {
      return false;
    }
  }).map((path) => ({
    path,
    as: within(path, cwd) ? [path, relative(cwd, path) || "."] : [path],
  }));
}

/** Options of {@link wasmRunner}. */
export interface WasmRunnerOptions {
  /** The largest module file read, in bytes; default 256 MiB. */
  maxModuleBytes?: number;
}

/** What can be known of a wasm step before a run: whether its module can be found and read. */
export function wasmChecks(options: WasmRunnerOptions = {}): StepChecks {
  const maxBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  return {
    problems(step, workflow) {
      if (step.module === undefined) return [];
      try {
        // Before a run, what the step declares: the run refuses what it does not grant.
        findModule(step, workflow, {
          workflowDir: workflowDir(workflow),
          read: step.permissions.read,
          deny: [],
        }, maxBytes);
        return [];
      } catch (error) {
        if (error instanceof ModuleProblem) return error.missing ? [] : [error.message];
        throw error;
      }
    },
  };
}

/** The directory a workflow's relative paths start from. */
function workflowDir(workflow: Workflow): string {
  return workflow.file ? dirname(absolutePath(workflow.file)) : Deno.cwd();
}

/**
 * Compiles the WebAssembly text of steps without a module on this thread
 * (wabt is loaded only when there is some), running nothing.
 */
export async function wasmSyntax(steps: Step[]): Promise<SyntaxProblem[]> {
  const text = steps.filter((step) => step.module === undefined && step.code !== undefined);
  if (text.length === 0) return [];
  const { watSyntax } = await import("./_wat.ts");
  const problems: SyntaxProblem[] = [];
  for (const step of text) {
    const problem = await watSyntax(step.code!);
    if (problem) problems.push({ step: step.name, ...problem });
  }
  return problems;
}

/** Creates the WebAssembly runner on top of a step host. */
export function wasmRunner(host: StepHost, options: WasmRunnerOptions = {}): CheckingRunner {
  const maxBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  const runtime: WorkerRuntime = {
    id: "wasm",
    languages: ["wasm"],
    // A child process: a wasm loop cannot be interrupted, only killed.
    isolation: "process",
    moduleUrl: new URL("./wasm_worker.ts", import.meta.url),
    read: [],
  };
  return {
    language: "wasm",
    warmUp: (count) => host.warmUp(runtime, count),
    reportsStart: true,
    ...wasmChecks(options),
    checkSyntax: (steps) => wasmSyntax(steps),
    async run(ctx) {
      const { step, workflow } = ctx;
      let module: Pick<WasmJob, "bytes" | "wat">;
      if (step.module === undefined) {
        module = { wat: step.code ?? "" };
      } else {
        // Reading the module is the step's own work: its timeout counts from here.
        ctx.started();
        try {
          const found = findModule(step, workflow, {
            workflowDir: workflowDir(workflow),
            read: ctx.access?.read ?? [],
            deny: ctx.grants.read?.deny ?? [],
          }, maxBytes);
          const bytes = await readModule(step.module, found, maxBytes, ctx.signal);
          const problem = headerProblem(bytes);
          if (problem) {
            throw new ModuleProblem(`module '${step.module}' (${found.path}) ${problem}`);
          }
          module = { bytes };
        } catch (error) {
          if (error instanceof ModuleProblem) {
            throw new StepError(`step '${step.name}' (wasm): ${error.message}`);
          }
          throw error;
        }
      }
      const extra: WasmJob = {
        moduleName: step.module ?? `<step ${step.name}>.wat`,
        func: step.func ?? "run",
        inputCount: ctx.inputsByName.size,
        memoryMb: stepMemoryMb(ctx),
        env: ctx.env ?? {},
        preopens: ctx.access && preopenDirs([...ctx.access.read, ...ctx.access.write]),
        ...module,
      };
      return await runOnWorker(host, runtime, ctx, extra);
    },
  };
}

/**
 * Reading a workflow file: its Lua is evaluated in the sandbox
 * (lua/sandbox.ts), the `workflow` table it sets crosses as JSON and is
 * validated (validate.ts). An evaluation that depended on the file's text
 * alone is cached, so an unchanged file loads without Lua.
 *
 * @module
 */

import { resolve } from "node:path";
import { WorkflowError } from "../_util/errors.ts";
import { CacheEntry, sha256Hex, sha256OfText } from "../_util/cache.ts";
import { LUA_PRELUDE } from "../lua/_prelude.ts";
import type { LuaOutcome } from "../lua/sandbox.ts";
import { luaEngine } from "../lua/wasmoon.ts";
import type { LoadedWorkflow } from "./model.ts";
import { checkDefinition } from "./validate.ts";
import { closedEarlyHint, locateStepCode } from "./code_lines.ts";
import { WorkflowProblems } from "./problems.ts";
import { type GivenParams, paramLookup } from "./params.ts";

const WORKFLOW_LOAD_TIMEOUT_MS = 10_000;

/**
 * Options of {@link loadWorkflowFile} and {@link parseWorkflowSource}.
 *
 * @example
 * ```ts
 * import { type LoadOptions, parseWorkflowSource } from "../mod.ts";
 *
 * const options: LoadOptions = { timeoutMs: 2_000 };
 * await parseWorkflowSource("workflow = { steps = { a = { code = 'function run() end' } } }", "a.lua", options);
 * ```
 */
export interface LoadOptions {
  /** Stop evaluating the file after this long; default 10 s. */
  timeoutMs?: number;
  /**
   * hwfe's cache directory: an evaluation that depended on the file's text
   * alone is kept there, so that an unchanged file loads without Lua
   * (about 55 ms a run: loading wasmoon and evaluating). Default: none.
   */
  cacheDir?: string;
  /**
   * Values for the workflow's parameters (`--param name=value`), as text:
   * each is typed by its default in `workflow.params`. The file reads them
   * as `params` while it is evaluated; an unknown name is an error.
   */
  params?: GivenParams;
}

/**
 * Reads, evaluates (sandboxed) and validates a workflow file. Throws
 * {@link WorkflowError} naming the file, step and field of every problem.
 *
 * @example
 * ```ts
 * import { loadWorkflowFile } from "../mod.ts";
 *
 * const file = await Deno.makeTempFile({ suffix: ".lua" });
 * await Deno.writeTextFile(file, `workflow = {
 *   name = "from a file",
 *   steps = { hello = { language = "lua", code = "function run() return 'hi' end" } },
 * }`);
 * const { workflow, warnings } = await loadWorkflowFile(file);
 * console.log(workflow.name, warnings.length); // "from a file" 0
 * ```
 */
export async function loadWorkflowFile(
  path: string,
  options: LoadOptions = {},
): Promise<LoadedWorkflow> {
  let source: string;
  try {
    source = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new WorkflowError([`${path}: cannot read workflow file: ${reason}`], { cause: error });
  }
  return await parseWorkflowSource(source, path, options);
}

/**
 * The cache entry for a workflow file's evaluation: one per file path, keyed
 * by the file's text and the sandbox's own code (a change to either
 * invalidates it).
 */
function evaluationEntry(
  cacheDir: string,
  source: string,
  file: string,
  params: GivenParams,
): CacheEntry {
  // The given parameters too: the file may read them.
  const given = JSON.stringify(Object.entries(params).sort(([a], [b]) => a < b ? -1 : 1));
  return new CacheEntry(
    `${cacheDir}/workflows`,
    `${sha256OfText(resolve(file)).slice(0, 16)}.evaluated`,
    sha256OfText(`${luaEngine()}\n${LUA_PRELUDE}\n${given}\n${source}`),
  );
}

/** Most workflow evaluations kept (one per workflow file, a few KB each). */
const MAX_CACHED_EVALUATIONS = 256;

/** Removes the evaluations used least recently beyond MAX_CACHED_EVALUATIONS. */
async function pruneEvaluations(dir: string): Promise<void> {
  const entries: { path: string; mtime: number }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".evaluated")) continue;
    const path = `${dir}/${entry.name}`;
    entries.push({ path, mtime: (await Deno.stat(path)).mtime?.getTime() ?? 0 });
  }
  entries.sort((a, b) => b.mtime - a.mtime);
  for (const { path } of entries.slice(MAX_CACHED_EVALUATIONS)) {
    await Deno.remove(path).catch(() => {});
  }
}

/** The cached evaluation's JSON text, when there is a sound one. */
async function cachedEvaluation(entry: CacheEntry): Promise<string | undefined> {
  const blob = await entry.read();
  if (!blob || await sha256Hex(blob.bytes) !== blob.sha256) return undefined;
  return new TextDecoder().decode(blob.bytes);
}

/**
 * Evaluates Lua workflow source on this thread (wasmoon is loaded on first
 * use). A given parameter whose value does not fit its type, read by the
 * file, throws that problem alone.
 */
async function evaluate(
  source: string,
  file: string,
  timeoutMs: number,
  params: GivenParams,
): Promise<LuaOutcome> {
  const { runLuaChunk } = await import("../lua/sandbox.ts");
  const deadline = Date.now() + timeoutMs;
  const lookup = paramLookup(params);
  let badValue: string | undefined;
  const outcome = await runLuaChunk(
    {
      mode: "workflow",
      chunkName: `@${file}`,
      code: source,
      param: (name, declared) => {
        const answer = lookup(name, declared);
        if (answer.startsWith("E--param")) badValue ??= answer.slice(1);
        return answer;
      },
    },
    { interrupted: () => Date.now() > deadline, output: () => {} },
  );
  if (badValue !== undefined && outcome.kind === "runtime_error") {
    throw new WorkflowProblems([{ message: `${file}: ${badValue}`, field: "params" }]);
  }
  return outcome;
}

/**
 * Evaluates Lua workflow source in the sandbox (no io, os, require...; a
 * runaway file is stopped after 10 s) and validates the `workflow` table.
 * `file` only names the source in messages.
 *
 * @example
 * ```ts
 * import { parseWorkflowSource } from "../mod.ts";
 *
 * const { workflow } = await parseWorkflowSource(`
 *   local steps = {}
 *   for i = 1, 3 do
 *     steps["part" .. i] = { code = "function run() return " .. i .. " end" }
 *   end
 *   workflow = { name = "generated", steps = steps }
 * `, "generated.lua");
 * console.log(workflow.steps.size); // 3
 * ```
 */
export async function parseWorkflowSource(
  source: string,
  file = "workflow.lua",
  options: LoadOptions = {},
): Promise<LoadedWorkflow> {
  const timeoutMs = options.timeoutMs ?? WORKFLOW_LOAD_TIMEOUT_MS;
  const params = options.params ?? {};
  const entry = options.cacheDir === undefined
    ? undefined
    : evaluationEntry(options.cacheDir, source, file, params);
  const cached = entry && await cachedEvaluation(entry);
  if (cached !== undefined) {
    return located(checkDefinition(JSON.parse(cached), file, params), source);
  }
  const outcome = await evaluate(source, file, timeoutMs, params);
  switch (outcome.kind) {
    case "result":
      if (outcome.cacheable && entry?.writable()) {
        // Best effort: a cache that cannot be written only costs the next run time.
        await entry.write(new TextEncoder().encode(outcome.json))
          .then(() => pruneEvaluations(entry.dir))
          .catch(() => {});
      }
      return located(checkDefinition(JSON.parse(outcome.json), file, params), source);
    case "syntax_error":
      throw luaError(source, file, `Lua syntax error: ${stripChunk(outcome.message, file)}`);
    case "runtime_error":
      throw luaError(
        source,
        file,
        `error while evaluating the workflow file: ${firstLine(outcome.message)}`,
      );
    case "bad_result":
      throw new WorkflowError([`${file}: the workflow table contains ${outcome.message}`]);
    case "no_workflow":
      throw new WorkflowError([
        `${file}: no 'workflow' global; the file must set workflow = { name = ..., steps = { ... } }`,
      ]);
    case "interrupted":
      throw new WorkflowError([
        `${file}: evaluating the workflow file took more than ${
          timeoutMs / 1000
        }s; does it loop forever?`,
      ]);
    default:
      throw new WorkflowError([`${file}: unexpected result while loading (${outcome.kind})`]);
  }
}

/** The workflow with the line of the file on which each step's code starts. */
function located(loaded: LoadedWorkflow, source: string): LoadedWorkflow {
  locateStepCode(source, loaded.workflow.steps.values());
  return loaded;
}

/**
 * A Lua error in a workflow file, with the line it names and, when a long
 * string closed early may explain it, how to write the string instead.
 */
function luaError(source: string, file: string, message: string): WorkflowProblems {
  const at = /(?:^|: )(?:line |.*?:)(\d+):/.exec(message.slice(0, 400 + file.length));
  const fileLine = at ? Number(at[1]) : undefined;
  const hint = fileLine === undefined ? undefined : closedEarlyHint(source, fileLine);
  return new WorkflowProblems([{
    message: `${file}: ${message}${hint ? `; ${hint}` : ""}`,
    ...(fileLine !== undefined ? { fileLine } : {}),
  }]);
}

function stripChunk(message: string, file: string): string {
  return message.startsWith(`${file}:`) ? `line ${message.slice(file.length + 1)}` : message;
}

function firstLine(message: string): string {
  return message.split("\n")[0];
}

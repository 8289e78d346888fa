/**
 * Finding workflows the way the reference engine does: a path, else a name
 * in the workflows directory or its examples, templates and tests folders.
 *
 * @module
 */

import { type ResolvedConfig } from "../api/config.ts";
import { ConfigError, didYouMean, ExitCode, HwfeError } from "../_util/errors.ts";
import { basename, dirname } from "node:path";
import { defaultCacheDir } from "../_util/cache.ts";
import { type LoadedWorkflow } from "../workflow/model.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import type { GivenParams } from "../workflow/params.ts";
import { warn } from "./output.ts";

/**
 * Where a workflow named without a path is looked for, in order, below the
 * workflows directory: the reference engine's folders.
 */
const WORKFLOW_FOLDERS = ["", "/examples", "/templates", "/tests"];

/**
 * Finds the workflow: an existing path, else a file in the workflows
 * directory or its folders. A name not found gets the nearest name there
 * (or, for a path, in its directory) as a suggestion.
 */
export async function findWorkflow(arg: string, config: ResolvedConfig): Promise<string> {
  const dir = config.settings.workflowsDirectory;
  const candidates = [
    arg,
    ...WORKFLOW_FOLDERS.flatMap((folder) => [
      `${dir}${folder}/${arg}`,
      ...(arg.endsWith(".lua") ? [] : [`${dir}${folder}/${arg}.lua`]),
    ]),
  ];
  for (const candidate of candidates) {
    try {
      if ((await Deno.stat(candidate)).isFile) return candidate;
    } catch { /* try the next */ }
  }
  const near = await nearestWorkflow(arg, dir);
  throw new HwfeError(
    `Workflow '${arg}' not found: no such file, and none in the workflows directory '${dir}' ` +
      `(${config.sources.workflowsDirectory}) or its examples, templates and tests folders; ` +
      (near ? `did you mean '${near}'?` : `run 'hwfe list' to see the workflows there`),
    ExitCode.usage,
  );
}

/** The `.lua` files directly in `dir`, without the extension; none when it cannot be read. */
async function luaNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".lua")) names.push(entry.name.slice(0, -4));
    }
  } catch { /* no such directory: nothing to suggest */ }
  return names.sort();
}

/**
 * The workflow `arg` most likely meant: for a name, one in the workflows
 * directory or its folders (as `hwfe run` would find it); for a path, a
 * `.lua` file beside where it points.
 */
async function nearestWorkflow(arg: string, dir: string): Promise<string | undefined> {
  const bare = arg.replace(/\.lua$/, "");
  const candidates = new Map<string, string>(); // name as compared -> as suggested
  if (arg.includes("/")) {
    for (const name of await luaNames(dirname(arg))) {
      candidates.set(name, `${dirname(arg)}/${name}.lua`);
    }
  } else {
    for (const folder of WORKFLOW_FOLDERS) {
      for (const name of await luaNames(`${dir}${folder}`)) {
        if (!candidates.has(name)) {
          candidates.set(name, arg.endsWith(".lua") ? `${name}.lua` : name);
        }
      }
    }
  }
  const hint = didYouMean(arg.includes("/") ? basename(bare) : bare, candidates.keys());
  const name = /'(.*)'/.exec(hint)?.[1];
  return name === undefined ? undefined : candidates.get(name);
}

/** Finds and loads a workflow, with values for its parameters; prints its warnings. */
export async function load(
  arg: string,
  config: ResolvedConfig,
  params?: GivenParams,
): Promise<LoadedWorkflow> {
  const loaded = await loadWorkflowFile(await findWorkflow(arg, config), {
    cacheDir: defaultCacheDir(),
    params,
  });
  for (const warning of loaded.warnings) warn(warning);
  return loaded;
}

/** The `*.lua` files directly in the workflows directory, sorted. */
export async function workflowFiles(config: ResolvedConfig): Promise<string[]> {
  const dir = config.settings.workflowsDirectory;
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".lua")) files.push(entry.name);
    }
  } catch (error) {
    throw new ConfigError(
      `Cannot list workflows directory '${dir}' (${config.sources.workflowsDirectory}): ${
        error instanceof Deno.errors.NotFound ? "no such directory" : String(error)
      }`,
    );
  }
  return files.sort();
}

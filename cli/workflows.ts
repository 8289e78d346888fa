/**
 * Finding workflows the way the reference engine does: a path, else a name
 * in the workflows directory or its examples, templates and tests folders.
 *
 * @module
 */

import { type ResolvedConfig } from "../api/config.ts";
import { ConfigError, ExitCode, HwfeError } from "../_util/errors.ts";
import { defaultCacheDir } from "../_util/cache.ts";
import { type LoadedWorkflow } from "../workflow/model.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import { warn } from "./output.ts";

/**
 * Where a workflow named without a path is looked for, in order, below the
 * workflows directory: the reference engine's folders.
 */
const WORKFLOW_FOLDERS = ["", "/examples", "/templates", "/tests"];

/** Finds the workflow: an existing path, else a file in the workflows directory or its folders. */
async function findWorkflow(arg: string, config: ResolvedConfig): Promise<string> {
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
  throw new HwfeError(
    `Workflow '${arg}' not found: no such file, and none in the workflows directory '${dir}' ` +
      `(${config.sources.workflowsDirectory}) or its examples, templates and tests folders; ` +
      `run 'hwfe list' to see the workflows there`,
    ExitCode.usage,
  );
}

export async function load(arg: string, config: ResolvedConfig): Promise<LoadedWorkflow> {
  const loaded = await loadWorkflowFile(await findWorkflow(arg, config), {
    cacheDir: defaultCacheDir(),
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

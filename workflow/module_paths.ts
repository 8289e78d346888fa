/**
 * Where a wasm step's `module` file is looked for: next to the workflow
 * file, then in the working directory (as the reference engine did). The
 * wasm runner reads it from there; the engine hashes it for reuse.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";

/** The paths tried for a step's `module`, in order. */
export function modulePaths(module: string, workflowFile?: string): string[] {
  if (isAbsolute(module)) return [module];
  const paths = workflowFile ? [resolve(dirname(workflowFile), module)] : [];
  const fromCwd = resolve(module);
  return paths.includes(fromCwd) ? paths : [...paths, fromCwd];
}

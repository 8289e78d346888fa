/**
 * A step's hash: what `--resume` and `cache = true` compare before reusing
 * a stored result instead of running the step again. Two steps have the
 * same hash when they would compute the same thing, as far as hwfe can
 * tell: the same language, code, wasm module bytes, function, result
 * mode, declared permissions, granted environment values, parameters and
 * inputs, the same hashes for their dependencies (so a changed step
 * invalidates its dependents even when its result did not change), and
 * the same contents in the files the step may read (its granted
 * `permissions.read`).
 *
 * What is left out does not change a result: the step's name, description,
 * timeout, retries, memory limit. What hwfe cannot see is left out too: a
 * shell step granted `--allow-run` can read files it never declared; a
 * step that reaches the network gets whatever the network says. That is
 * why caching is asked for, per step, never assumed.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import type { JsonText } from "../_util/json.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import { modulePaths } from "../workflow/module_paths.ts";
import { type Grants, stepAccess, stepEnv, within } from "./grants.ts";

/** Changes whenever what goes into a hash does, so older hashes never match. */
const HASH_FORMAT = "hwfe-step-hash-1";

/** Most files a step's read paths may hold for it to get a hash. */
export const MAX_HASHED_FILES = 10_000;
/** Most bytes they may hold: reading more on every run would cost more than it saves. */
export const MAX_HASHED_BYTES = 1024 * 1024 * 1024;

/** What a hash is made of, from the run. */
export interface HashInput {
  workflow: Workflow;
  step: Step;
  /** Each direct dependency's result as JSON text. */
  inputsByName: ReadonlyMap<string, JsonText>;
  /** Each direct dependency's hash. */
  dependencyHashes: ReadonlyMap<string, string>;
  grants: Grants;
}

/** A step's hash, or why it has none (it then never reuses a result). */
export type HashOutcome = { hash: string } | { unhashable: string };

/** The hash of a step about to run with these inputs. Never throws. */
export async function stepHash(input: HashInput): Promise<HashOutcome> {
  const { workflow, step, inputsByName, dependencyHashes, grants } = input;
  const hash = createHash("sha256");
  const access = stepAccess(step, grants);
  const sorted = <T>(map: ReadonlyMap<string, T>) =>
    [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  hash.update(JSON.stringify({
    format: HASH_FORMAT,
    language: step.language,
    code: step.code ?? null,
    module: step.module ?? null,
    func: step.func ?? null,
    result: step.result ?? null,
    permissions: step.permissions,
    granted: access ?? null,
    env: Object.entries(stepEnv(step, grants)).sort(),
    params: workflow.params ?? null,
    inputs: sorted(inputsByName),
    dependencies: sorted(dependencyHashes),
  }));
  const files = new FileHasher(hash, access?.denyRead ?? []);
  try {
    if (step.module !== undefined) {
      await files.firstOf("module", modulePaths(step.module, workflow.file));
    }
    for (const path of access?.read ?? []) await files.path("read", path);
  } catch (error) {
    if (error instanceof TooMuch) return { unhashable: error.message };
    throw error;
  }
  return { hash: hash.digest("hex") };
}

class TooMuch extends Error {}

/**
 * Feeds files to a hash: each one's kind, path and bytes, directories in
 * name order. A missing path counts as missing (creating it changes the
 * hash); a symbolic link to a directory counts by its target's name, not
 * followed, so a cycle cannot loop.
 */
class FileHasher {
  #files = 0;
  #bytes = 0;

  constructor(readonly hash: Hash, readonly deny: readonly string[]) {}

  #add(...parts: string[]): void {
    this.hash.update(`\0${parts.join("\0")}`);
  }

  /** The first of `paths` that exists, as the wasm runner looks for a module. */
  async firstOf(kind: string, paths: string[]): Promise<void> {
    for (const path of paths) {
      if (await exists(path)) return await this.path(kind, path);
    }
    this.#add(kind, "missing", ...paths);
  }

  async path(kind: string, path: string): Promise<void> {
    if (this.deny.some((rule) => within(path, rule))) return this.#add(kind, "denied", path);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
      if (info.isSymlink) {
        const target = await Deno.stat(path);
        if (target.isDirectory) return this.#add(kind, "link", path, await Deno.readLink(path));
        info = target;
      }
    } catch {
      return this.#add(kind, "missing", path);
    }
    if (info.isDirectory) {
      this.#add(kind, "dir", path);
      const names: string[] = [];
      try {
        for await (const entry of Deno.readDir(path)) names.push(entry.name);
      } catch {
        return this.#add(kind, "unreadable", path);
      }
      for (const name of names.sort()) await this.path(kind, join(path, name));
      return;
    }
    if (++this.#files > MAX_HASHED_FILES) {
      throw new TooMuch(`its read paths hold more than ${MAX_HASHED_FILES} files`);
    }
    this.#bytes += info.size;
    if (this.#bytes > MAX_HASHED_BYTES) {
      throw new TooMuch(`its read paths hold more than ${MAX_HASHED_BYTES / 1024 ** 3} GiB`);
    }
    this.#add(kind, "file", path, String(info.size));
    try {
      // The stream closes the file when it ends or the loop leaves early.
      const file = await Deno.open(path, { read: true });
      for await (const chunk of file.readable) this.hash.update(chunk);
    } catch {
      this.#add(kind, "unreadable", path);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

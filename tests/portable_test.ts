/**
 * hwfe must not assume a source checkout or a working directory: its
 * code is run from a copy of the tree in a temporary directory, from a
 * working directory elsewhere, with only the permissions the compiled
 * binary has (scripts/release.ts), and must run a step in every language,
 * keep its caches in HWFE_CACHE_DIR and write nothing into its own tree.
 */

import assert from "node:assert/strict";
import { BAKED_PERMISSIONS } from "../scripts/release.ts";
import { deno, ROOT, SOURCE_DIRS } from "./_helpers.ts";

const SHIPPED = ["cli.ts", "mod.ts", "deno.json", "deno.lock", ...SOURCE_DIRS];

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Every file under `dir` with its size and modification time. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await listing(path));
    else {
      const info = await Deno.stat(path);
      out.push(`${path} ${info.size} ${info.mtime?.getTime()}`);
    }
  }
  return out.sort();
}

Deno.test("hwfe runs every language from a copy of its tree, from another directory", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hwfe-portable-" });
  try {
    const tree = `${tmp}/hwfe`;
    for (const name of SHIPPED) {
      const from = new URL(name, ROOT).pathname;
      if ((await Deno.stat(from)).isDirectory) await copyTree(from, `${tree}/${name}`);
      else {
        await Deno.mkdir(tree, { recursive: true });
        await Deno.copyFile(from, `${tree}/${name}`);
      }
    }
    const work = `${tmp}/work`;
    await Deno.mkdir(work);
    await Deno.copyFile(
      new URL("workflows/every_language.lua", ROOT).pathname,
      `${work}/every.lua`,
    );
    const cache = `${tmp}/cache`;
    const before = await listing(tree);

    const output = await deno([
      "run",
      "--quiet",
      ...BAKED_PERMISSIONS,
      "--unstable-worker-options",
      `${tree}/cli.ts`,
      "run",
      "--allow-run",
      "--mode",
      "parallel",
      "--json",
      "every.lua",
    ], { cwd: work, env: { HWFE_CACHE_DIR: cache } });
    assert.equal(output.code, 0, output.stderr);
    const result = JSON.parse(output.stdout);
    assert.equal(result.status, "succeeded");
    assert.deepEqual(
      Object.keys(result.steps).sort(),
      ["check", "javascript", "lua", "python", "shell", "typescript", "wasm"],
    );
    assert.equal(result.steps.check.result.unchanged, true);

    assert.deepEqual(await listing(tree), before, "hwfe wrote into its own tree");
    assert.deepEqual(
      (await listing(work)).map((line) => line.split(" ")[0]),
      [`${work}/every.lua`],
      "hwfe wrote into the working directory",
    );
    const cached = (await listing(cache)).map((line) => line.split(" ")[0].slice(cache.length));
    assert.ok(cached.some((path) => path.startsWith("/workflows/")), `cache: ${cached}`);
    assert.ok(cached.some((path) => path.startsWith("/typescript/")), `cache: ${cached}`);
    assert.ok(cached.some((path) => path.includes("pyodide")), `cache: ${cached}`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

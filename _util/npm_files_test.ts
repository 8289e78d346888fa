import assert from "node:assert/strict";

import denoJson from "../deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url);

/** hwfe's source files (not tests or benches) and their text. */
function sources(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) walk(`${path}/`);
      else if (/(?<!_test|_bench)\.ts$/.test(path) && !path.includes("/testdata/")) {
        files.set(path, Deno.readTextFileSync(new URL(path, ROOT)));
      }
    }
  };
  for (const dir of denoJson.publish.include.filter((path) => path.endsWith("/"))) walk(dir);
  return files;
}

Deno.test("every npm package in deno.lock is imported at its version by _util/npm_files.ts", () => {
  // That module is in the graph of every program that loads hwfe, so Deno
  // has installed every package a step child's lockfile names; and a fresh
  // resolution (deno install, a program without a lockfile) picks them.
  // It imports each directly or through its module in _util/npm/.
  const lock = JSON.parse(Deno.readTextFileSync(new URL("deno.lock", ROOT)));
  const files = sources();
  const source = [...files].filter(([path]) => /^_util\/(npm_files\.ts|npm\/)/.test(path))
    .map(([, text]) => text).join("\n");
  const missing = Object.keys(lock.npm).filter((pkg) => !source.includes(`"npm:${pkg}`));
  assert.deepEqual(missing, []);
});

Deno.test("every npm: specifier is written once in the source, and only in _util/", () => {
  const seen = new Map<string, string[]>();
  for (const [path, text] of sources()) {
    for (const [, specifier] of text.matchAll(/"(npm:[^"]+)"/g)) {
      seen.set(specifier, [...seen.get(specifier) ?? [], path]);
    }
  }
  const problems = [...seen].filter(([, paths]) =>
    paths.length > 1 || !paths[0].startsWith("_util/")
  ).map(([specifier, paths]) => `${specifier}: ${paths.join(", ")}`);
  assert.deepEqual(problems, []);
  assert.ok(seen.size >= 12, `only ${seen.size} npm specifiers found`);
});

Deno.test("host/deno_lock.json is deno.lock, for the children of programs without one", async () => {
  const lock = await Deno.readTextFile(new URL("../deno.lock", import.meta.url));
  const copy = await Deno.readTextFile(new URL("../host/deno_lock.json", import.meta.url));
  assert.ok(
    copy === lock,
    "host/deno_lock.json differs from deno.lock: cp deno.lock host/deno_lock.json",
  );
});

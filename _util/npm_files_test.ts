import assert from "node:assert/strict";

Deno.test("every npm package in deno.lock is imported at its version in _util/npm_files.ts", async () => {
  // That module is in the graph of every program that loads hwfe, so Deno
  // has installed every package a step child's lockfile names; and a fresh
  // resolution (deno install, a program without a lockfile) picks them.
  const lock = JSON.parse(await Deno.readTextFile(new URL("../deno.lock", import.meta.url)));
  const source = await Deno.readTextFile(new URL("./npm_files.ts", import.meta.url));
  const missing = Object.keys(lock.npm).filter((pkg) => !source.includes(`"npm:${pkg}`));
  assert.deepEqual(missing, []);
});

Deno.test("host/deno_lock.json is deno.lock, for the children of programs without one", async () => {
  const lock = await Deno.readTextFile(new URL("../deno.lock", import.meta.url));
  const copy = await Deno.readTextFile(new URL("../host/deno_lock.json", import.meta.url));
  assert.ok(
    copy === lock,
    "host/deno_lock.json differs from deno.lock: cp deno.lock host/deno_lock.json",
  );
});

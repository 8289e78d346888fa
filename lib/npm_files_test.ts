import assert from "node:assert/strict";

Deno.test("every npm package in deno.lock is pinned by an exact specifier in the source", async () => {
  // Otherwise a fresh resolution (deno install, a program without a
  // lockfile) could pick another version than the one step children load.
  const lock = JSON.parse(await Deno.readTextFile(new URL("../deno.lock", import.meta.url)));
  const pinned = new Set(
    Object.entries(lock.specifiers as Record<string, string>)
      .filter(([specifier]) => specifier.startsWith("npm:"))
      .map(([specifier, version]) => `${specifier.slice(4).replace(/@[^@/]+$/, "")}@${version}`),
  );
  const unpinned = Object.keys(lock.npm).filter((name) => !pinned.has(name));
  assert.deepEqual(unpinned, []);
});

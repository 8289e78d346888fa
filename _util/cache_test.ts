import assert from "node:assert/strict";
import { CacheEntry, defaultCacheDir, sha256Hex } from "./cache.ts";

Deno.test("defaultCacheDir() prefers HWFE_CACHE_DIR, then the platform's user cache", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(defaultCacheDir(env({ HWFE_CACHE_DIR: "/c", HOME: "/h" }), "linux"), "/c");
  assert.equal(defaultCacheDir(env({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "linux"), "/x/hwfe");
  assert.equal(defaultCacheDir(env({ HOME: "/h" }), "linux"), "/h/.cache/hwfe");
  assert.equal(defaultCacheDir(env({ HOME: "/h" }), "darwin"), "/h/Library/Caches/hwfe");
  assert.equal(defaultCacheDir(env({ LOCALAPPDATA: "C:\\L" }), "windows"), "C:\\L\\hwfe");
  assert.equal(defaultCacheDir(env({}), "linux"), undefined);
});

Deno.test("CacheEntry writes atomically, reads back with its checksum, drops stale keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-cache-" });
  try {
    const old = new CacheEntry(`${dir}/python`, "snapshot", "v1");
    await old.write(new Uint8Array([9, 9]));
    const entry = new CacheEntry(`${dir}/python`, "snapshot", "v2");
    assert.equal(await entry.read(), undefined, "missing reads as absent");
    const bytes = new Uint8Array(1000).map((_, i) => i % 251);
    await entry.write(bytes);
    const back = await entry.read();
    assert.deepEqual(back?.bytes, bytes);
    assert.equal(back?.sha256, await sha256Hex(bytes));
    const names = [...Deno.readDirSync(`${dir}/python`)].map((e) => e.name);
    assert.deepEqual(names, ["v2.snapshot"], "the stale key and temporary files are gone");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CacheEntry reads a truncated, foreign or garbage file as absent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-cache-" });
  try {
    const entry = new CacheEntry(dir, "snapshot", "k");
    await entry.write(new Uint8Array(100).fill(7));
    const whole = await Deno.readFile(entry.path);
    await Deno.writeFile(entry.path, whole.subarray(0, whole.length - 1));
    assert.equal(await entry.read(), undefined, "truncated");
    await Deno.writeFile(entry.path, new TextEncoder().encode("not a cache file at all"));
    assert.equal(await entry.read(), undefined, "garbage");
    await Deno.writeFile(entry.path, whole);
    assert.equal(await new CacheEntry(dir, "snapshot", "other").read(), undefined, "other key");
    await Deno.rename(entry.path, `${dir}/other.snapshot`);
    assert.equal(await new CacheEntry(dir, "snapshot", "other").read(), undefined, "renamed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CacheEntry.write() names the path when it cannot write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-cache-" });
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    const entry = new CacheEntry(`${dir}/file/sub`, "snapshot", "k");
    await assert.rejects(entry.write(new Uint8Array(1)), /cannot write .*file\/sub\/k\.snapshot/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { WORKER_MODULES } from "./mod.ts";

Deno.test("WORKER_MODULES lists every worker module, so the parent caches what children load", async () => {
  const listed = Object.values(WORKER_MODULES).map((load) =>
    /import\("\.\/(\w+\.ts)"\)/.exec(String(load))?.[1]
  );
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("./", import.meta.url))) {
    if (entry.name.endsWith("_worker.ts")) files.push(entry.name);
  }
  assert.deepEqual(listed.sort(), files.sort());
});

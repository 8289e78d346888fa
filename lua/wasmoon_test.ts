import assert from "node:assert/strict";
import { LUA_ENGINE } from "./wasmoon.ts";

Deno.test("LUA_ENGINE names the wasmoon that every import of wasmoon loads", async () => {
  for (const file of ["./sandbox.ts", "../_util/npm_files.ts"]) {
    const text = await Deno.readTextFile(new URL(file, import.meta.url));
    const imported = [...text.matchAll(/"npm:(wasmoon@[^"/]+)/g)].map((match) => match[1]);
    assert.deepEqual(imported, [LUA_ENGINE], file);
  }
});

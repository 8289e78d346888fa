import assert from "node:assert/strict";
import { luaEngine } from "./wasmoon.ts";

Deno.test("luaEngine() names the wasmoon that is imported", async () => {
  const text = await Deno.readTextFile(new URL("../_util/npm/wasmoon.ts", import.meta.url));
  assert.deepEqual([...text.matchAll(/"npm:(wasmoon@[^"/]+)/g)].map((match) => match[1]), [
    luaEngine(),
  ]);
});

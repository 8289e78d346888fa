import assert from "node:assert/strict";
import wabtInit from "../_util/npm/wabt.ts";
import { capModuleMemory, MemoryCapError } from "./wasm_memory.ts";

const wabt = await wabtInit();
const build = (wat: string) => {
  const parsed = wabt.parseWat("t.wat", wat);
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
};

const GROW = `(module
  (memory (export "memory") 1 MAX)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "run") (result i32) (i32.const 0)))`;

const instantiate = (bytes: Uint8Array) =>
  new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));

Deno.test("capModuleMemory() limits growth to the cap, keeping a lower maximum", () => {
  const capped = capModuleMemory(build(GROW.replace("MAX", "")), 4 * 64 * 1024); // 4 pages
  const instance = instantiate(capped);
  const grow = instance.exports.grow as (pages: number) => number;
  assert.equal(grow(3), 1, "growing to the cap works");
  assert.equal(grow(1), -1, "growing past it fails");

  const lower = capModuleMemory(build(GROW.replace("MAX", "2")), 100 * 64 * 1024);
  const second = instantiate(lower);
  assert.equal((second.exports.grow as (n: number) => number)(2), -1, "max 2 kept");
});

Deno.test("capModuleMemory() refuses a module that starts above the cap, passes others through", () => {
  assert.throws(
    () => capModuleMemory(build(GROW.replace("1 MAX", "64")), 1024 * 1024),
    (e) => e instanceof MemoryCapError && /needs 4 MiB of memory at start/.test(e.message),
  );
  const noMemory = build(`(module (func (export "run") (result i32) (i32.const 0)))`);
  assert.deepEqual(capModuleMemory(noMemory, 1024 * 1024), noMemory);
  assert.deepEqual(capModuleMemory(new Uint8Array([1, 2]), 1), new Uint8Array([1, 2]));
});

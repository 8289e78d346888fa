import assert from "node:assert/strict";
import { clipped, describeMessage } from "./_js_errors.ts";

Deno.test("clipped() cuts every long string of a thrown value, keys too, and bounds its depth", () => {
  const long = "x".repeat(70 * 1024);
  const cut = `${"x".repeat(64 * 1024)}… (${6 * 1024} more characters)`;
  assert.equal(clipped(long), cut);
  assert.deepEqual(clipped({ message: long, [long]: 1, n: 2, list: [long] }), {
    message: cut,
    [cut]: 1,
    n: 2,
    list: [cut],
  });
  let deep: unknown = "bottom";
  for (let i = 0; i < 20; i++) deep = { deep };
  assert.match(JSON.stringify(clipped(deep)), /^(\{"deep":){8}"\[…\]"\}{8}$/);
  assert.equal(clipped(null), null);
});

Deno.test("describeMessage() reads a thrown error, and names a thrown value that is not one", () => {
  assert.equal(
    describeMessage(JSON.stringify({ name: "TypeError", message: "no", stack: "" }), "step s"),
    "TypeError: no",
  );
  assert.equal(describeMessage("null", "step s"), "Uncaught null");
  assert.equal(describeMessage('"boom"', "step s"), 'Uncaught "boom"');
});

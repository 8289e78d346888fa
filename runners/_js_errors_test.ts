import assert from "node:assert/strict";
import { clipped, describeMessage, syntaxOf } from "./_js_errors.ts";

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
    describeMessage(JSON.stringify({ name: "TypeError", message: "no", stack: "" }), "s"),
    "TypeError: no",
  );
  assert.equal(describeMessage("null", "s"), "Uncaught null");
  assert.equal(describeMessage('"boom"', "s"), 'Uncaught "boom"');
});

Deno.test("describeMessage() names lines as <step name> line N, a parse error as a syntax error", () => {
  const thrown = {
    name: "TypeError",
    message: "no",
    stack: "    at helper (step:2:13)\n    at run (step:6:3)\n    at <eval> (hwfe prelude:9:1)\n",
  };
  assert.equal(
    describeMessage(JSON.stringify(thrown), "s"),
    "TypeError: no\n    at helper (<step s> line 2, column 13)\n    at run (<step s> line 6, column 3)",
  );
  const parse = {
    name: "SyntaxError",
    message: "unexpected token in expression: '}'",
    stack: "    at step:3:1\n",
  };
  assert.equal(
    describeMessage(JSON.stringify(parse), "s"),
    "syntax error at <step s> line 3, column 1: unexpected token in expression: '}'",
  );
  assert.deepEqual(syntaxOf(parse, (l, c) => [l + 10, c]), {
    line: 13,
    column: 1,
    message: "unexpected token in expression: '}'",
  });
  // JSON.parse's SyntaxError is the data's, not the code's.
  const data = {
    name: "SyntaxError",
    message: "unexpected token",
    stack: "    at parse (native)\n    at run (step:2:5)\n",
  };
  assert.equal(syntaxOf(data), undefined);
  assert.equal(
    describeMessage(JSON.stringify(data), "s"),
    "SyntaxError: unexpected token\n    at run (<step s> line 2, column 5)",
  );
});

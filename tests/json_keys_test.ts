/**
 * JSON data crosses every language unchanged, whatever its keys: keys that
 * mean something to a language's objects (JavaScript's `__proto__`,
 * `constructor`, `toString`; Lua's metamethod names; Python's dunders) and
 * the empty string are data like any other.
 */

import assert from "node:assert/strict";
import { deno, hwfe, outputLines, ROOT, runJson, writeWorkflow } from "./_helpers.ts";

/**
 * Text, not a literal: in a JS object literal `"__proto__": x` sets the
 * prototype instead of adding the key.
 */
const VALUE_TEXT = `{
  "__proto__": { "x": 1, "__proto__": { "deeper": true } },
  "constructor": { "prototype": 2, "name": "Evil" },
  "toString": "s", "valueOf": 3, "hasOwnProperty": 4, "toJSON": 5, "then": 6,
  "": "empty", "1": "one", "length": 7,
  "__index": 8, "__newindex": 9, "__metatable": 10, "__class__": 11, "__dict__": 12,
  "list": [{ "__proto__": [1, 2] }, { "": { "": "" } }, { "__proto__": "text" }]
}`;
const VALUE: unknown = JSON.parse(VALUE_TEXT);

/** JSON text with keys sorted at every level: languages may reorder keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const object = value as Record<string, unknown>;
  return `{${
    Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${canonical(object[k])}`)
      .join(",")
  }}`;
}

/** A literal of `value` in Lua, Python or JavaScript (keys computed: never a prototype). */
function literal(value: unknown, language: "lua" | "python" | "js"): string {
  const again = (v: unknown) => literal(v, language);
  if (typeof value === "boolean" && language === "python") return value ? "True" : "False";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    const items = value.map(again).join(", ");
    return language === "lua" ? `{ ${items} }` : `[${items}]`;
  }
  const member = ([k, v]: [string, unknown]) =>
    language === "lua"
      ? `[${JSON.stringify(k)}] = ${again(v)}`
      : language === "python"
      ? `${JSON.stringify(k)}: ${again(v)}`
      : `[${JSON.stringify(k)}]: ${again(v)}`;
  return `{ ${Object.entries(value).map(member).join(", ")} }`;
}

/** Returns {"wrapped": <its inputs>}: wasm's JSON convention, bytes passed through. */
const WASM_WRAPPER = `(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 0) "{\\"wrapped\\": ")
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $at))
  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32)
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 17))))
    (i32.store (local.get $out) (i32.add (local.get $len) (i32.const 13)))
    (memory.copy (i32.add (local.get $out) (i32.const 4)) (i32.const 0) (i32.const 12))
    (memory.copy (i32.add (local.get $out) (i32.const 16)) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 16)) (local.get $len)) (i32.const 125))
    (local.get $out)))
`;

Deno.test("keys such as __proto__, constructor and the empty string survive every language, in inputs and results", async () => {
  // The source step is itself named __proto__: step names are keys of the inputs too.
  const file = await writeWorkflow("json_keys", {
    ["__proto__"]: { language: "lua", code: `function run() return ${literal(VALUE, "lua")} end` },
    python_made: {
      language: "python",
      code: `def run(inputs):\n    return ${literal(VALUE, "python")}\n`,
    },
    javascript_made: {
      language: "javascript",
      code: `function run() {
  const value = JSON.parse(${JSON.stringify(VALUE_TEXT)});
  console.log(value.list[0], { constructor: value.constructor });
  return value;
}`,
    },
    typescript_made: {
      language: "typescript",
      code: `function run(): Record<string, unknown> { return ${literal(VALUE, "js")}; }`,
    },
    shell_made: { language: "shell", code: `echo '${JSON.stringify(VALUE)}'` },
    lua_passed: {
      language: "lua",
      depends_on: ["__proto__"],
      code: "function run(inputs) return inputs end",
    },
    python_passed: {
      language: "python",
      depends_on: ["__proto__"],
      code: "def run(inputs):\n    return inputs\n",
    },
    javascript_passed: {
      language: "javascript",
      depends_on: ["__proto__"],
      code: "function run(inputs) { return inputs; }",
    },
    typescript_passed: {
      language: "typescript",
      depends_on: ["__proto__"],
      code: "const run = async (inputs: unknown) => inputs;",
    },
    shell_passed: {
      language: "shell",
      depends_on: ["__proto__"],
      code: `echo "{\\"__proto__\\": $(parse_input __proto__)}"`,
    },
    wasm_passed: { language: "wasm", depends_on: ["__proto__"], code: WASM_WRAPPER },
  });
  const result = await hwfe(["run", "--allow-run", "--json", file]);
  assert.equal(result.code, 0, result.stderr);
  const steps = runJson(result).steps;
  // Printed as Node does: a bare __proto__ would read as a prototype, and a
  // "constructor" key is data, not the object's class.
  assert.deepEqual(outputLines(result.stderr).javascript_made, [
    '{ ["__proto__"]: [ 1, 2 ] } { constructor: { prototype: 2, name: "Evil" } }',
  ]);
  const passed = { ["__proto__"]: VALUE };
  const expected: Record<string, unknown> = {
    ["__proto__"]: VALUE,
    python_made: VALUE,
    javascript_made: VALUE,
    typescript_made: VALUE,
    shell_made: VALUE,
    lua_passed: passed,
    python_passed: passed,
    javascript_passed: passed,
    typescript_passed: passed,
    shell_passed: passed,
    wasm_passed: { wrapped: passed },
  };
  for (const [step, value] of Object.entries(expected)) {
    assert.equal(canonical(steps[step]?.result), canonical(value), `step ${step}`);
  }
});

Deno.test("resultToJson() keeps a step named __proto__ where Object.prototype.__proto__ exists", async () => {
  // Deno removes the __proto__ accessor; a library user may bring it back.
  const script = `
    import { resultToJson } from "./api/result_json.ts";
    const step = { language: "lua", level: 1, status: "succeeded", result: '{"__proto__":1}' };
    console.log(resultToJson({
      workflow: "w", mode: "sequential", strategy: "levels", maxParallel: 1,
      status: "succeeded", durationMs: 1, levels: [["__proto__", "b"]],
      steps: [{ ...step, name: "__proto__" }, { ...step, name: "b" }],
    }));
  `;
  const result = await deno(["eval", "--unstable-unsafe-proto", script], {
    cwd: ROOT.pathname,
  });
  assert.equal(result.code, 0, result.stderr);
  const steps = JSON.parse(result.stdout).steps;
  assert.deepEqual(Object.keys(steps), ["__proto__", "b"]);
  assert.equal(canonical(steps["__proto__"].result), '{"__proto__":1}');
});

import assert from "node:assert/strict";
import { compactJson, jsonObjectOf, parseJson, parseJsonExact, stringifyJson } from "./json.ts";

Deno.test("compactJson() compacts JSON text and keeps big integers exact", () => {
  assert.equal(
    compactJson('{ "a" : [1, 2.5, 9007199254740993, -18446744073709551617] }'),
    '{"a":[1,2.5,9007199254740993,-18446744073709551617]}',
  );
  assert.throws(() => compactJson("{oops"), SyntaxError);
});

Deno.test("parseJson() gives bigint beyond 2^53 and stringifyJson() writes it back", () => {
  const value = parseJson('{"big":9007199254740993,"small":3,"float":1e300}');
  assert.deepEqual(value, { big: 9007199254740993n, small: 3, float: 1e300 });
  assert.equal(stringifyJson(value), '{"big":9007199254740993,"small":3,"float":1e+300}');
});

Deno.test("jsonObjectOf() builds an object from members that are JSON text", () => {
  assert.equal(jsonObjectOf([["a", "1"], ['we"ird', '{"x":[]}']]), '{"a":1,"we\\"ird":{"x":[]}}');
});

Deno.test("compactJson() keeps big integers exact next to long floats and exponents", () => {
  assert.equal(
    compactJson('{"f": 142.85714285714286, "e": 1e-1234567890123456, "n": -9007199254740993}'),
    '{"f":142.85714285714286,"e":0.0,"n":-9007199254740993}',
  );
  assert.equal(compactJson("[12345678901234567890]"), "[12345678901234567890]");
  assert.equal(compactJson("[0.12345678901234567]"), JSON.stringify([0.12345678901234567]));
});

Deno.test("compactJson() and parseJsonExact() keep floats that are whole numbers floats", () => {
  assert.equal(
    compactJson('[2.0, 2.000, -0.0, 1e3, 1.5e1, 2.5, 3, "2.0", 1e300, 12345678901234567890.0]'),
    '[2.0,2.0,-0.0,1000.0,15.0,2.5,3,"2.0",1e+300,12345678901234567000.0]',
  );
  assert.equal(
    stringifyJson(parseJsonExact('{"a":[6.0,{"b":9007199254740993}]}')),
    '{"a":[6.0,{"b":9007199254740993}]}',
  );
  assert.deepEqual(parseJson("[2.0]"), [2]);
});

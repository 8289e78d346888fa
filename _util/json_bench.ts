import { compactJson, jsonObjectOf, parseJson } from "./json.ts";

// Results cross between runtimes as JSON text: what each crossing costs.
const small = JSON.stringify({ numbers: [1, 2, 3], name: "step", ok: true, nested: { a: null } });
const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `row ${i}`, value: i / 7 }));
const large = JSON.stringify(rows); // about 400 KB
const big = JSON.stringify({ id: 9007199254740993n.toString(), list: rows.slice(0, 100) })
  .replace('"9007199254740993"', "9007199254740993");

Deno.bench("compactJson() of a small result", () => {
  compactJson(small);
});
Deno.bench("compactJson() of a 400 KB result", () => {
  compactJson(large);
});
Deno.bench("compactJson() of a result with a 64-bit integer", () => {
  compactJson(big);
});
Deno.bench("parseJson() of a 400 KB result", () => {
  parseJson(large);
});
Deno.bench("jsonObjectOf() of 8 dependency results", () => {
  jsonObjectOf(new Map(Array.from({ length: 8 }, (_, i) => [`dep${i}`, small])));
});

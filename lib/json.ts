/**
 * Step results travel through the engine as compact JSON text, never as
 * parsed values: text is what every runtime reads and writes, it survives
 * `postMessage` cheaply, and it keeps 64-bit integers exact (a JS number
 * would round 9007199254740993).
 *
 * @module
 */

/**
 * Compact JSON text of one JSON value: how step results are given, so that
 * 64-bit integers stay exact. Parse it when you need the value.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type JsonText, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { code: "function run() return { n = 1 } end" } } });
 * const result: JsonText | undefined = (await runWorkflow(workflow)).steps[0].result;
 * console.log(JSON.parse(result!)); // { n: 1 }
 * ```
 */
export type JsonText = string;

/** A JSON value as JS sees it; integers beyond 2^53 are `bigint`. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

// `JSON.parse` with source text access and `JSON.rawJSON` ship in V8 but not
// yet in TypeScript's lib.
type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;
const parseWithSource = JSON.parse as (text: string, reviver: Reviver) => unknown;
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

const INTEGER = /^-?\d+$/;

/** A reviver that passes integers beyond 2^53 to `convert` as their source text. */
function bigIntegers(convert: (source: string) => unknown): Reviver {
  return (_key, value, context) =>
    typeof value === "number" && context?.source && !Number.isSafeInteger(value) &&
      INTEGER.test(context.source)
      ? convert(context.source)
      : value;
}

const keepRaw = bigIntegers(rawJSON);
const toBigInt = bigIntegers(BigInt);

/**
 * Whether the text may hold an integer too big for a double: an integer
 * literal of at least 16 digits (a run of digits not inside a fraction or
 * an exponent: floats such as 142.85714285714286 do not count). Text
 * without one parses exactly with plain `JSON.parse`, about ten times
 * faster than with a reviver. A match inside a string only costs speed.
 */
const MAY_HOLD_BIG_INTEGER = /(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/;

/**
 * Parses JSON text and returns it in compact form, keeping integers of any
 * size exact. Throws `SyntaxError` when `text` is not JSON.
 */
export function compactJson(text: string): JsonText {
  if (!MAY_HOLD_BIG_INTEGER.test(text)) return JSON.stringify(JSON.parse(text));
  return JSON.stringify(parseWithSource(text, keepRaw));
}

/** Parses JSON text; integers beyond 2^53 become `bigint`. */
export function parseJson(text: JsonText): JsonValue {
  if (!MAY_HOLD_BIG_INTEGER.test(text)) return JSON.parse(text);
  return parseWithSource(text, toBigInt) as JsonValue;
}

/**
 * Serialises a JSON value (as `parseJson` returns it, `bigint` included)
 * to JSON text, compact unless `indent` is given.
 */
export function stringifyJson(value: unknown, indent?: number): JsonText {
  return JSON.stringify(
    value,
    (_key, v) => typeof v === "bigint" ? rawJSON(v.toString()) : v,
    indent,
  );
}

/** JSON text of an object whose members are already JSON text. */
export function jsonObjectOf(members: Iterable<[string, JsonText]>): JsonText {
  const parts: string[] = [];
  for (const [key, text] of members) parts.push(`${JSON.stringify(key)}:${text}`);
  return `{${parts.join(",")}}`;
}

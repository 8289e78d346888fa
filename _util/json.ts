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

/** Whether a value is one of `parseJsonExact`'s numbers kept as their text. */
export const isRawJson = (JSON as unknown as { isRawJSON(value: unknown): boolean }).isRawJSON;

const INTEGER = /^-?\d+$/;

/** A reviver that passes integers beyond 2^53 to `convert` as their source text. */
function bigIntegers(convert: (source: string) => unknown): Reviver {
  return (_key, value, context) =>
    typeof value === "number" && context?.source && !Number.isSafeInteger(value) &&
      INTEGER.test(context.source)
      ? convert(context.source)
      : value;
}

const toBigInt = bigIntegers(BigInt);

/**
 * The text of a float whose value is a whole number, so that it reads back
 * as a float: 2.0 stays 2.0, as serde_json and Python write it, where
 * JavaScript would write 2.
 */
function floatText(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  const text = String(value);
  return /[e.]/.test(text) ? text : `${text}.0`;
}

/**
 * A reviver that keeps every number as its text says: integers beyond 2^53
 * exact and floats that are whole numbers (2.0, 1e3) floats. JSON.stringify
 * writes the values it gives back as that text.
 */
const keepExact: Reviver = (_key, value, context) => {
  if (typeof value !== "number" || !context?.source) return value;
  const integer = INTEGER.test(context.source);
  if (integer) return Number.isSafeInteger(value) ? value : rawJSON(context.source);
  return Number.isInteger(value) ? rawJSON(floatText(value)) : value;
};

/**
 * Whether the text may hold an integer too big for a double: an integer
 * literal of at least 16 digits (a run of digits not inside a fraction or
 * an exponent: floats such as 142.85714285714286 do not count). Text
 * without one parses exactly with plain `JSON.parse`, about ten times
 * faster than with a reviver. A match inside a string only costs speed.
 */
const MAY_HOLD_BIG_INTEGER = /(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/;

/**
 * Whether the text may hold a float that is a whole number (2.0, 2.000,
 * 1e3), which plain `JSON.parse` and `JSON.stringify` would turn into an
 * integer. As above, a match inside a string only costs speed.
 */
const MAY_HOLD_WHOLE_FLOAT = /\d\.0*(?!\d)|\d[eE]/;

/**
 * Parses JSON text and returns it in compact form, keeping integers of any
 * size exact and floats floats (2.0 stays 2.0). Throws `SyntaxError` when
 * `text` is not JSON.
 */
export function compactJson(text: string): JsonText {
  return JSON.stringify(parseJsonExact(text));
}

/**
 * Parses JSON text into values that `stringifyJson` (or `JSON.stringify`)
 * writes back exactly as the text said: integers beyond 2^53 and floats
 * that are whole numbers come back as `JSON.rawJSON` objects. For text
 * that is parsed only to be written again; read values with `parseJson`.
 */
export function parseJsonExact(text: string): unknown {
  if (!MAY_HOLD_BIG_INTEGER.test(text) && !MAY_HOLD_WHOLE_FLOAT.test(text)) {
    return JSON.parse(text);
  }
  return parseWithSource(text, keepExact);
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

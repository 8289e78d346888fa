/**
 * How a JavaScript or TypeScript step's error reads: what QuickJS threw,
 * cut to a size that is safe to handle, then `Name: message` with the
 * step's own frames.
 *
 * @module
 */

import { syntaxErrorText, type SyntaxProblem } from "./syntax.ts";

/** Most stack frames shown in an error. */
const MAX_FRAMES = 12;

/**
 * Most characters kept of each text in a thrown value: step code chooses
 * them, and V8's `JSON.stringify` of a string of 2^28 characters aborts
 * the whole process. (The engine keeps 16 KiB of an error.)
 */
const MAX_THROWN_TEXT = 64 * 1024;

/** `value` with every string cut to MAX_THROWN_TEXT, at most 8 levels deep. */
export function clipped(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return value.length <= MAX_THROWN_TEXT
      ? value
      : `${value.slice(0, MAX_THROWN_TEXT)}… (${value.length - MAX_THROWN_TEXT} more characters)`;
  }
  if (typeof value !== "object" || value === null) return value;
  if (depth >= 8) return "[…]";
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => clipped(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).slice(0, 100).map(([k, v]) => [clipped(k), clipped(v, depth + 1)]),
  );
}

/**
 * A readable error: `Name: message` and the step's own stack frames (lines
 * of the step's source, TypeScript mapped back: `at run (<step a> line 2,
 * column 5)`), or a syntax error with its line and column. `stepName`
 * names the step; the code was evaluated under the file name "step".
 */
export function describeMessage(
  raw: string,
  stepName: string,
  positions?: (line: number, column: number) => [number, number],
): string {
  let dumped: unknown;
  try {
    dumped = JSON.parse(raw);
  } catch {
    return raw; // already a message (no run, a result that is not JSON data)
  }
  if (typeof dumped !== "object" || dumped === null) return `Uncaught ${JSON.stringify(dumped)}`;
  const error = dumped as { name?: string; message?: string; stack?: string };
  const map = (line: number, column: number) => positions?.(line, column) ?? [line, column];
  const syntax = syntaxOf(error, map);
  if (syntax) return syntaxErrorText(syntax, stepName);
  const frames = (error.stack ?? "").split("\n").filter((f) => FRAME.test(f))
    .map((frame) =>
      frame.replace(FRAME, (whole, l, c) => {
        const [line, column] = map(Number(l), Number(c));
        const where = `<step ${stepName}> line ${line}, column ${column}`;
        return whole.startsWith("(") ? `(${where})` : where;
      }).replace(/^\s*at <eval> /, "    at <top level> ")
    );
  const head = `${error.name ?? "Error"}: ${error.message ?? ""}`;
  return [head, ...collapse(frames)].join("\n");
}

/** A frame's place in step code, which QuickJS evaluated as the file "step". */
const FRAME = /\(?step:(\d+):(\d+)\)?$/;

/**
 * The parser's SyntaxError: its line, column and message (TypeScript
 * positions mapped back); undefined for any other value (an InternalError
 * from a source too deep to parse is not the code's syntax, nor is
 * JSON.parse's SyntaxError).
 */
export function syntaxOf(
  dumped: unknown,
  map: (line: number, column: number) => [number, number] = (l, c) => [l, c],
): Omit<SyntaxProblem, "step"> | undefined {
  const error = (typeof dumped === "object" && dumped !== null ? dumped : {}) as {
    name?: unknown;
    message?: unknown;
    stack?: unknown;
  };
  if (error.name !== "SyntaxError") return undefined;
  const message = typeof error.message === "string" ? error.message : "";
  // The parser's error has the position alone as its first frame; a SyntaxError
  // thrown as the code runs (JSON.parse) has the function that threw it.
  const first = typeof error.stack === "string" ? error.stack.split("\n")[0] : "";
  const at = /^\s*at step:(\d+):(\d+)$/.exec(first);
  if (!at) return first.trim() ? undefined : { message };
  const [line, column] = map(Number(at[1]), Number(at[2]));
  return { line, column, message };
}

/** Frames with runs of one repeated frame folded, at most MAX_FRAMES. */
function collapse(frames: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < frames.length;) {
    let j = i + 1;
    while (j < frames.length && frames[j] === frames[i]) j++;
    out.push(frames[i]);
    if (j - i > 1) out.push(`    [previous frame repeated ${j - i - 1} more times]`);
    i = j;
  }
  return out.length > MAX_FRAMES
    ? [...out.slice(0, MAX_FRAMES), `    [${out.length - MAX_FRAMES} more frames]`]
    : out;
}

/**
 * WebAssembly text compiled with wabt: by a wasm step's worker before it
 * runs the module, and by the syntax check, on any thread, without
 * running anything.
 *
 * @module
 */

import wabtInit from "../_util/npm/wabt.ts";
import type { SyntaxProblem } from "./syntax.ts";

let wabt: ReturnType<typeof wabtInit> | undefined;

/** WebAssembly text that does not compile: where, and why. */
export class WatError extends Error {
  constructor(readonly problem: Omit<SyntaxProblem, "step">) {
    super(problem.message);
    this.name = "WatError";
  }
}

/** Compiles WebAssembly text to a module's bytes; throws a {@link WatError}. */
export async function compileWat(wat: string): Promise<Uint8Array> {
  const tools = await (wabt ??= wabtInit());
  let parsed;
  try {
    parsed = tools.parseWat("step.wat", wat);
  } catch (error) {
    throw new WatError(watProblem(error));
  }
  try {
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } catch (error) {
    throw new WatError(watProblem(error));
  } finally {
    parsed.destroy();
  }
}

/** Why WebAssembly text does not compile, or undefined when it does. */
export async function watSyntax(wat: string): Promise<Omit<SyntaxProblem, "step"> | undefined> {
  try {
    await compileWat(wat);
    return undefined;
  } catch (error) {
    if (error instanceof WatError) return error.problem;
    throw error;
  }
}

/**
 * wabt's first error, in parts: `<file>:4:6: error: unexpected token ...`
 * followed by the line of text and a caret. (wabt's copy of the file name
 * ends in stray bytes, so it is not read.)
 */
function watProblem(error: unknown): Omit<SyntaxProblem, "step"> {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n");
  const first = lines.findIndex((line) => /:\d+:\d+: error: /.test(line));
  if (first < 0) return { message: text.replace(/^\w+ failed:\s*/, "").trim() };
  const [, line, column, message] = /:(\d+):(\d+): error: (.*)$/.exec(lines[first])!;
  const context = [];
  for (const next of lines.slice(first + 1)) {
    if (/:\d+:\d+: error: /.test(next) || next.trim() === "") break;
    context.push(next);
  }
  return {
    line: Number(line),
    column: Number(column),
    message,
    ...(context.length ? { context: context.map((line) => `    ${line}`).join("\n") } : {}),
  };
}

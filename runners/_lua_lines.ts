/**
 * Lua's names for lines of a step (`[step a]:3:`) in hwfe's words
 * (`<step a> line 3:`), which the runner then gives the workflow file's
 * line too.
 *
 * @module
 */

import type { SyntaxProblem } from "./syntax.ts";
import type { compileLuaChunks } from "../lua/sandbox.ts";

/** `message` with every `<label>:N:` written `<step name> line N:`. */
export function stepLines(message: string, label: string, stepName: string): string {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return message.replace(
    new RegExp(`${escaped}:(\\d+):`, "g"),
    (_, line: string) => `<step ${stepName}> line ${line}:`,
  );
}

/** A syntax error as Lua words it (`[step a]:3: unexpected symbol near 'x'`), in parts. */
export function luaSyntaxProblem(message: string, label: string): Omit<SyntaxProblem, "step"> {
  const match = message.startsWith(`${label}:`)
    ? /^(\d+): ([\s\S]*)$/.exec(message.slice(label.length + 1))
    : null;
  return match ? { line: Number(match[1]), message: match[2] } : { message };
}

/**
 * Parses Lua steps with `compile` (lua/sandbox.ts's compileLuaChunks,
 * given by the caller, so that this module does not load Lua itself).
 */
export async function luaProblems(
  sources: { step: string; code: string }[],
  compile: typeof compileLuaChunks,
): Promise<SyntaxProblem[]> {
  const labels = sources.map(({ step }) => `[step ${step}]`);
  const errors = await compile(
    sources.map(({ code }, i) => ({ chunkName: `=${labels[i]}`, code })),
  );
  return errors.flatMap((error, i) =>
    error === undefined ? [] : [{ step: sources[i].step, ...luaSyntaxProblem(error, labels[i]) }]
  );
}

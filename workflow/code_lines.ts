/**
 * Where each step's code lies in its workflow file, so that a line of a
 * step (an error's, a syntax error's) is also shown as the line of the
 * `.lua` file: `<step fetch> line 6 (flow.lua:16)`. And a hint for the
 * most puzzling mistake in a workflow file: a `]]` inside a step's code
 * (`inputs["a"][keys[1]]`) that ends the Lua long string holding it.
 *
 * @module
 */

import type { Step, Workflow } from "./model.ts";
import { lineAt, type LuaString, luaStrings } from "./_lua_strings.ts";

/**
 * Sets each step's `codeLine`: the line of `source` on which the literal
 * holding its code begins, when the code is one literal of the file (not
 * built by concatenation) whose lines are the file's lines (a long string,
 * or a quoted string on one line). Steps that share a literal (made in a
 * loop) share its line; of several equal literals, a step takes the first
 * after its own name.
 */
export function locateStepCode(source: string, steps: Iterable<Step>): void {
  let byValue: Map<string, LuaString[]> | undefined;
  let keys: Map<string, number> | undefined;
  for (const step of steps) {
    if (step.code === undefined || step.code === "") continue;
    byValue ??= literalsByValue(source);
    const candidates = byValue.get(step.code);
    if (!candidates) continue;
    let literal = candidates[0];
    if (candidates.length > 1) {
      const key = (keys ??= keyOffsets(source)).get(step.name) ?? -1;
      literal = candidates.find((c) => c.start > key) ?? literal;
    }
    step.codeLine = literal.line;
  }
}

function literalsByValue(source: string): Map<string, LuaString[]> {
  const byValue = new Map<string, LuaString[]>();
  for (const literal of luaStrings(source)) {
    // A quoted string whose "\n" escapes make lines that the file does not have.
    if (literal.level === undefined && !literal.multiline && literal.value.includes("\n")) {
      continue;
    }
    const list = byValue.get(literal.value);
    if (list) list.push(literal);
    else byValue.set(literal.value, [literal]);
  }
  return byValue;
}

/** A table key: `name =` or `["name"] =`. */
const KEY =
  /(?:^|[^\w.])([A-Za-z_]\w*)\s*=(?!=)|\[\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')\s*\]\s*=(?!=)/g;

/** Where each name is first written as a table key, in one pass over the source. */
function keyOffsets(source: string): Map<string, number> {
  const offsets = new Map<string, number>();
  for (const match of source.matchAll(KEY)) {
    const name = match[1] ?? match[2] ?? match[3];
    if (!offsets.has(name)) offsets.set(name, match.index);
  }
  return offsets;
}

/** The line of the workflow file holding line `line` of `step`'s code, when known. */
export function fileLineOf(step: Step, line: number): number | undefined {
  return step.codeLine === undefined || line < 1 ? undefined : step.codeLine + line - 1;
}

/**
 * How messages name line `line` of a step: `<step fetch> line 6`, followed
 * by the line of the workflow file when it is known: ` (flow.lua:16)`.
 */
export function stepLine(step: Step, workflow: Pick<Workflow, "file">, line: number): string {
  return `<step ${step.name}> line ${line}${fileLineNote(step, workflow, line)}`;
}

/** ` (flow.lua:16)` for line `line` of `step`, or "" when the file line is not known. */
export function fileLineNote(step: Step, workflow: Pick<Workflow, "file">, line: number): string {
  const fileLine = fileLineOf(step, line);
  return workflow.file !== undefined && fileLine !== undefined
    ? ` (${workflow.file}:${fileLine})`
    : "";
}

/**
 * Adds the workflow file's line to every mention of a line of `step` in
 * `message`: `<step fetch> line 6` becomes `<step fetch> line 6 (flow.lua:16)`,
 * and a Python traceback's `File "<step fetch>", line 6` gets the same
 * note. A message without them is returned as it is.
 */
export function withFileLines(
  message: string,
  step: Step,
  workflow: Pick<Workflow, "file">,
): string {
  if (workflow.file === undefined || step.codeLine === undefined) return message;
  const name = `<step ${step.name}>`;
  if (!message.includes(name)) return message;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return message.replace(
    new RegExp(`(${escaped}(?:", line| line) )(\\d+)(?!\\d)(?! \\()`, "g"),
    (_, head: string, line: string) =>
      `${head}${line}${fileLineNote(step, workflow, Number(line))}`,
  );
}

/**
 * A hint for a Lua error on line `errorLine` of a workflow file that a
 * long string closed early may explain: a `[[ ... ]]` that ends before the
 * error, after which the text up to the error holds no other long string
 * but does hold the `]]` that was meant to close it. Undefined when there
 * is no such string.
 */
export function closedEarlyHint(source: string, errorLine: number): string | undefined {
  const longs = luaStrings(source).filter((s) => s.level === 0 && s.endLine <= errorLine);
  const early = longs.at(-1);
  if (!early) return undefined;
  const meant = source.indexOf("]]", early.end);
  if (meant < 0 || lineAt(source, meant) < errorLine) return undefined;
  if (/\[=*\[/.test(source.slice(early.end, meant))) return undefined;
  return `the long string opened with [[ on line ${lineAt(source, early.start)} ends at the ` +
    `first ]] in it, on line ${early.endLine}: if that ]] is part of a step's code, write the ` +
    `code as [==[ ... ]==]`;
}

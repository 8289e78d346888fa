/**
 * A workflow definition's values as the checks see them: Lua's non-data
 * values arrive marked (lua/_prelude.ts), and names and keys reach
 * messages escaped, since a message is printed on a terminal.
 *
 * @module
 */

/**
 * C0 and C1 control characters and DEL. A name holding one would reach the
 * terminal it is printed on as a command (`ESC ]0;title BEL` retitles it).
 */
export const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * The key of the object that stands for a Lua value JSON cannot hold:
 * `{"\u0000lua": "function"}`.
 */
export const LUA_TYPE_MARK = "\u0000lua";

/** A name or key as messages show it: control characters escaped (`\x1b`), never raw. */
export function shown(name: string): string {
  return name.replace(
    /\p{Cc}/gu,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Why `name` cannot name a step or a workflow, or undefined. */
export function nameProblem(name: string): string | undefined {
  if (name === "") return "is empty; give it a name";
  if (CONTROL_CHARACTER.test(name)) {
    return "contains control characters, which would reach the terminal it is printed on; " +
      "use printable characters only";
  }
  return undefined;
}

/** A value's type as messages name it, in Lua's words (`a function`, `nil`). */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") {
    const mark = (value as Record<string, unknown>)[LUA_TYPE_MARK];
    return typeof mark === "string" ? `a ${mark}` : "a table";
  }
  return `a ${typeof value}`;
}

/** Whether `value` is a table with keys: an object, not a list or a marked Lua value. */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(LUA_TYPE_MARK in value);
}

/**
 * Quoting for commands that hwfe prints for the user to copy.
 *
 * @module
 */

/** `arg` as a POSIX shell word: bare when safe, else in single quotes. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

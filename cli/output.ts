/**
 * Where the command writes: whole lines to stdout and stderr, escaped for
 * the terminal and coloured only on a colour terminal.
 *
 * @module
 */

import { ExitCode } from "../_util/errors.ts";
import { palette } from "./render.ts";
import { escapeMessage, escapeTerminal } from "../_util/terminal_text.ts";

const encoder = new TextEncoder();

/**
 * Writes all of `text` with one logical write, so lines never interleave.
 * When the reader has gone (`hwfe config | head -3`), hwfe ends quietly
 * with status 0, as `yes | head` does: no one is left to tell.
 */
export function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  try {
    while (bytes.length) bytes = bytes.subarray(file.writeSync(bytes));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(ExitCode.ok);
    throw error;
  }
}
export const colour = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
export const p = palette(colour);
export const errColour = palette(Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"));

// Text from a workflow or a step is escaped where it is put into a line
// (cli/render.ts); a line is escaped again as it is written, keeping only
// colour and only on a colour terminal, for anything put in unescaped.
export const out = (text: string) =>
  writeAll(Deno.stdout, escapeTerminal(text, { newlines: true, colour }) + "\n");
export const err = (text: string) =>
  writeAll(
    Deno.stderr,
    escapeTerminal(text, { newlines: true, colour: errColour.enabled }) + "\n",
  );
export const warn = (message: string) =>
  err(`${errColour.yellow("warning:")} ${escapeMessage(message)}`);

/**
 * Where the command writes: whole lines to stdout and stderr, escaped for
 * the terminal and coloured only on a colour terminal; through the live
 * view (cli/live.ts) while it holds the terminal.
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

/** Reads an environment variable; undefined when unset (or not allowed). */
export type Env = (name: string) => string | undefined;

const processEnv: Env = (name) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

/**
 * Whether to colour a stream: `FORCE_COLOR` 1, 2, 3, `true` or empty turns
 * colour on even into a pipe and `FORCE_COLOR` 0 or `false` turns it off,
 * whatever else is set (as in Node); otherwise `NO_COLOR` with any value
 * but empty turns it off (no-color.org), and a terminal that is not
 * `TERM=dumb` has it.
 */
export function colourWanted(isTerminal: boolean, env: Env = processEnv): boolean {
  const force = env("FORCE_COLOR");
  if (force !== undefined) {
    if (["", "1", "2", "3", "true"].includes(force.toLowerCase())) return true;
    if (["0", "false"].includes(force.toLowerCase())) return false;
  }
  if (env("NO_COLOR")) return false;
  return isTerminal && env("TERM") !== "dumb";
}

/** Whether an environment variable is set to something that means yes (`CI=true`, `CI=1`). */
function truthy(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false", "no"].includes(value.toLowerCase());
}

/**
 * Whether `hwfe run` shows the live view (cli/live.ts): only when stdout
 * is a terminal that can move its cursor (not `TERM=dumb`), the output is
 * for people (not `--json` or `-q`), and not in CI (`CI` set and not
 * false), whose log is a file even when it pretends to be a terminal.
 * Colour does not matter: `NO_COLOR` keeps the view, without colour, and
 * `FORCE_COLOR` does not bring it to a pipe.
 */
export function liveWanted(
  options: { isTerminal: boolean; json?: boolean; quiet?: boolean },
  env: Env = processEnv,
): boolean {
  return options.isTerminal && !options.json && !options.quiet && !truthy(env("CI")) &&
    env("TERM") !== "dumb";
}

export const colour = colourWanted(Deno.stdout.isTerminal());
export const p = await palette(colour);
export const errColour = await palette(colourWanted(Deno.stderr.isTerminal()));

/** What holds the terminal while a run's live view is drawn, and prints lines above it. */
export interface Overlay {
  /** Writes `text` (whole lines, escaped) to `stream` above the view. */
  print(stream: "stdout" | "stderr", text: string): void;
}

let overlay: Overlay | undefined;

/** Routes {@link out} and {@link err} through `to` (a live view), or straight out again. */
export function setOverlay(to: Overlay | undefined): void {
  overlay = to;
}

function write(stream: "stdout" | "stderr", text: string): void {
  if (overlay) overlay.print(stream, text);
  else writeAll(stream === "stdout" ? Deno.stdout : Deno.stderr, text);
}

// Text from a workflow or a step is escaped where it is put into a line
// (cli/render.ts); a line is escaped again as it is written, keeping only
// colour and only on a colour terminal, for anything put in unescaped.
export const out = (text: string) =>
  write("stdout", escapeTerminal(text, { newlines: true, colour }) + "\n");
export const err = (text: string) =>
  write("stderr", escapeTerminal(text, { newlines: true, colour: errColour.enabled }) + "\n");
export const warn = (message: string) =>
  err(`${errColour.yellow("warning:")} ${escapeMessage(message)}`);

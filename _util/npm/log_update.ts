/**
 * log-update, which redraws a block of lines in place (the live view): the
 * one place its version is written. Only `createLogUpdate` is re-exported:
 * its default instance would hide the cursor through cli-cursor, whose
 * restore-cursor installs signal-exit's SIGINT handler, and in Deno that
 * handler re-raises the signal, so hwfe's own handler sees one Ctrl-C twice
 * and quits instead of cancelling (measured: cli/live.ts).
 *
 * @module
 */
export { createLogUpdate } from "npm:log-update@8.0.0";

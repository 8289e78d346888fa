/**
 * The `hwfe` command's entry point; the command line itself is cli/main.ts.
 *
 * @module
 */

import { main } from "./cli/main.ts";
import { serveAsStepChild, STEP_CHILD_COMMAND } from "./host/child_entry.ts";

export { main };

if (import.meta.main) {
  // A compiled hwfe starts its step children as itself (host/child_process.ts).
  if (Deno.args[0] === STEP_CHILD_COMMAND) await serveAsStepChild(Deno.args.slice(1));
  // Deno.exit also stops any worker still spinning in runaway code.
  Deno.exit(await main(Deno.args));
}

/**
 * The package as JSR would take it: `deno publish --dry-run` checks the
 * exports, slow types and file list. Publishing also needs a license,
 * which the project's owners have not chosen yet: until deno.json names
 * one, the dry run must fail for that reason alone.
 */

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

Deno.test("deno publish --dry-run finds nothing wrong but the license still to be chosen", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.equal(config.name, "@hwfe/hwfe");
  assert.match(config.version, /^\d+\.\d+\.\d+$/);
  assert.equal(config.exports["."], "./mod.ts");
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (config.license) {
    assert.ok(output.success, text);
    return;
  }
  const problems = [...text.matchAll(/^error\[([a-z-]+)\]/gm)].map((m) => m[1]);
  assert.deepEqual(problems, ["missing-license"], text);
  assert.match(text, /Found 1 problem/, text);
});

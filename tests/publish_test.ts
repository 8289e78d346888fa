/**
 * The package as JSR takes it: `deno publish --dry-run` checks the
 * exports, slow types, the license and the file list, and must find
 * nothing wrong.
 */

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

Deno.test("deno publish --dry-run passes, with the MIT license and its file included", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.equal(config.name, "@hwfe/hwfe");
  assert.match(config.version, /^\d+\.\d+\.\d+$/);
  assert.equal(config.exports["."], "./mod.ts");
  assert.equal(config.license, "MIT");
  assert.match(
    await Deno.readTextFile(new URL("LICENSE", ROOT)),
    /^MIT License\n\nCopyright \(c\) \d{4} the hwfe authors\n/,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.ok(output.success, text);
  assert.match(text, /\/LICENSE \(/, "LICENSE is in the package");
  assert.doesNotMatch(text, /_test\.ts|testdata/, "tests stay out of the package");
});

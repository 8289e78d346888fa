import assert from "node:assert/strict";
import { HwfeError } from "../_util/errors.ts";
import { assertWorkerOptions, findProgramConfig, programConfig, workerOptions } from "./program.ts";

Deno.test("findProgramConfig() finds the main module's deno.json or deno.jsonc as Deno does", () => {
  const files = new Set(["/app/deno.jsonc", "/app/sub/deno.json"]);
  const isFile = (path: string) => files.has(path);
  assert.equal(findProgramConfig("file:///app/sub/deep/main.ts", isFile), "/app/sub/deno.json");
  assert.equal(findProgramConfig("file:///app/main.ts", isFile), "/app/deno.jsonc");
  assert.equal(findProgramConfig("file:///elsewhere/main.ts", isFile), undefined);
  assert.equal(findProgramConfig("https://example.com/app/main.ts", () => true), undefined);
  // This test's own program: the checkout's deno.json.
  assert.equal(programConfig(), new URL("../deno.json", import.meta.url).pathname);
});

Deno.test("workerOptions() trusts a compiled program, the config's unstable list, then the flags", () => {
  assert.equal(workerOptions({ standalone: true }), "yes");
  assert.equal(workerOptions({ standalone: false, configUnstable: ["worker-options"] }), "yes");
  assert.equal(
    workerOptions({ standalone: false, configUnstable: [], flags: ["--unstable-worker-options"] }),
    "yes",
  );
  assert.equal(workerOptions({ standalone: false, flags: ["--allow-all"] }), "no");
  // Nothing to read (no config, a command line Deno keeps to --allow-all): unknown, not "no".
  assert.equal(workerOptions({ standalone: false, configUnstable: [] }), "unknown");
});

Deno.test("assertWorkerOptions() names the flag and the deno.json setting when it is missing", () => {
  assert.throws(
    () => assertWorkerOptions(() => ({ standalone: false, flags: ["-A"] })),
    (error) =>
      error instanceof HwfeError && error.exitCode === 2 &&
      /needs Deno's --unstable-worker-options: start your program with deno run --unstable-worker-options, or add "unstable": \["worker-options"\] to its deno\.json/
        .test(error.message),
  );
  assertWorkerOptions(() => ({ standalone: false, configUnstable: ["worker-options"] }));
});

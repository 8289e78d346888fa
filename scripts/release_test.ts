import assert from "node:assert/strict";
import {
  BAKED_PERMISSIONS,
  compileArgs,
  INCLUDED_FILES,
  TARGETS,
  workerModules,
} from "./release.ts";
import { v8FlagsArg } from "../_util/v8_flags.ts";

Deno.test("a release covers Linux x64/arm64, macOS x64/arm64 and Windows x64", () => {
  assert.deepEqual([...TARGETS].sort(), [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-gnu",
  ]);
});

Deno.test("compileArgs() bakes in hwfe's permissions, worker options, V8 flags, workers and the target", () => {
  const args = compileArgs("dist/hwfe-x", "aarch64-apple-darwin");
  for (const flag of [...BAKED_PERMISSIONS, "--unstable-worker-options", v8FlagsArg()]) {
    assert.ok(args.includes(flag), flag);
  }
  assert.deepEqual(args.slice(args.indexOf("--target"), args.indexOf("--target") + 2), [
    "--target",
    "aarch64-apple-darwin",
  ]);
  const included = args.flatMap((arg, i) => args[i - 1] === "--include" ? [arg] : []);
  assert.equal(included.length, workerModules().length + INCLUDED_FILES.length);
  assert.ok(included.some((path) => path.endsWith("server/page/")), "the server's page");
  assert.ok(included.some((path) => path.endsWith("runners/python_worker.ts")));
  assert.ok(included.some((path) => path.endsWith("host/child_entry.ts")));
  assert.ok(args.at(-1)!.endsWith("/cli.ts"));
  assert.ok(!compileArgs("dist/hwfe").includes("--target"));
});

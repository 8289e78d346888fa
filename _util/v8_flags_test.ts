import assert from "node:assert/strict";
import { V8_FLAGS, v8FlagsArg } from "./v8_flags.ts";
import denoJson from "../deno.json" with { type: "json" };

Deno.test("v8FlagsArg() joins extra flags and hwfe's", () => {
  assert.equal(v8FlagsArg(), `--v8-flags=${V8_FLAGS.join(",")}`);
  assert.equal(v8FlagsArg("--a", "--b"), `--v8-flags=--a,--b,${V8_FLAGS.join(",")}`);
});

Deno.test("hwfe's tasks and the README's deno commands start Deno with hwfe's V8 flags", async () => {
  for (const task of ["hwfe", "demo"] as const) {
    assert.ok(denoJson.tasks[task].includes(v8FlagsArg()), `deno.json task ${task}`);
  }
  const readme = (await Deno.readTextFile(new URL("../README.md", import.meta.url)))
    .replaceAll("\\\n", " ").replaceAll("\n", " ");
  // Every `deno install` or `deno run` of hwfe's CLI or of a program importing mod.ts.
  const commands = readme.match(/deno (install|run) [^`#]*?(cli\.ts|main\.ts)/g) ?? [];
  assert.ok(commands.length >= 4, `only ${commands.length} commands found`);
  for (const command of commands) assert.ok(command.includes(v8FlagsArg()), command);
});

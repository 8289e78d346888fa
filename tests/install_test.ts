/**
 * `deno install -g` makes an `hwfe` command, from a checkout and from a
 * URL, as the README shows. Each on a fresh machine (empty caches): the
 * installed command resolves hwfe's packages afresh, with a lockfile of
 * its own that hwfe cannot see, and its step children must still find
 * everything they load in the cache, online and then offline.
 */

import assert from "node:assert/strict";
import { serveRepository } from "../scripts/serve.ts";
import { PERMISSIONS } from "./_helpers.ts";
import { v8FlagsArg } from "../_util/v8_flags.ts";
import { assertOffline, type FreshMachine, freshMachine, offline, runOn } from "./_fresh.ts";

/** The flags of the README's install command. */
const INSTALL_FLAGS = [...PERMISSIONS, "--unstable-worker-options", v8FlagsArg()];

/** Lua in a worker of hwfe's own process, Python and wasm in child processes, shell. */
const WORKFLOW = `
workflow = { name = "installed", steps = {
  lua = { language = "lua", code = [[function run() return 6 end]] },
  py = { language = "python", depends_on = { "lua" }, code = [[
def run(inputs):
    return inputs["lua"] * 7
]] },
  wasm = { language = "wasm", code = [[(module (func (export "run") (result i32) (i32.const 0)))]] },
  sh = { language = "shell", depends_on = { "py" }, code = [[echo "{\\"n\\": $(parse_input py)}"]] },
} }
`;

/** Installs `hwfe` from `source` and runs the workflow with it, online then offline. */
async function installAndRun(machine: FreshMachine, source: string, extraFlags: string[] = []) {
  const lockBefore = await Deno.readTextFile(`${machine.repo}/deno.lock`);
  const installRoot = `${machine.root}/install`;
  const installed = await runOn(machine, Deno.execPath(), [
    "install",
    "-g",
    "--root",
    installRoot,
    "-n",
    "hwfe",
    ...INSTALL_FLAGS,
    ...extraFlags,
    source,
  ]);
  assert.equal(installed.code, 0, installed.all);
  const work = `${machine.root}/work`;
  await Deno.mkdir(work);
  await Deno.writeTextFile(`${work}/installed.lua`, WORKFLOW);
  const net = offline();
  await assertOffline(machine, net);
  for (const env of [{}, net]) {
    const result = await runOn(machine, `${installRoot}/bin/hwfe`, [
      "run",
      "--json",
      "--allow-run",
      "installed.lua",
    ], { cwd: work, env });
    assert.equal(result.code, 0, result.all);
    const steps = JSON.parse(result.stdout).steps as Record<string, { status: string }>;
    assert.deepEqual(Object.values(steps).map((s) => s.status), [
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    assert.match(result.stdout, /"n": 42/);
  }
  // The checkout's lockfile is the project's: installing must not change it.
  assert.equal(await Deno.readTextFile(`${machine.repo}/deno.lock`), lockBefore);
}

Deno.test("deno install -g from a checkout gives an hwfe command that works first time and offline", async () => {
  const machine = await freshMachine();
  try {
    await installAndRun(machine, `${machine.repo}/cli.ts`);
  } finally {
    await machine.remove();
  }
});

Deno.test("deno install -g from a URL gives an hwfe command that works first time and offline", async () => {
  const machine = await freshMachine();
  const server = serveRepository();
  try {
    const port = server.addr.port;
    await installAndRun(machine, `http://127.0.0.1:${port}/cli.ts`, [
      `--allow-import=127.0.0.1:${port}`,
    ]);
  } finally {
    await server.shutdown();
    await machine.remove();
  }
});

/**
 * The step child as a compiled hwfe starts it: the real cli.ts in a
 * subprocess, given the child command.
 */

import assert from "node:assert/strict";
import { childCommand } from "../host/child_process.ts";
import { encodeFrame, readFrames } from "../host/frames.ts";
import { parseWorkerMessage, PROTOCOL_VERSION } from "../host/protocol.ts";
import { luaWasmPath } from "../lua/wasmoon.ts";
import { STEP_CHILD_COMMAND } from "../host/child_entry.ts";

const LUA_WORKER = new URL("../runners/lua_worker.ts", import.meta.url);
const CLI = new URL("../cli.ts", import.meta.url);

Deno.test("cli.ts serves as a step child when given the compiled binary's child command", async () => {
  // What a compiled hwfe runs as `hwfe __hwfe-step-child ...`, from source.
  const wasmPath = luaWasmPath();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--unstable-worker-options",
      "--allow-read",
      CLI.href,
      ...childCommand(LUA_WORKER, { read: [wasmPath], write: [], net: [] }, 256, true),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  await stdin.write(encodeFrame({
    type: "init",
    protocol: PROTOCOL_VERSION,
    init: { wasmPath },
    grants: { read: [wasmPath], write: [], net: [] },
  }));
  const seen: string[] = [];
  for await (const message of readFrames(child.stdout)) {
    const m = parseWorkerMessage(message);
    assert.ok(m, `a malformed message: ${JSON.stringify(message)}`);
    seen.push(m.type);
    if (m.type === "hello") {
      // What the step host offers: Lua, the wasm file it was given, nothing forbidden.
      assert.deepEqual(m.offer, {
        languages: ["lua"],
        grants: { read: [wasmPath], write: [], net: [] },
        forbidden: [],
      });
      assert.equal(m.protocol, PROTOCOL_VERSION);
      await stdin.write(encodeFrame({
        type: "run",
        id: "1",
        job: {
          step: "s",
          code: "function run() return 6 * 7 end",
          inputs: "{}",
          extra: { memoryMb: 64, env: {} },
        },
      }));
    }
    if (m.type === "done") {
      assert.deepEqual(m.outcome, { kind: "result", json: "42" });
      break;
    }
  }
  await stdin.close();
  assert.equal((await child.status).code, 0);
  assert.deepEqual(seen, ["hello", "done"]);
});

Deno.test("the step-child command run by hand says what it is, with no stack trace", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", CLI.href, STEP_CHILD_COMMAND],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 2);
  assert.match(stderr, /is how hwfe starts its own child processes.*not meant to be run by hand/);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

import assert from "node:assert/strict";
import { childCommand } from "./child_worker.ts";
import { encodeFrame, readFrames } from "./frames.ts";
import { luaWasmPath } from "./lua_wasm.ts";
import { STEP_CHILD_COMMAND } from "./step_child.ts";

const LUA_WORKER = new URL("../runners/lua_worker.ts", import.meta.url);
const CLI = new URL("../cli.ts", import.meta.url);

Deno.test("childCommand() from source: deno run with the step's flags and a heap limit", () => {
  const args = childCommand(
    LUA_WORKER,
    { read: ["/data"], write: ["/out"], net: [], denyRead: ["/data/private"] },
    256,
  );
  assert.equal(args[0], "run");
  assert.ok(args.includes("--v8-flags=--max-old-space-size=256"));
  assert.ok(args.includes("--allow-write=/out"));
  assert.ok(args.includes("--deny-read=/data/private"));
  // The worker inside inherits the kind that has deny rules.
  assert.deepEqual(JSON.parse(args.at(-1)!), { read: "inherit", write: ["/out"], net: [] });
});

Deno.test("childCommand() compiled: the binary runs itself, and refuses deny rules", () => {
  const permissions = { read: ["/data"], write: [], net: ["example.com"] };
  assert.deepEqual(childCommand(LUA_WORKER, permissions, 256, true), [
    STEP_CHILD_COMMAND,
    LUA_WORKER.href,
    JSON.stringify(permissions),
  ]);
  assert.throws(
    () => childCommand(LUA_WORKER, { ...permissions, denyNet: ["example.com:22"] }, 256, true),
    /cannot give a step child deny rules/,
  );
});

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
  await stdin.write(encodeFrame({ type: "init", init: { wasmPath } }));
  const seen: string[] = [];
  for await (const message of readFrames(child.stdout)) {
    const m = message as { type: string; outcome?: { kind: string; json?: string } };
    seen.push(m.type);
    if (m.type === "ready") {
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
  assert.deepEqual(seen, ["ready", "done"]);
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

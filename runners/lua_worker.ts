/**
 * Worker module for Lua steps: a fresh sandboxed Lua state per step, the
 * compiled Lua wasm module kept warm across steps.
 *
 * @module
 */

import { serveSteps } from "../host/worker_entry.ts";
import { compileLuaChunks, luaFactory, runLuaChunk, trimTraceback } from "../lua/sandbox.ts";
import { luaProblems, luaSyntaxProblem, stepLines } from "./_lua_lines.ts";
import { isCheckJob, syntaxErrorText } from "./syntax.ts";

/** The most memory the Lua runtime can have: wasmoon's wasm memory stops at 2 GiB. */
const LUA_CEILING_MB = 2048;

// Emscripten reports a failed memory growth on the console before Lua
// fails the allocation; the step's error says it (out of memory), and a
// line with no step on hwfe's stderr says nothing more.
const consoleError = console.error;
console.error = (...args: unknown[]) => {
  if (typeof args[0] === "string" && args[0].startsWith("Cannot enlarge memory")) return;
  consoleError(...args);
};

serveSteps({
  language: "lua",
  async setup(init) {
    const { wasmPath } = init as { wasmPath: string };
    await luaFactory(wasmPath).getLuaModule();
  },
  async run({ job, interrupted, write }) {
    if (isCheckJob(job.extra)) {
      const problems = await luaProblems(job.extra.check, compileLuaChunks);
      return { kind: "result", json: JSON.stringify(problems) };
    }
    const label = `[step ${job.step}]`;
    const { memoryMb, env } = job.extra as { memoryMb: number; env: Record<string, string> };
    const outcome = await runLuaChunk(
      {
        mode: "step",
        chunkName: `=${label}`,
        code: job.code,
        inputs: job.inputs,
        params: job.params,
        memoryBytes: memoryMb * 1024 * 1024,
        env: JSON.stringify(env),
      },
      { interrupted, output: write },
    );
    switch (outcome.kind) {
      case "result":
        return { kind: "result", json: outcome.json };
      case "interrupted":
        return { kind: "interrupted" };
      case "bad_result":
        return { kind: "error", message: `returned ${outcome.message}` };
      case "no_run":
        return { kind: "error", message: "(lua): no run() function defined" };
      case "syntax_error":
        return {
          kind: "error",
          message: `(lua): ${syntaxErrorText(luaSyntaxProblem(outcome.message, label), job.step)}`,
        };
      case "runtime_error":
        if (/not enough memory/.test(outcome.message)) {
          return {
            kind: "error",
            message: memoryMb >= LUA_CEILING_MB
              ? `(lua): out of memory (Lua's memory cannot grow past ${LUA_CEILING_MB} MiB)`
              : `(lua): out of memory (the step's limit is ${memoryMb} MiB; raise it with memory_mb)`,
          };
        }
        return {
          kind: "error",
          message: `(lua): ${stepLines(trimTraceback(outcome.message, label), label, job.step)}`,
        };
      default:
        return { kind: "error", message: `(lua): unexpected outcome ${outcome.kind}` };
    }
  },
});

/**
 * Lua steps: run on wasmoon in the step host's workers (see lua_worker.ts).
 *
 * @module
 */

import { StepError } from "../lib/errors.ts";
import { luaWasmPath } from "../lib/lua_sandbox.ts";
import type { StepHost, WorkerRuntime } from "../lib/step_host.ts";
import type { Runner } from "./types.ts";

/** Creates the Lua runner on top of a step host. */
export function luaRunner(host: StepHost): Runner {
  const wasmPath = luaWasmPath();
  const runtime: WorkerRuntime = {
    id: "lua",
    moduleUrl: new URL("./lua_worker.ts", import.meta.url),
    read: [wasmPath],
    init: { wasmPath },
  };
  return {
    language: "lua",
    warmUp: () => host.warmUp(runtime),
    async run(ctx) {
      const outcome = await host.execute(
        runtime,
        { step: ctx.step.name, code: ctx.step.code ?? "", inputs: ctx.inputs },
        ctx,
      );
      if (outcome.kind === "result") return outcome.json;
      if (outcome.kind === "interrupted") {
        throw new StepError(`step '${ctx.step.name}' was interrupted`);
      }
      throw new StepError(`step '${ctx.step.name}' ${outcome.message}`);
    },
  };
}

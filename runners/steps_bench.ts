/**
 * Per-step cost of JavaScript, TypeScript and each WebAssembly calling
 * convention on warm workers (issue 4), and the once-per-run cost of
 * transpiling TypeScript in a fresh esbuild worker.
 *
 * Run: deno task bench
 */

import wabtInit from "../_util/npm/wabt.ts";
import { jsonObjectOf } from "../_util/json.ts";
import { StepHost } from "../host/pool.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import type { StepDefinition } from "../workflow/model.ts";
import { createRunners } from "./mod.ts";
import type { StepContext } from "../engine/runner.ts";

const TESTDATA = new URL("../tests/testdata/wasm/", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "hwfe-bench-wasm-" });
const wabt = await wabtInit();
for (const name of ["status", "sum_json", "wasi_echo"]) {
  const parsed = wabt.parseWat(name, await Deno.readTextFile(`${TESTDATA}${name}.wat`));
  await Deno.writeFile(`${dir}/${name}.wasm`, parsed.toBinary({}).buffer);
  parsed.destroy();
}

const steps: Record<string, StepDefinition> = {
  js: { language: "javascript", code: "function run(inputs) {\n  return { ok: true };\n}\n" },
  ts: {
    language: "typescript",
    code: "function run(inputs: unknown): { ok: boolean } {\n  return { ok: true };\n}\n",
  },
  wasm_status: { language: "wasm", module: "status.wasm" },
  wasm_json: { language: "wasm", module: "sum_json.wasm" },
  wasm_wasi: { language: "wasm", module: "wasi_echo.wasm" },
};
const { workflow } = defineWorkflow({ name: "bench", steps }, `${dir}/bench.lua`);
const host = new StepHost(1);
const runners = createRunners(host);

function context(name: string): StepContext {
  return {
    step: workflow.steps.get(name)!,
    workflow,
    inputs: jsonObjectOf(new Map([["seed", '{"values":[1,2,3]}']])),
    inputsByName: new Map([["seed", '{"values":[1,2,3]}']]),
    signal: new AbortController().signal,
    started: () => {},
    write: () => {},
    grants: { run: false },
  };
}

const contexts = Object.fromEntries(Object.keys(steps).map((name) => [name, context(name)]));
for (const name of Object.keys(steps)) {
  const ctx = contexts[name];
  await runners.get(ctx.step.language)!.run(ctx); // warm: workers started, TypeScript transpiled
}

for (const name of Object.keys(steps)) {
  const ctx = contexts[name];
  const runner = runners.get(ctx.step.language)!;
  Deno.bench({ name: `a trivial ${name} step on a warm worker`, group: "step" }, async () => {
    await runner.run(ctx);
  });
}

Deno.bench(
  { name: "transpiling a run's TypeScript (fresh esbuild worker)", n: 5, warmup: 1 },
  async () => {
    const host = new StepHost(1);
    const fresh = createRunners(host).get("typescript")!;
    const { workflow: again } = defineWorkflow({ name: "ts", steps: { ts: steps.ts } });
    try {
      await fresh.run({ ...context("ts"), workflow: again, step: again.steps.get("ts")! });
    } finally {
      host.dispose();
      await fresh.close?.();
    }
  },
);

globalThis.addEventListener("unload", () => {
  host.dispose();
  Deno.removeSync(dir, { recursive: true });
});

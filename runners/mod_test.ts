import assert from "node:assert/strict";
import { createRunners, stepChecks, WORKER_MODULES } from "./mod.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import { StepHost } from "../host/pool.ts";

Deno.test("WORKER_MODULES lists every worker module, so the parent caches what children load", async () => {
  const listed = Object.values(WORKER_MODULES).map((load) =>
    /import\("\.\/(\w+\.ts)"\)/.exec(String(load))?.[1]
  );
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("./", import.meta.url))) {
    if (entry.name.endsWith("_worker.ts")) files.push(entry.name);
  }
  assert.deepEqual(listed.sort(), files.sort());
});

Deno.test("stepChecks() checks every language as its runner does, without a step host", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/flow.lua`, "");
    await Deno.mkdir(`${dir}/dir.wasm`);
    const { workflow } = defineWorkflow({
      steps: {
        sh: { language: "shell", code: "true" },
        py: { language: "python", code: "def run(): pass", permissions: { write: ["out"] } },
        wasm: { language: "wasm", module: "dir.wasm" },
        lua: { code: "function run() return 1 end" },
        js: { language: "javascript", code: "function run() { return 1; }" },
        ts: { language: "typescript", code: "function run() { return 1; }" },
      },
    }, `${dir}/flow.lua`);
    const host = new StepHost(1);
    try {
      const runners = createRunners(host, { maxModuleBytes: 1024 });
      const checks = stepChecks({ maxModuleBytes: 1024 });
      assert.deepEqual([...checks.keys()].sort(), [...runners.keys()].sort());
      for (const step of workflow.steps.values()) {
        const runner = runners.get(step.language)!;
        const check = checks.get(step.language)!;
        assert.deepEqual(check.needs?.(step) ?? [], runner.needs?.(step) ?? [], step.name);
        assert.deepEqual(
          check.problems?.(step, workflow) ?? [],
          runner.problems?.(step, workflow) ?? [],
          step.name,
        );
      }
      // The cases above are not all empty: shell needs a grant, Python and wasm have problems.
      assert.equal(checks.get("shell")!.needs!(workflow.steps.get("sh")!).length, 1);
      assert.equal(checks.get("python")!.problems!(workflow.steps.get("py")!, workflow).length, 1);
      assert.equal(checks.get("wasm")!.problems!(workflow.steps.get("wasm")!, workflow).length, 1);
    } finally {
      host.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Run by tests/load_test.ts in a process of its own, so that nothing else
 * opens or closes descriptors meanwhile: two runs of 1,000 shell steps in
 * one level, printing this process's descriptors after each as JSON.
 */

import { runWorkflow } from "../api/run.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import type { StepDefinition } from "../workflow/model.ts";

const marker = Deno.args[0];
const steps: Record<string, StepDefinition> = {};
for (let i = 0; i < 1000; i++) {
  steps[`sh${i}`] = {
    language: "shell",
    code: `(sleep 0.${i % 10}; : ${marker}) & echo '{"n": ${i}}'`,
  };
}
const { workflow } = defineWorkflow({ name: "shells", steps });

async function descriptors(): Promise<number> {
  // Deno reads /proc/self only with --allow-all; ls reads this process's.
  const out = await new Deno.Command("ls", { args: [`/proc/${Deno.pid}/fd`], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").length;
}

const counts: number[] = [];
const failures: string[] = [];
for (let round = 0; round < 2; round++) {
  const result = await runWorkflow(workflow, {
    mode: "parallel",
    maxParallel: navigator.hardwareConcurrency * 4,
    grants: { run: true },
    cacheDir: false,
  });
  for (const s of result.steps) {
    if (s.result !== `{"n":${s.name.slice(2)}}`) {
      failures.push(`${s.name}: ${s.status} ${s.error ?? s.result}`);
    }
  }
  counts.push(await descriptors());
}
console.log(JSON.stringify({ counts, failures: failures.slice(0, 5) }));

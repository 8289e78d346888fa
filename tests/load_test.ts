/**
 * Load: a 10,000-step random DAG across the in-process languages whose
 * results carry checksums (every result must arrive intact), in parallel
 * mode at the CPU count; and 1,000 shell steps in one level with no file
 * descriptors or processes left behind.
 */

import assert from "node:assert/strict";
import { prng } from "./_fuzz.ts";
import { hwfe, processesMatching } from "./_helpers.ts";
import type { StepDefinition } from "../workflow/model.ts";

const STEPS = 10_000;
const MOD = 1_000_003;

// Every step's checksum: (id * 31 + the checksums of its dependencies) mod MOD.
// A wasm step (status convention) cannot see its inputs; its checksum is
// the input_count of its result, which hwfe fills in.
const CODE: Record<string, (id: number) => string> = {
  lua: (id) =>
    `local ID = ${id}
function run(inputs)
  local sum = ID * 31
  for _, r in pairs(inputs) do sum = sum + (r.sum or r.wasm_execution.input_count) end
  return { sum = sum % ${MOD} }
end`,
  python: (id) =>
    `ID = ${id}
def run(inputs):
    total = ID * 31 + sum(r["sum"] if "sum" in r else r["wasm_execution"]["input_count"] for r in inputs.values())
    return {"sum": total % ${MOD}}
`,
  javascript: (id) =>
    `const ID = ${id};
function run(inputs) {
  let sum = ID * 31;
  for (const r of Object.values(inputs)) sum += r.sum ?? r.wasm_execution.input_count;
  return { sum: sum % ${MOD} };
}`,
  wasm: () => `(module (func (export "run") (result i32) (i32.const 0)))`,
};
const LANGUAGES = ["lua", "lua", "python", "javascript", "wasm"];

function randomDag(random: () => number) {
  const steps: Record<string, StepDefinition> = {};
  const expected = new Map<string, number>();
  for (let id = 0; id < STEPS; id++) {
    const language = LANGUAGES[Math.floor(random() * LANGUAGES.length)];
    const deps = new Set<number>();
    if (id > 0) {
      for (let k = Math.floor(random() * 4); k > 0; k--) {
        deps.add(Math.max(0, id - 1 - Math.floor(random() * Math.min(id, 200))));
      }
    }
    const names = [...deps].map((d) => `s${d}`);
    steps[`s${id}`] = { language, code: CODE[language](id), depends_on: names };
    const checksum = language === "wasm"
      ? names.length
      : (id * 31 + names.reduce((sum, name) => sum + expected.get(name)!, 0)) % MOD;
    expected.set(`s${id}`, checksum);
  }
  return { steps, expected };
}

function luaString(text: string): string {
  return `[==[\n${text}]==]`;
}

Deno.test(`load: a ${STEPS}-step random DAG in four languages, every result intact`, async () => {
  const { steps, expected } = randomDag(prng(4242));
  const body = Object.entries(steps).map(([name, s]) =>
    `  ${name} = { language = "${s.language}", depends_on = { ${
      (s.depends_on as string[]).map((d) => `"${d}"`).join(", ")
    } }, code = ${luaString(s.code!)} },`
  ).join("\n");
  const dir = await Deno.makeTempDir({ prefix: "hwfe-load-" });
  const file = `${dir}/load.lua`;
  await Deno.writeTextFile(file, `workflow = { name = "load", steps = {\n${body}\n} }\n`);
  const jobs = String(navigator.hardwareConcurrency);
  const result = await hwfe(["run", "--json", "--quiet", "--mode", "parallel", "-j", jobs, file]);
  assert.equal(result.code, 0, result.stderr.slice(0, 2000));
  const run = JSON.parse(result.stdout) as {
    steps: Record<string, { status: string; result: Record<string, unknown> }>;
  };
  let checked = 0;
  for (const [name, want] of expected) {
    const step = run.steps[name];
    assert.equal(step.status, "succeeded", name);
    const got = "sum" in step.result
      ? step.result.sum
      : (step.result.wasm_execution as { input_count: number }).input_count;
    assert.equal(got, want, `${name} (${steps[name].language})`);
    checked++;
  }
  assert.equal(checked, STEPS);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("load: 1,000 shell steps in one level leave no file descriptors or processes", async () => {
  const marker = `hwfe-load-${Math.floor(Math.random() * 1e9)}`;
  const probe = new URL("./_shell_load.ts", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      "--unstable-worker-options",
      probe,
      marker,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const { counts, failures } = JSON.parse(text) as { counts: number[]; failures: string[] };
  assert.deepEqual(failures, []);
  // Deno opens a few descriptors for child processes once, lazily: only
  // growth from one run to the next is a leak.
  // One fewer after the second run (27 then 26) was seen: that is no leak.
  assert.ok(counts[1] <= counts[0], `descriptors after each run: ${counts}`);
  assert.equal(await processesMatching(marker), "", "no background process outlives its step");
});

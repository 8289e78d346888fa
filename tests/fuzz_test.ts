/**
 * Fuzzing with a fixed seed: mutated copies of every example workflow and
 * of configuration files in each format must load or be refused with a
 * clear error; never an uncaught exception or a hang. A sample also goes
 * through the real CLI, which must exit 0, 1 or 2 without a stack trace.
 * `scripts/fuzz.ts` runs the same for as long as you like.
 */

import assert from "node:assert/strict";
import { CONFIG_SEEDS, fuzzConfig, fuzzWorkflow, mutated, prng } from "./_fuzz.ts";
import { hwfe, ROOT, TESTDATA } from "./_helpers.ts";

const SEED = 20261125;
const WORKFLOW_CASES = 1500;
const CONFIG_CASES = 600;
const CLI_CASES = 24;

function seedWorkflows(): string[] {
  const dirs = [new URL("workflows/", ROOT).pathname, TESTDATA];
  const texts: string[] = [];
  for (const dir of dirs) {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && entry.name.endsWith(".lua")) {
        texts.push(Deno.readTextFileSync(`${dir}${entry.name}`));
      }
    }
  }
  return texts.sort();
}

Deno.test(`fuzz: ${WORKFLOW_CASES} mutated workflow files load or are refused clearly`, async () => {
  const random = prng(SEED);
  const seeds = seedWorkflows();
  const tally = { loaded: 0, refused: 0 };
  for (let i = 0; i < WORKFLOW_CASES; i++) {
    const source = mutated(seeds[i % seeds.length], random);
    const outcome = await fuzzWorkflow(source);
    if (typeof outcome === "object") {
      assert.fail(`case ${i} (seed ${SEED}) is a bug:\n${outcome.bug}\n--- input ---\n${source}`);
    }
    tally[outcome]++;
  }
  assert.ok(tally.loaded > 50 && tally.refused > 50, JSON.stringify(tally));
});

Deno.test(`fuzz: ${CONFIG_CASES} mutated configuration files resolve or are refused clearly`, async () => {
  const random = prng(SEED + 1);
  const kinds = ["toml", "json", "yaml"] as const;
  const tally = { loaded: 0, refused: 0 };
  for (let i = 0; i < CONFIG_CASES; i++) {
    const kind = kinds[i % kinds.length];
    const text = mutated(CONFIG_SEEDS[kind], random);
    const outcome = await fuzzConfig(text, kind);
    if (typeof outcome === "object") {
      assert.fail(`case ${i} (${kind}) is a bug:\n${outcome.bug}\n--- input ---\n${text}`);
    }
    tally[outcome]++;
  }
  assert.ok(tally.loaded > 20 && tally.refused > 20, JSON.stringify(tally));
});

Deno.test(`fuzz: ${CLI_CASES} mutated workflows through the real CLI exit 0, 1 or 2, no stack trace`, async () => {
  const random = prng(SEED + 2);
  const seeds = seedWorkflows();
  const dir = await Deno.makeTempDir({ prefix: "hwfe-fuzz-" });
  for (let i = 0; i < CLI_CASES; i++) {
    const file = `${dir}/case${i}.lua`;
    await Deno.writeTextFile(file, mutated(seeds[(i * 7) % seeds.length], random, 2));
    const result = await hwfe(["run", "--step-timeout", "5", "--json", file]);
    assert.ok([0, 1, 2].includes(result.code), `case ${i}: exit ${result.code}\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\n\s+at .*\.(ts|js|mjs):\d+/, `case ${i}: a stack trace`);
    if (result.code !== 2) JSON.parse(result.stdout); // a run always ends with its JSON result
  }
  await Deno.remove(dir, { recursive: true });
});

/**
 * Long fuzz runs of workflow and configuration loading (the suite runs a
 * short one with a fixed seed, tests/fuzz_test.ts). Prints every bug found
 * with its seed and case number, and exits 1 if there was any.
 *
 * Run: deno run --allow-read --allow-env scripts/fuzz.ts [cases] [seed]
 */

import { CONFIG_SEEDS, fuzzConfig, fuzzWorkflow, mutated, prng } from "../tests/_fuzz.ts";

const cases = Number(Deno.args[0] ?? 20000);
const seed = Number(Deno.args[1] ?? Date.now() % 1e9);
const random = prng(seed);
const root = new URL("../", import.meta.url).pathname;
const seeds: string[] = [];
for (const dir of [`${root}workflows/`, `${root}tests/testdata/`]) {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && entry.name.endsWith(".lua")) {
      seeds.push(Deno.readTextFileSync(dir + entry.name));
    }
  }
}
const kinds = ["toml", "json", "yaml"] as const;
const tally = { loaded: 0, refused: 0, bugs: 0 };
const started = performance.now();
for (let i = 0; i < cases; i++) {
  const kind = i % 4 === 3 ? kinds[i % 3] : undefined;
  const input = kind
    ? mutated(CONFIG_SEEDS[kind], random)
    : mutated(seeds[i % seeds.length], random);
  const outcome = kind ? await fuzzConfig(input, kind) : await fuzzWorkflow(input);
  if (typeof outcome === "object") {
    tally.bugs++;
    console.log(
      `bug in case ${i} (seed ${seed}, ${
        kind ?? "workflow"
      }):\n${outcome.bug}\n--- input ---\n${input}\n`,
    );
  } else tally[outcome]++;
}
console.log(
  `${cases} cases, seed ${seed}: ${tally.loaded} loaded, ${tally.refused} refused, ${tally.bugs} bugs ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)}s`,
);
if (tally.bugs) Deno.exit(1);

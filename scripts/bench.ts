/**
 * Whole-run benchmarks through the real CLI, reported as ratios measured in
 * one run (absolute times vary between machines):
 *   1. parallel_demo, parallel vs sequential, against its longest path (~1 s)
 *   2. four CPU-bound Lua steps, -j 1 vs -j 2 (target: close to 2x on 2 cores)
 *   3. Python start-up: a one-step run with an empty cache (cold) and with
 *      the cached snapshot (warm), against a one-step Lua run
 *   4. the cost of one more trivial Python step (101 steps vs 1, one run)
 *
 * Run: deno task bench:cli
 */

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = Number(Deno.env.get("HWFE_BENCH_RUNS") ?? 3);

const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-run"];
const CACHE = await Deno.makeTempDir({ prefix: "hwfe-bench-cache-" });

async function hwfe(args: string[], cacheDir = CACHE): Promise<number> {
  const start = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMISSIONS, "cli.ts", ...args],
    cwd: ROOT,
    env: { HWFE_CACHE_DIR: cacheDir },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return (performance.now() - start) / 1000;
}

async function median(args: string[], freshCache = false): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (!freshCache) {
      times.push(await hwfe(args));
      continue;
    }
    const empty = await Deno.makeTempDir({ prefix: "hwfe-bench-cold-" });
    times.push(await hwfe(args, empty));
    await Deno.remove(empty, { recursive: true });
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const cpuFile = await Deno.makeTempFile({ suffix: ".lua" });
const spin = "function run() local s = 0 for i = 1, 1e8 do s = s + i end return s end";
await Deno.writeTextFile(
  cpuFile,
  `workflow = { name = "cpu4", steps = {\n${
    [1, 2, 3, 4].map((i) => `  c${i} = { code = [[${spin}]] },`).join("\n")
  }\n} }\n`,
);

async function workflowFile(name: string, steps: string[]): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    file,
    `workflow = { name = "${name}", steps = {\n${steps.join("\n")}\n} }\n`,
  );
  return file;
}
const pyStep = (name: string, deps = "") =>
  `  ${name} = { language = "python", ${deps}code = "def run(inputs=None):\\n    return 1\\n" },`;
const python1 = await workflowFile("py1", [pyStep("s0")]);
const python101 = await workflowFile("py101", [
  pyStep("s0"),
  ...Array.from({ length: 100 }, (_, i) => pyStep(`s${i + 1}`, `depends_on = { "s${i}" }, `)),
]);
const lua1 = await workflowFile("lua1", [`  s0 = { code = "function run() return 1 end" },`]);

const demo = "workflows/parallel_demo.lua";
await hwfe(["run", python1]); // makes the cached snapshot the warm runs use
const parallel = await median(["run", "--allow-run", "--mode", "parallel", demo]);
const sequential = await median(["run", "--allow-run", "--mode", "sequential", demo]);
const j1 = await median(["run", "--mode", "parallel", "-j", "1", cpuFile]);
const j2 = await median(["run", "--mode", "parallel", "-j", "2", cpuFile]);

const pyCold = await median(["run", python1], true);
const pyWarm = await median(["run", python1]);
const luaOne = await median(["run", lua1]);
const py101 = await median(["run", python101]);

console.log(`hwfe whole-run benchmarks, median of ${RUNS}, wall seconds incl. Deno start-up`);
console.log(`parallel_demo parallel   ${parallel.toFixed(2)}s  (longest path ~1 s of work)`);
console.log(`parallel_demo sequential ${sequential.toFixed(2)}s  (sum of work ~3 s)`);
console.log(
  `4 CPU-bound Lua steps -j 1 ${j1.toFixed(2)}s, -j 2 ${j2.toFixed(2)}s: speed-up ${
    (j1 / j2).toFixed(2)
  }x`,
);
console.log(
  `one Python step: cold cache ${pyCold.toFixed(2)}s, warm cache ${pyWarm.toFixed(2)}s ` +
    `(one Lua step ${luaOne.toFixed(2)}s: Python start-up adds ${
      (pyCold - luaOne).toFixed(2)
    }s cold, ${(pyWarm - luaOne).toFixed(2)}s warm)`,
);
console.log(
  `101 trivial Python steps ${py101.toFixed(2)}s: ${
    ((py101 - pyWarm) / 100 * 1000).toFixed(2)
  } ms per extra step (incl. scheduling)`,
);
for (const file of [cpuFile, python1, python101, lua1]) await Deno.remove(file);
await Deno.remove(CACHE, { recursive: true });

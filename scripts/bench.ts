/**
 * Whole-run benchmarks through the real CLI, reported as ratios measured in
 * one run (absolute times vary between machines):
 *   1. parallel_demo, parallel vs sequential, against its longest path (~1 s)
 *   2. four CPU-bound Lua steps, -j 1 vs -j 2 (target: close to 2x on 2 cores)
 *
 * Run: deno task bench:cli
 */

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = Number(Deno.env.get("HWFE_BENCH_RUNS") ?? 3);

async function hwfe(args: string[]): Promise<number> {
  const start = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-env", "--allow-run", "cli.ts", ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return (performance.now() - start) / 1000;
}

async function median(args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await hwfe(args));
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

const demo = "workflows/parallel_demo.lua";
const parallel = await median(["run", "--allow-run", "--mode", "parallel", demo]);
const sequential = await median(["run", "--allow-run", "--mode", "sequential", demo]);
const j1 = await median(["run", "--mode", "parallel", "-j", "1", cpuFile]);
const j2 = await median(["run", "--mode", "parallel", "-j", "2", cpuFile]);

console.log(`hwfe whole-run benchmarks, median of ${RUNS}, wall seconds incl. Deno start-up`);
console.log(`parallel_demo parallel   ${parallel.toFixed(2)}s  (longest path ~1 s of work)`);
console.log(`parallel_demo sequential ${sequential.toFixed(2)}s  (sum of work ~3 s)`);
console.log(
  `4 CPU-bound Lua steps -j 1 ${j1.toFixed(2)}s, -j 2 ${j2.toFixed(2)}s: speed-up ${
    (j1 / j2).toFixed(2)
  }x`,
);
await Deno.remove(cpuFile);

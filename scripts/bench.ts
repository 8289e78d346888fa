/**
 * The benchmark suite (issue 6): generates each workload, runs hwfe and its
 * peers (GNU make with -j, Snakemake with --cores, each where installed) on
 * it several times, and writes docs/BENCHMARKS.md with the machine, the
 * versions, medians, min-max, ratios measured in this same run, and
 * whether each target is met. Micro-benchmarks (`deno bench`) are added
 * at the end.
 *
 * Run: deno task bench   (HWFE_BENCH_RUNS=N for more runs; default 5)
 *
 * HWFE_BENCH_ONLY=9 (or 1,9) runs only those workloads and prints their
 * figures without rewriting docs/BENCHMARKS.md, whose tables are of one
 * whole run.
 *
 * Wall times include starting each tool (Deno, make, Python). Peak RSS is
 * GNU time's maximum resident set of the largest single process.
 *
 * @module
 */

import { planLevels } from "../workflow/plan.ts";
import denoJson from "../deno.json" with { type: "json" };
import { v8FlagsArg } from "../_util/v8_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = Number(Deno.env.get("HWFE_BENCH_RUNS") ?? 5);
const OUT = `${ROOT}docs/BENCHMARKS.md`;
/** The heading of the hand-written part of docs/BENCHMARKS.md, kept across runs. */
const ANALYSIS = "## What bounds the rest";
/** How the `hwfe` task starts the CLI: its permissions and V8 flags. */
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
  v8FlagsArg(),
];
const CACHE = await Deno.makeTempDir({ prefix: "hwfe-bench-cache-" });
/** The run history of every benchmarked run: hwfe records runs by default. */
const DATA = await Deno.makeTempDir({ prefix: "hwfe-bench-data-" });
/** The workloads HWFE_BENCH_ONLY names, or undefined for all. */
const ONLY = Deno.env.get("HWFE_BENCH_ONLY")?.split(",").map(Number);
const wanted = (workload: number) => ONLY === undefined || ONLY.includes(workload);
const WORK = await Deno.makeTempDir({ prefix: "hwfe-bench-" });
const decoder = new TextDecoder();

interface Sample {
  seconds: number;
  /** Peak resident set of the largest process, KiB (0 when GNU time is missing). */
  rssKb: number;
}

interface Stats {
  median: number;
  min: number;
  max: number;
  rssKb: number;
}

async function exists(command: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v ${command}`],
      stdout: "piped",
    }).output();
    return out.success ? decoder.decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

const GNU_TIME = await exists("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** Runs a command once; fails loudly when it fails (a broken benchmark must not pass). */
async function measure(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Sample> {
  const rssFile = `${WORK}/rss`;
  const [cmd, argv] = GNU_TIME
    ? [GNU_TIME, ["-f", "%M", "-o", rssFile, command, ...args]]
    : [command, args];
  const start = performance.now();
  const output = await new Deno.Command(cmd, {
    args: argv,
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")} failed:\n${decoder.decode(output.stderr)}`);
  }
  const rssKb = GNU_TIME ? Number((await Deno.readTextFile(rssFile)).trim().split("\n").pop()) : 0;
  return { seconds, rssKb };
}

async function repeat(run: () => Promise<Sample>, runs = RUNS): Promise<Stats> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await run());
  return statsOf(samples);
}

/**
 * Two commands run in turn, `runs` times each, so that a machine's drift
 * (other load, a CPU's clock) weighs on both alike: a change and its control.
 */
async function alternate(
  a: () => Promise<Sample>,
  b: () => Promise<Sample>,
  runs = RUNS,
): Promise<[Stats, Stats]> {
  const samples: [Sample[], Sample[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    samples[0].push(await a());
    samples[1].push(await b());
  }
  return [statsOf(samples[0]), statsOf(samples[1])];
}

function statsOf(samples: Sample[]): Stats {
  const times = samples.map((s) => s.seconds).sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    min: times[0],
    max: times[times.length - 1],
    rssKb: Math.max(...samples.map((s) => s.rssKb)),
  };
}

function hwfe(args: string[], cacheDir = CACHE): Promise<Sample> {
  return measure(Deno.execPath(), ["run", "--quiet", ...PERMISSIONS, `${ROOT}cli.ts`, ...args], {
    env: { HWFE_CACHE_DIR: cacheDir, HWFE_DATA_DIR: DATA, NO_COLOR: "1" },
  });
}

/** A step of a generated workload: shell command, or code in a language. */
interface Node {
  name: string;
  deps: string[];
  shell?: string;
  language?: string;
  code?: string;
}

async function luaWorkflow(name: string, nodes: Node[]): Promise<string> {
  const file = `${WORK}/${name}.lua`;
  const steps = nodes.map((n) => {
    const deps = n.deps.length
      ? `depends_on = { ${n.deps.map((d) => `"${d}"`).join(", ")} }, `
      : "";
    const language = n.shell !== undefined ? "shell" : n.language ?? "lua";
    const code = n.shell ?? n.code ?? "";
    return `  ${n.name} = { language = "${language}", ${deps}code = [==[${code}]==] },`;
  });
  await Deno.writeTextFile(
    file,
    `workflow = { name = "${name}", steps = {\n${steps.join("\n")}\n} }\n`,
  );
  return file;
}

async function makefile(name: string, nodes: Node[], shell?: string): Promise<string> {
  const dir = `${WORK}/make-${name}${shell ? "-bash" : ""}`;
  await Deno.mkdir(dir, { recursive: true });
  const sinks = nodes.filter((n) => !nodes.some((m) => m.deps.includes(n.name))).map((n) => n.name);
  const rules = nodes.map((n) => `${n.name}:${n.deps.map((d) => ` ${d}`).join("")}\n\t@${n.shell}`);
  await Deno.writeTextFile(
    `${dir}/Makefile`,
    (shell ? `SHELL := ${shell}\n` : "") +
      `.PHONY: all ${nodes.map((n) => n.name).join(" ")}\nall: ${sinks.join(" ")}\n${
        rules.join("\n")
      }\n`,
  );
  return dir;
}

/** A Snakefile: each step writes a marker file, which is how Snakemake tracks what is done. */
async function snakefile(name: string, nodes: Node[]): Promise<string> {
  const dir = `${WORK}/snake-${name}`;
  await Deno.mkdir(dir, { recursive: true });
  const sinks = nodes.filter((n) => !nodes.some((m) => m.deps.includes(n.name)));
  const rules = nodes.map((n) =>
    `rule ${n.name}:\n` +
    (n.deps.length ? `    input: ${n.deps.map((d) => `"${d}.done"`).join(", ")}\n` : "") +
    `    output: "${n.name}.done"\n    shell: "${n.shell}; touch {output}"\n`
  );
  await Deno.writeTextFile(
    `${dir}/Snakefile`,
    `rule all:\n    input: ${sinks.map((n) => `"${n.name}.done"`).join(", ")}\n\n${
      rules.join("\n")
    }`,
  );
  return dir;
}

async function clean(dir: string, keep: string): Promise<void> {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name !== keep) await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
  }
}

const MAKE = await exists("make");
const SNAKEMAKE = await exists("snakemake");

async function version(command: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    return decoder.decode(out.stdout).split("\n")[0].trim();
  } catch {
    return "not installed";
  }
}

// ---------------------------------------------------------------------------
// Report

interface Row {
  workload: string;
  tool: string;
  stats?: Stats;
  /** A figure other than wall time, already formatted. */
  value?: string;
  note?: string;
}

interface Target {
  what: string;
  measured: string;
  met: boolean;
}

const rows: Row[] = [];
const targets: Target[] = [];
const notes: string[] = [];
const fmt = (s: number) => `${s.toFixed(2)} s`;
const mb = (kb: number) => kb ? `${Math.round(kb / 1024)} MB` : "";

function row(workload: string, tool: string, stats: Stats, note?: string): Stats {
  rows.push({ workload, tool, stats, note });
  console.error(
    `${workload} / ${tool}: ${fmt(stats.median)} (${fmt(stats.min)}-${fmt(stats.max)})`,
  );
  return stats;
}

function target(what: string, measured: string, met: boolean): void {
  targets.push({ what, measured, met });
  console.error(`${met ? "met" : "MISSED"}: ${what}: ${measured}`);
}

/** A row for GNU make with -j 4 on the DAG (with `shell` as its SHELL); undefined without make. */
async function makeRow(
  workload: string,
  name: string,
  nodes: Node[],
  shell?: string,
): Promise<Stats | undefined> {
  if (!MAKE) return undefined;
  const make = MAKE;
  const dir = await makefile(name, nodes, shell);
  return row(
    workload,
    shell ? "make -j 4, SHELL := bash" : "make -j 4",
    await repeat(() => measure(make, ["-s", "-j", "4"], { cwd: dir })),
  );
}

/**
 * GNU make with -j 4 on the same DAG (a row), and the target hwfe / make at
 * most `most`; a note instead when make is missing.
 */
async function versusMake(
  workload: string,
  name: string,
  nodes: Node[],
  hwfeStats: Stats,
  goal?: { what: string; most: number },
): Promise<void> {
  const m = await makeRow(workload, name, nodes);
  if (!m) {
    notes.push(`make is not installed: no make figures for workload ${workload}.`);
    return;
  }
  if (!goal) return;
  const ratio = hwfeStats.median / m.median;
  target(`${goal.what}: hwfe / make at most ${goal.most}`, ratio.toFixed(2), ratio <= goal.most);
}

// ---------------------------------------------------------------------------
// Workloads

// Warm the Python snapshot the warm runs use.
await hwfe([
  "run",
  await luaWorkflow("warm", [{
    name: "p",
    deps: [],
    language: "python",
    code: "def run(): return 1",
  }]),
]);

// 1. parallel_demo.
if (wanted(1)) {
  const demo = `${ROOT}workflows/parallel_demo.lua`;
  const parallel = row(
    "1. parallel_demo",
    "hwfe parallel",
    await repeat(() => hwfe(["run", "--allow-run", "--mode", "parallel", demo])),
  );
  const sequential = row(
    "1. parallel_demo",
    "hwfe sequential",
    await repeat(() => hwfe(["run", "--allow-run", "--mode", "sequential", demo])),
  );
  // Its steps' own work: the longest path and the sum (from a run's JSON).
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...PERMISSIONS,
      `${ROOT}cli.ts`,
      "run",
      "--allow-run",
      "--json",
      "-q",
      "--mode",
      "sequential",
      demo,
    ],
    cwd: ROOT,
    env: { HWFE_CACHE_DIR: CACHE, HWFE_DATA_DIR: DATA },
    stdout: "piped",
  }).output();
  const result = JSON.parse(decoder.decode(out.stdout));
  const steps = result.steps as Record<string, { duration: number; level: number }>;
  const sum = Object.values(steps).reduce((a, s) => a + s.duration, 0);
  const longest = (result.levels as string[][]).reduce(
    (a, level) => a + Math.max(...level.map((name) => steps[name].duration)),
    0,
  );
  notes.push(
    `parallel_demo's own work, from a sequential run's step durations: longest path ${
      fmt(longest)
    }, sum ${fmt(sum)}.`,
  );
  target(
    "parallel_demo parallel within 0.3 s of its longest path",
    `${fmt(parallel.median)} vs ${fmt(longest)}: +${fmt(parallel.median - longest)}`,
    parallel.median - longest <= 0.3,
  );
  target(
    "parallel_demo sequential within 0.5 s of the sum of its work",
    `${fmt(sequential.median)} vs ${fmt(sum)}: +${fmt(sequential.median - sum)}`,
    sequential.median - sum <= 0.5,
  );
}

// 2. Fan-out/fan-in of 8 `sleep 1` with -j 4 (floor 2 s).
if (wanted(2)) {
  const nodes: Node[] = [
    { name: "start", deps: [], shell: "true" },
    ...Array.from({ length: 8 }, (_, i) => ({ name: `w${i}`, deps: ["start"], shell: "sleep 1" })),
    { name: "join", deps: Array.from({ length: 8 }, (_, i) => `w${i}`), shell: "true" },
  ];
  const file = await luaWorkflow("fanout", nodes);
  const h = row(
    "2. fan-out/fan-in, 8 x sleep 1, -j 4",
    "hwfe",
    await repeat(() => hwfe(["run", "--allow-run", "--mode", "parallel", "-j", "4", file])),
  );
  await versusMake("2. fan-out/fan-in, 8 x sleep 1, -j 4", "fanout", nodes, h, {
    what: "fan-out/fan-in",
    most: 1.05,
  });
  if (SNAKEMAKE) {
    const dir = await snakefile("fanout", nodes);
    const s = row(
      "2. fan-out/fan-in, 8 x sleep 1, -j 4",
      "snakemake --cores 4",
      await repeat(async () => {
        await clean(dir, "Snakefile");
        return measure(SNAKEMAKE, ["-q", "--cores", "4"], { cwd: dir });
      }, Math.min(RUNS, 3)),
    );
    notes.push(`fan-out/fan-in: hwfe / snakemake = ${(h.median / s.median).toFixed(2)}.`);
  } else {
    notes.push("snakemake is not installed (Debian: apt install snakemake): no Snakemake figures.");
  }
}

// 3. 500 trivial shell steps in one level, -j 4.
if (wanted(3)) {
  const nodes: Node[] = Array.from(
    { length: 500 },
    (_, i) => ({ name: `t${i}`, deps: [], shell: "true" }),
  );
  const file = await luaWorkflow("trivial_shell", nodes);
  const h = row(
    "3. 500 x `true` in one level, -j 4",
    "hwfe",
    await repeat(() => hwfe(["run", "--allow-run", "-q", "--mode", "parallel", "-j", "4", file])),
  );
  await versusMake("3. 500 x `true` in one level, -j 4", "trivial", nodes, h, {
    what: "500 trivial shell steps",
    most: 1.5,
  });
  // For context: a hwfe shell step is a bash script, while make runs a
  // recipe with /bin/sh, or with nothing at all when it is one command.
  const bash = await exists("bash");
  const m = bash && await makeRow("3. 500 x `true` in one level, -j 4", "trivial", nodes, bash);
  if (m) {
    notes.push(
      `500 trivial shell steps: hwfe / make with bash as its shell = ${
        (h.median / m.median).toFixed(2)
      }.`,
    );
  }
}

// 4. Trivial Lua, JavaScript and Python steps: steps per second. Python's
// steps are rewound on their worker after each one (issue 14), which is
// most of what a warm Python step costs.
for (
  const [language, code, count, perSecond] of [
    ["lua", "function run() return 1 end", 2000, 2000],
    ["javascript", "function run() { return 1; }", 2000, 2000],
    ["python", "def run(): return 1", 500, 200],
  ] as const
) {
  if (!wanted(4)) break;
  const workload = `4. trivial ${language} steps, -j 0 (CPUs)`;
  const one = await luaWorkflow(`one_${language}`, [{ name: "s0", deps: [], language, code }]);
  const many = await luaWorkflow(
    `many_${language}`,
    Array.from({ length: count }, (_, i) => ({ name: `s${i}`, deps: [], language, code })),
  );
  const base = row(
    workload,
    "hwfe, 1 step",
    await repeat(() => hwfe(["run", "-q", "--mode", "parallel", "-j", "0", one])),
  );
  const all = row(
    workload,
    `hwfe, ${count.toLocaleString("en")} steps`,
    await repeat(() => hwfe(["run", "-q", "--mode", "parallel", "-j", "0", many])),
  );
  const rate = (count - 1) / (all.median - base.median);
  rows.push({ workload, tool: "steps per second (beyond the first)", value: rate.toFixed(0) });
  target(
    `${language}: at least ${perSecond.toLocaleString("en")} trivial steps per second`,
    `${rate.toFixed(0)} per second`,
    rate >= perSecond,
  );
}

// 5. Four CPU-bound steps per language, -j 1 and -j 2, against what this
// machine gives native code in the same minutes.
if (wanted(5)) {
  const runs = Math.min(RUNS, 3);
  // One busy shell loop against two at once (a VM's cores may share a physical one).
  const loop = "i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); done";
  const one = await repeat(() => measure("sh", ["-c", loop]), runs);
  const two = await repeat(() => measure("sh", ["-c", `(${loop}) & (${loop}) & wait`]), runs);
  const native = (2 * one.median) / two.median;
  notes.push(
    `CPU-bound: two busy shell loops at once ran ${native.toFixed(2)}x as fast as one after the ` +
      `other on this machine in this run (the ceiling for any tool).`,
  );
  const spins: Record<string, string> = {
    lua: "function run() local s = 0 for i = 1, 1e8 do s = s + i end return s end",
    javascript: "function run() { let s = 0; for (let i = 0; i < 4e7; i++) s += i % 7; return s; }",
    python:
      "def run():\n    s = 0\n    for i in range(12000000):\n        s += i % 7\n    return s\n",
  };
  for (const [language, spin] of Object.entries(spins)) {
    const file = await luaWorkflow(
      `cpu4-${language}`,
      Array.from({ length: 4 }, (_, i) => ({ name: `c${i}`, deps: [], language, code: spin })),
    );
    const workload = `5. 4 CPU-bound ${language} steps`;
    const j1 = row(
      workload,
      "hwfe -j 1",
      await repeat(() => hwfe(["run", "-q", "--mode", "parallel", "-j", "1", file]), runs),
    );
    const j2 = row(
      workload,
      "hwfe -j 2",
      await repeat(() => hwfe(["run", "-q", "--mode", "parallel", "-j", "2", file]), runs),
    );
    const speedUp = j1.median / j2.median;
    target(
      `4 CPU-bound ${language} steps: -j 2 at least 1.8x faster than -j 1, 0.9 of native`,
      `${speedUp.toFixed(2)}x (native code: ${native.toFixed(2)}x)`,
      speedUp >= 1.8 && speedUp >= 0.9 * native,
    );
  }
}

// 6. A 100,000-step DAG: planning in this process; the whole CLI on a file.
if (wanted(6)) {
  const WIDTH = 100, DEPTH = 1000;
  const nodes: { name: string; dependsOn: string[] }[] = [];
  for (let level = 0; level < DEPTH; level++) {
    for (let i = 0; i < WIDTH; i++) {
      nodes.push({
        name: `s${level}_${i}`,
        dependsOn: level ? [`s${level - 1}_${i}`, `s${level - 1}_${(i * 7 + 3) % WIDTH}`] : [],
      });
    }
  }
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    planLevels(nodes);
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  const plan = {
    median: times[Math.floor(RUNS / 2)],
    min: times[0],
    max: times[RUNS - 1],
    rssKb: 0,
  };
  row("6. 100,000-step DAG", "planLevels() in-process", plan);
  const file = await luaWorkflow(
    "big",
    nodes.map((n) => ({ name: n.name, deps: n.dependsOn, code: "function run() end" })),
  );
  const cli = row(
    "6. 100,000-step DAG",
    "hwfe plan (load, validate, plan, print)",
    await repeat(() => hwfe(["plan", file]), Math.min(RUNS, 3)),
  );
  target("100,000 steps: plan in under 1 s", fmt(plan.median), plan.median < 1);
  target(
    "100,000 steps: hwfe plan under 500 MB",
    mb(cli.rssKb),
    cli.rssKb > 0 && cli.rssKb < 500 * 1024,
  );
}

// 7. Start-up: one trivial step per language, cold (empty cache) and warm.
if (wanted(7)) {
  const one: Record<string, Node> = {
    lua: { name: "s", deps: [], language: "lua", code: "function run() return 1 end" },
    shell: { name: "s", deps: [], shell: "echo 1" },
    python: { name: "s", deps: [], language: "python", code: "def run(): return 1" },
    javascript: {
      name: "s",
      deps: [],
      language: "javascript",
      code: "function run() { return 1; }",
    },
    typescript: {
      name: "s",
      deps: [],
      language: "typescript",
      code: "function run(): number { return 1; }",
    },
    wasm: {
      name: "s",
      deps: [],
      language: "wasm",
      code: '(module (func (export "run") (result i32) (i32.const 0)))',
    },
  };
  for (const [language, node] of Object.entries(one)) {
    const file = await luaWorkflow(`start_${language}`, [node]);
    const args = ["run", "-q", "--allow-run", file];
    const cold = row(
      "7. one trivial step",
      `${language}, cold cache`,
      await repeat(async () => {
        const empty = await Deno.makeTempDir({ prefix: "hwfe-bench-cold-" });
        try {
          return await hwfe(args, empty);
        } finally {
          await Deno.remove(empty, { recursive: true });
        }
      }, Math.min(RUNS, 3)),
    );
    const warm = row("7. one trivial step", `${language}, warm`, await repeat(() => hwfe(args)));
    rows.push({
      workload: "7. one trivial step",
      tool: `${language}, peak RSS`,
      value: mb(Math.max(cold.rssKb, warm.rssKb)),
    });
    if (language === "lua" || language === "shell") {
      target(`one ${language} step under 150 ms`, fmt(warm.median), warm.median < 0.15);
    }
    if (language === "python") {
      target("one Python step under 500 ms warm", fmt(warm.median), warm.median < 0.5);
    }
  }
}

// 8. A skewed DAG: one slow step beside fast ones whose dependents could start.
if (wanted(8)) {
  const nodes: Node[] = [
    { name: "slow", deps: [], shell: "sleep 1" },
    { name: "after_slow", deps: ["slow"], shell: "sleep 0.1" },
    ...[0, 1, 2].flatMap((i) => [
      { name: `fast${i}`, deps: [], shell: "sleep 0.1" },
      { name: `after_fast${i}`, deps: [`fast${i}`], shell: "sleep 1" },
    ]),
  ];
  const file = await luaWorkflow("skewed", nodes);
  const strategy = (name: "levels" | "eager") =>
    repeat(() =>
      hwfe(["run", "--allow-run", "-q", "--mode", "parallel", "-j", "4", "--strategy", name, file])
    );
  const levels = row("8. skewed DAG, -j 4", "hwfe levels", await strategy("levels"));
  const eager = row("8. skewed DAG, -j 4", "hwfe eager", await strategy("eager"));
  target(
    "skewed DAG: eager at least 1.3x faster than levels",
    `${(levels.median / eager.median).toFixed(2)}x`,
    levels.median / eager.median >= 1.3,
  );
  await versusMake("8. skewed DAG, -j 4", "skewed", nodes, eager);
}

// 9. The run history (issue 19): every run is recorded unless --no-history.
// The same runs with --no-history, in turn with them, are the control.
if (wanted(9)) {
  const demo = `${ROOT}workflows/parallel_demo.lua`;
  const trivial = await luaWorkflow(
    "history_2000",
    Array.from({ length: 2000 }, (_, i) => ({
      name: `s${i}`,
      deps: [],
      language: "lua",
      code: `function run() print("step ${i}") return ${i} end`,
    })),
  );
  const cases = [
    ["parallel_demo", ["run", "--allow-run", "--mode", "parallel", demo], 0.05],
    [
      "2,000 trivial lua steps, a line of output each, -j 0",
      ["run", "-q", "--mode", "parallel", "-j", "0", trivial],
      0.2,
    ],
  ] as const;
  for (const [what, args, most] of cases) {
    const workload = `9. history: ${what}`;
    const [recorded, control] = await alternate(
      () => hwfe([...args]),
      () => hwfe([...args, "--no-history"]),
    );
    row(workload, "hwfe (recorded)", recorded);
    row(workload, "hwfe --no-history (control)", control);
    const cost = recorded.median / control.median - 1;
    target(
      `recording history costs under ${most * 100}% on ${what}`,
      `${(cost * 100).toFixed(1)}% (${fmt(recorded.median)} vs ${fmt(control.median)})`,
      cost < most,
    );
  }
  const { size } = await Deno.stat(`${DATA}/history.db`);
  notes.push(`The history of every run of this benchmark: ${Math.round(size / 1024)} KiB.`);
}

if (ONLY !== undefined) {
  // Part of a run: its figures, not a new docs/BENCHMARKS.md.
  console.log(
    targets.map((t) => `${t.met ? "met" : "MISSED"}: ${t.what}: ${t.measured}`).join("\n"),
  );
  await Deno.remove(WORK, { recursive: true });
  await Deno.remove(CACHE, { recursive: true });
  await Deno.remove(DATA, { recursive: true });
  Deno.exit(0);
}

// Micro-benchmarks: every layer but runners/, whose benches start runtimes.
const MICRO_BENCH_DIRS = [
  "_util/",
  "lua/",
  "workflow/",
  "engine/",
  "host/",
  "store/",
  "api/",
  "cli/",
];
const micro = await new Deno.Command(Deno.execPath(), {
  args: ["bench", "--json", "--allow-read", "--allow-write", "--allow-env", ...MICRO_BENCH_DIRS],
  cwd: ROOT,
  stdout: "piped",
  stderr: "null",
}).output();
const microRows: string[] = [];
try {
  const report = JSON.parse(decoder.decode(micro.stdout)) as {
    benches: { name: string; results: { ok?: { avg: number; min: number; max: number } }[] }[];
  };
  for (const bench of report.benches) {
    const ok = bench.results[0]?.ok;
    if (!ok) continue;
    const t = (ns: number) =>
      ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`;
    microRows.push(`| ${bench.name} | ${t(ok.avg)} | ${t(ok.min)} - ${t(ok.max)} |`);
  }
} catch {
  notes.push("deno bench --json gave no report; run `deno task bench:micro`.");
}

// ---------------------------------------------------------------------------
// docs/BENCHMARKS.md

// /proc files report size 0, which Deno's readTextFile takes at its word.
const cpuinfo = await new Deno.Command("cat", {
  args: ["/proc/cpuinfo"],
  stdout: "piped",
  stderr: "null",
})
  .output().then((o) => decoder.decode(o.stdout)).catch(() => "");
const cpu = cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
const memGb = Math.round(Deno.systemMemoryInfo().total / 1024 ** 3);
const lines = [
  "# Benchmarks",
  "",
  `Written by \`deno task bench\` (scripts/bench.ts) on ${
    new Date().toISOString().slice(0, 10)
  }; every ratio below`,
  "compares figures measured in this one run. Wall times include each tool's own start-up (Deno,",
  "make, Snakemake's Python); peak RSS is the largest single process (GNU time). Median of",
  `${RUNS} runs (3 for the slowest workloads), with min-max.`,
  "",
  `- Machine: ${cpu}, ${navigator.hardwareConcurrency} cores, ${memGb} GiB, ${Deno.build.os} ${Deno.build.arch}`,
  `- hwfe ${denoJson.version}, Deno ${Deno.version.deno}; ${await version("make", [
    "--version",
  ])}; Snakemake ${SNAKEMAKE ? await version(SNAKEMAKE, ["--version"]) : "not installed"}`,
  "- Reproduce: `deno task bench` (`HWFE_BENCH_RUNS=N` for more runs)",
  "",
  "## Targets",
  "",
  "| target | measured | |",
  "| --- | --- | --- |",
  ...targets.map((t) => `| ${t.what} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`),
  "",
  "## Results",
  "",
  "| workload | tool | median | min - max | peak RSS |",
  "| --- | --- | --- | --- | --- |",
  ...rows.map((r) =>
    r.stats
      ? `| ${r.workload} | ${r.tool} | ${fmt(r.stats.median)} | ${fmt(r.stats.min)} - ${
        fmt(r.stats.max)
      } | ${mb(r.stats.rssKb)} |`
      : `| ${r.workload} | ${r.tool} | ${r.value} | | |`
  ),
  "",
  ...notes.map((n) => `- ${n}`),
  "",
  "## Micro-benchmarks (`deno bench` of every layer but runners/)",
  "",
  "| benchmark | average | min - max |",
  "| --- | --- | --- |",
  ...microRows,
  "",
];
// The hand-written analysis below the figures is kept from the file as it was.
const previous = await Deno.readTextFile(OUT).catch(() => "");
const at = previous.indexOf(ANALYSIS);
await Deno.writeTextFile(OUT, lines.join("\n") + (at >= 0 ? `\n${previous.slice(at)}` : ""));
// Formatted as the repository's other files (deno task test checks it).
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", OUT], cwd: ROOT }).output();
await Deno.remove(WORK, { recursive: true });
await Deno.remove(CACHE, { recursive: true });
await Deno.remove(DATA, { recursive: true });
console.error(`wrote ${OUT}`);

import assert from "node:assert/strict";
import { ConfigError } from "../_util/errors.ts";
import { IMPLIED_BY_J, resolveConfig, runOptionsFrom } from "./config.ts";
import { DEFAULT_SETTINGS } from "../engine/settings.ts";

const files = (map: Record<string, string>) => (path: string) => Promise.resolve(map[path]);

Deno.test("resolveConfig() uses the reference engine's defaults without a file", async () => {
  const config = await resolveConfig({ env: {}, flags: {}, readTextFile: files({}) });
  assert.deepEqual(config.settings, {
    mode: "sequential",
    strategy: "levels",
    onFailure: "cancel",
    maxParallelSteps: 4,
    enableStepParallelism: false,
    workflowsDirectory: "workflows",
    maxModuleMb: 256,
    stepTimeout: undefined,
    stepMemoryMb: undefined,
    maxOutputMb: undefined,
    maxResultMb: undefined,
  });
  assert.equal(config.file, undefined);
  assert.equal(config.sources.mode, "default");
});

Deno.test("resolveConfig() prefers config.toml over config.json and config.yaml", async () => {
  const config = await resolveConfig({
    env: {},
    flags: {},
    readTextFile: files({
      "config.toml": `[execution]\nmode = "parallel"`,
      "config.json": `{"execution": {"mode": "sequential"}}`,
    }),
  });
  assert.equal(config.file, "config.toml");
  assert.equal(config.settings.mode, "parallel");
});

Deno.test("resolveConfig(): flag over environment over file, with sources", async () => {
  const config = await resolveConfig({
    env: {
      HWFE_EXECUTION_MODE: "parallel",
      HWFE_MAX_PARALLEL_STEPS: "8",
      HWFE_ENABLE_PARALLELISM: "yes",
    },
    flags: { maxParallelSteps: 2 },
    flagNames: { maxParallelSteps: "-j/--max-parallel" },
    readTextFile: files({
      "config.yml": "execution:\n  mode: sequential\n  max_parallel_steps: 6\n",
    }),
  });
  assert.deepEqual(config.settings, {
    mode: "parallel",
    strategy: "levels",
    onFailure: "cancel",
    maxParallelSteps: 2,
    enableStepParallelism: true,
    workflowsDirectory: "workflows",
    maxModuleMb: 256,
    stepTimeout: undefined,
    stepMemoryMb: undefined,
    maxOutputMb: undefined,
    maxResultMb: undefined,
  });
  assert.deepEqual(config.sources, {
    mode: "environment HWFE_EXECUTION_MODE",
    strategy: "default",
    onFailure: "default",
    maxParallelSteps: "flag -j/--max-parallel",
    enableStepParallelism: "environment HWFE_ENABLE_PARALLELISM",
    workflowsDirectory: "default",
    maxModuleMb: "default",
    stepTimeout: "default",
    stepMemoryMb: "default",
    maxOutputMb: "default",
    maxResultMb: "default",
  });
});

Deno.test("resolveConfig() names the source of a bad value", async () => {
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: {},
      readTextFile: files({ "config.toml": `[execution]\nmax_parallel_steps = -1` }),
    }),
    /config\.toml: execution\.max_parallel_steps must be a whole number from 0 to 1024 \(0 = number of CPUs\), got -1/,
  );
  await assert.rejects(
    resolveConfig({
      env: { HWFE_ENABLE_PARALLELISM: "maybe" },
      flags: {},
      readTextFile: files({}),
    }),
    /HWFE_ENABLE_PARALLELISM must be true or false, got "maybe"/,
  );
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: {},
      readTextFile: files({ "config.toml": `[execution\nmode=1` }),
    }),
    (error) => error instanceof ConfigError && /^config\.toml: not valid TOML/.test(error.message),
  );
});

Deno.test("resolveConfig() warns about unknown sections and keys with a hint", async () => {
  const config = await resolveConfig({
    env: {},
    flags: {},
    readTextFile: files({
      "config.toml": `[execution]\nmax_paralel_steps = 2\n[logging]\nlevel = "x"`,
    }),
  });
  assert.deepEqual(config.warnings, [
    "config.toml: unknown key 'execution.max_paralel_steps' is ignored (did you mean 'execution.max_parallel_steps'?)",
    "config.toml: unknown section 'logging' is ignored",
  ]);
});

Deno.test("runOptionsFrom(): parallelism from mode and -j, sizes in MiB as bytes", () => {
  const settings = {
    ...DEFAULT_SETTINGS,
    mode: "parallel" as const,
    maxParallelSteps: 0,
    maxResultMb: 1.5,
    maxOutputMb: 2,
    stepTimeout: 30,
  };
  const options = runOptionsFrom(settings, 2);
  assert.equal(options.maxParallel, 2);
  assert.equal(options.maxResultBytes, 1.5 * 1024 * 1024);
  assert.equal(options.maxOutputChars, 2 * 1024 * 1024);
  assert.equal(options.maxModuleBytes, 256 * 1024 * 1024);
  assert.equal(options.stepTimeout, 30);
  assert.equal(options.stepMemoryMb, undefined);
  assert.equal(runOptionsFrom({ ...settings, mode: "sequential" }, 2).maxParallel, 1);
});

Deno.test("resolveConfig(): strategy from [execution], HWFE_EXECUTION_STRATEGY and --strategy", async () => {
  const file = files({ "config.toml": `[execution]\nstrategy = "eager"\nmode = "parallel"` });
  const fromFile = await resolveConfig({ env: {}, flags: {}, readTextFile: file });
  assert.equal(fromFile.settings.strategy, "eager");
  assert.equal(fromFile.sources.strategy, "file config.toml");
  const fromEnv = await resolveConfig({
    env: { HWFE_EXECUTION_STRATEGY: "LEVELS" },
    flags: {},
    readTextFile: file,
  });
  assert.equal(fromEnv.settings.strategy, "levels");
  const fromFlag = await resolveConfig({
    env: { HWFE_EXECUTION_STRATEGY: "levels" },
    flags: { strategy: "eager" },
    flagNames: { strategy: "--strategy" },
    readTextFile: file,
  });
  assert.equal(fromFlag.settings.strategy, "eager");
  assert.equal(fromFlag.sources.strategy, "flag --strategy");
  await assert.rejects(
    resolveConfig({
      env: { HWFE_EXECUTION_STRATEGY: "greedy" },
      flags: {},
      readTextFile: files({}),
    }),
    /HWFE_EXECUTION_STRATEGY must be "levels" or "eager", got "greedy"/,
  );
});

Deno.test("resolveConfig() refuses max_parallel_steps beyond 1024 from a file, the environment and a flag", async () => {
  const range = "a whole number from 0 to 1024 \\(0 = number of CPUs\\)";
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: {},
      readTextFile: files({ "config.toml": `[execution]\nmax_parallel_steps = 1e308` }),
    }),
    new RegExp(
      `^ConfigError: config\\.toml: execution\\.max_parallel_steps must be ${range}, got 1e\\+308$`,
    ),
  );
  await assert.rejects(
    resolveConfig({
      env: { HWFE_MAX_PARALLEL_STEPS: "999999999999999999999" },
      flags: {},
      readTextFile: files({}),
    }),
    new RegExp(`^ConfigError: HWFE_MAX_PARALLEL_STEPS="999999999999999999999" is not ${range}$`),
  );
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: { maxParallelSteps: 1025 },
      flagNames: { maxParallelSteps: "-j/--max-parallel" },
      readTextFile: files({}),
    }),
    new RegExp(`^ConfigError: -j/--max-parallel must be ${range}, got 1025$`),
  );
  const edge = await resolveConfig({
    env: { HWFE_MAX_PARALLEL_STEPS: "1024" },
    flags: {},
    readTextFile: files({}),
  });
  assert.equal(edge.settings.maxParallelSteps, 1024);
});

Deno.test("resolveConfig() names a value that contains itself rather than failing to print it", async () => {
  for (
    const [name, text] of [
      ["config.yaml", "execution: &a\n  mode: *a\n"],
      ["config.yml", "execution:\n  max_parallel_steps: &b [*b]\n"],
    ]
  ) {
    await assert.rejects(
      resolveConfig({ env: {}, flags: {}, readTextFile: files({ [name]: text }) }),
      (error) =>
        error instanceof ConfigError &&
        new RegExp(`^${name.replace(".", "\\.")}: execution\\.(mode|max_parallel_steps) must be `)
          .test(error.message) &&
        / got a (table|list)$/.test(error.message),
    );
  }
});

Deno.test("resolveConfig(): max_module_mb from [execution] and HWFE_MAX_MODULE_MB, 1 to 1024", async () => {
  const fromFile = await resolveConfig({
    env: {},
    flags: {},
    readTextFile: files({ "config.toml": `[execution]\nmax_module_mb = 16` }),
  });
  assert.equal(fromFile.settings.maxModuleMb, 16);
  const fromEnv = await resolveConfig({
    env: { HWFE_MAX_MODULE_MB: "512" },
    flags: {},
    readTextFile: files({}),
  });
  assert.deepEqual(
    [fromEnv.settings.maxModuleMb, fromEnv.sources.maxModuleMb],
    [512, "environment HWFE_MAX_MODULE_MB"],
  );
  await assert.rejects(
    resolveConfig({ env: { HWFE_MAX_MODULE_MB: "2048" }, flags: {}, readTextFile: files({}) }),
    /^ConfigError: HWFE_MAX_MODULE_MB must be a whole number of MiB from 1 to 1024, got "2048"$/,
  );
});

Deno.test("resolveConfig() refuses a configuration path that is not a regular file, without reading it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-config-" });
  try {
    await assert.rejects(
      resolveConfig({ configPath: "/dev/zero", env: {}, flags: {} }),
      /^ConfigError: \/dev\/zero: cannot read configuration: it is a character device; give a regular file$/,
    );
    await assert.rejects(
      resolveConfig({ configPath: dir, env: {}, flags: {} }),
      /cannot read configuration: it is a directory; give a regular file$/,
    );
    const big = `${dir}/big.json`;
    await Deno.writeTextFile(big, " ".repeat(1024 * 1024 + 1));
    await assert.rejects(
      resolveConfig({ configPath: big, env: {}, flags: {} }),
      /cannot read configuration: it holds 1048577 bytes, more than the 1048576 a configuration may/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveConfig(): -j alone means parallel; a mode from anywhere else stays", async () => {
  const names = { maxParallelSteps: "-j/--max-parallel", mode: "--mode", strategy: "--strategy" };
  const alone = await resolveConfig({
    env: {},
    flags: { maxParallelSteps: 8 },
    flagNames: names,
    readTextFile: files({}),
  });
  assert.equal(alone.settings.mode, "parallel");
  assert.equal(alone.sources.mode, IMPLIED_BY_J);
  assert.deepEqual(alone.warnings, []);
  // A mode from the environment (or a file) is a choice: -j does nothing, and says so.
  const fromEnv = await resolveConfig({
    env: { HWFE_EXECUTION_MODE: "sequential" },
    flags: { maxParallelSteps: 8 },
    flagNames: names,
    readTextFile: files({}),
  });
  assert.equal(fromEnv.settings.mode, "sequential");
  assert.deepEqual(fromEnv.warnings, [
    "-j/--max-parallel 8 is ignored: the mode is sequential (environment HWFE_EXECUTION_MODE); " +
    "add --mode parallel to run steps at once",
  ]);
  // HWFE_MAX_PARALLEL_STEPS is a setting for parallel runs, not a request for one.
  const envJ = await resolveConfig({
    env: { HWFE_MAX_PARALLEL_STEPS: "8" },
    flags: {},
    readTextFile: files({}),
  });
  assert.equal(envJ.settings.mode, "sequential");
});

Deno.test("resolveConfig(): the command line against itself is a usage error", async () => {
  const names = { maxParallelSteps: "-j/--max-parallel", mode: "--mode", strategy: "--strategy" };
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: { mode: "sequential", maxParallelSteps: 8 },
      flagNames: names,
      readTextFile: files({}),
    }),
    (error: Error) =>
      error instanceof ConfigError &&
      error.message ===
        "--mode sequential runs one step at a time, but -j/--max-parallel 8 asks for 8: give " +
          "one of them (-j/--max-parallel alone means parallel)",
  );
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: { strategy: "eager" },
      flagNames: names,
      readTextFile: files({ "config.toml": '[execution]\nmode = "sequential"\n' }),
    }),
    (error: Error) =>
      error instanceof ConfigError &&
      error.message ===
        "--strategy eager starts each step when its dependencies end, which needs parallel " +
          "mode; the mode is sequential (file config.toml): add --mode parallel or " +
          "-j/--max-parallel N",
  );
});

import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { effectiveParallelism, resolveConfig } from "./config.ts";

const files = (map: Record<string, string>) => (path: string) => Promise.resolve(map[path]);

Deno.test("resolveConfig() uses the reference engine's defaults without a file", async () => {
  const config = await resolveConfig({ env: {}, flags: {}, readTextFile: files({}) });
  assert.deepEqual(config.settings, {
    mode: "sequential",
    strategy: "levels",
    maxParallelSteps: 4,
    enableStepParallelism: false,
    workflowsDirectory: "workflows",
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
    maxParallelSteps: 2,
    enableStepParallelism: true,
    workflowsDirectory: "workflows",
  });
  assert.deepEqual(config.sources, {
    mode: "environment HWFE_EXECUTION_MODE",
    strategy: "default",
    maxParallelSteps: "flag -j/--max-parallel",
    enableStepParallelism: "environment HWFE_ENABLE_PARALLELISM",
    workflowsDirectory: "default",
  });
});

Deno.test("resolveConfig() names the source of a bad value", async () => {
  await assert.rejects(
    resolveConfig({
      env: {},
      flags: {},
      readTextFile: files({ "config.toml": `[execution]\nmax_parallel_steps = -1` }),
    }),
    /config\.toml: execution\.max_parallel_steps must be a whole number \(0 = number of CPUs\), got -1/,
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

Deno.test("effectiveParallelism(): 1 when sequential, the CPU count for 0", () => {
  const base = {
    mode: "parallel" as const,
    strategy: "levels" as const,
    maxParallelSteps: 0,
    enableStepParallelism: false,
    workflowsDirectory: "w",
  };
  assert.equal(effectiveParallelism(base, 2), 2);
  assert.equal(effectiveParallelism({ ...base, maxParallelSteps: 6 }, 2), 6);
  assert.equal(effectiveParallelism({ ...base, mode: "sequential" }, 2), 1);
});

Deno.test("resolveConfig(): strategy from [execution], HWFE_EXECUTION_STRATEGY and --strategy", async () => {
  const file = files({ "config.toml": `[execution]\nstrategy = "eager"` });
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

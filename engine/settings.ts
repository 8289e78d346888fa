/**
 * Every run setting, declared once: its name, its `config.toml` key, its
 * `HWFE_*` variable, its `hwfe run` flag, its default, its limits and its
 * help text. The configuration reader (api/config.ts) and the command line
 * (cli/) are built from this table, and the scheduler checks the library's
 * options against the same limits, so a new setting is one entry here plus
 * the code that uses it.
 *
 * @module
 */

import type { ExecutionMode, OnFailure, Strategy } from "./events.ts";
import { MAX_MEMORY_MB, MAX_TIMEOUT_SECONDS } from "../workflow/model.ts";

/** Resolved settings. */
export interface Settings {
  mode: ExecutionMode;
  /**
   * "levels" (the reference engine's, the default): a level starts when the
   * one before it has finished. "eager": a step starts as soon as its own
   * dependencies have.
   */
  strategy: Strategy;
  /** What a failing step does to the rest of the run (see {@link OnFailure}). */
  onFailure: OnFailure;
  /** As configured; 0 means the number of CPUs (see {@link parallelism}). */
  maxParallelSteps: number;
  /** Accepted for compatibility; reserved. */
  enableStepParallelism: boolean;
  workflowsDirectory: string;
  /** The largest `.wasm` file a step's `module` may name, in MiB. */
  maxModuleMb: number;
  /** Timeout in seconds for steps that set none; none when undefined. */
  stepTimeout: number | undefined;
  /** Memory limit in MiB for steps without `memory_mb`; the runtime's default when undefined. */
  stepMemoryMb: number | undefined;
  /** Most output a step may write, in MiB; {@link DEFAULT_MAX_OUTPUT_CHARS} when undefined. */
  maxOutputMb: number | undefined;
  /** Largest result a step may return, in MiB; {@link DEFAULT_MAX_RESULT_BYTES} when undefined. */
  maxResultMb: number | undefined;
}

/** What values a setting takes; messages and flag parsers are made from it. */
export type SettingValue =
  | { kind: "choice"; choices: readonly string[]; flagChoices?: readonly string[] }
  | { kind: "whole"; min: number; max: number; unit?: "MiB"; note?: string }
  | { kind: "positive"; max: number; unit: "seconds" | "MiB" }
  | { kind: "boolean" }
  | { kind: "path" };

/** One setting's declaration. */
export interface SettingSpec {
  name: keyof Settings;
  value: SettingValue;
  /** The key in config.toml, e.g. `execution.mode`; none: flag only. */
  configKey?: string;
  /** The environment variable (also read from `.env`). */
  env?: string;
  /** The `hwfe run` option as commander spells it, e.g. `-j, --max-parallel <n>`. */
  flag?: string;
  /** The help text of the flag. */
  doc: string;
}

/**
 * Most steps at once: each may hold a worker or a child process, so a
 * larger number only exhausts the machine.
 */
export const MAX_PARALLEL_STEPS = 1024;
/** The largest module cap: V8 compiles no WebAssembly module over 1 GiB. */
const MAX_MODULE_MB = 1024;
/**
 * The largest cap on a result, in MiB: a result is parsed and written
 * again as JSON, and V8's `JSON.stringify` of one string of 2^28 - 5
 * characters or more aborts the whole process ("Fatal process out of
 * memory: Zone"), so no result may be that long.
 */
export const MAX_RESULT_MB = 255;
/** The largest cap on a step's output, in MiB: V8's longest string is about 512 Mi characters. */
export const MAX_OUTPUT_MB = 512;
/** The default cap on a step's result: 64 MiB of JSON. */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024;
/**
 * The default cap on a step's output: output is kept in memory on its way
 * to the terminal and to shell and WASI results, so a step printing
 * forever must be stopped.
 */
export const DEFAULT_MAX_OUTPUT_CHARS = 64 * 1024 * 1024;
/** Steps at once in parallel mode when nothing says otherwise (the reference engine's 4). */
const DEFAULT_MAX_PARALLEL = 4;

/** The reference engine's defaults. */
export const DEFAULT_SETTINGS: Readonly<Settings> = {
  mode: "sequential",
  strategy: "levels",
  onFailure: "cancel",
  maxParallelSteps: DEFAULT_MAX_PARALLEL,
  enableStepParallelism: false,
  workflowsDirectory: "workflows",
  maxModuleMb: 256,
  stepTimeout: undefined,
  stepMemoryMb: undefined,
  maxOutputMb: undefined,
  maxResultMb: undefined,
};

/** The settings, in the order `hwfe config` and `hwfe run --help` show them. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    name: "mode",
    value: { kind: "choice", choices: ["sequential", "parallel"] },
    configKey: "execution.mode",
    env: "HWFE_EXECUTION_MODE",
    flag: "--mode <mode>",
    doc: "execution mode",
  },
  {
    name: "strategy",
    value: { kind: "choice", choices: ["levels", "eager"] },
    configKey: "execution.strategy",
    env: "HWFE_EXECUTION_STRATEGY",
    flag: "--strategy <strategy>",
    doc: "levels: a level starts when the previous one has ended (default); " +
      "eager: a step starts when its own dependencies have",
  },
  {
    name: "onFailure",
    // finish-level reads as finish_level: both spellings are natural on a command line.
    value: {
      kind: "choice",
      choices: ["cancel", "finish_level", "keep_going"],
      flagChoices: ["cancel", "finish_level", "keep_going", "finish-level", "keep-going"],
    },
    configKey: "execution.on_failure",
    env: "HWFE_ON_FAILURE",
    flag: "--on-failure <how>",
    doc: "after a failure: cancel running steps (default), finish_level (let the level " +
      "finish, then stop), keep_going (skip only its dependents)",
  },
  {
    name: "maxParallelSteps",
    value: { kind: "whole", min: 0, max: MAX_PARALLEL_STEPS, note: "0 = number of CPUs" },
    configKey: "execution.max_parallel_steps",
    env: "HWFE_MAX_PARALLEL_STEPS",
    flag: "-j, --max-parallel <n>",
    doc: "most steps at once in parallel mode (0 = CPUs)",
  },
  {
    name: "enableStepParallelism",
    value: { kind: "boolean" },
    configKey: "execution.enable_step_parallelism",
    env: "HWFE_ENABLE_PARALLELISM",
    doc: "accepted for compatibility with the reference engine; reserved",
  },
  {
    name: "workflowsDirectory",
    value: { kind: "path" },
    configKey: "workflows.directory",
    env: "HWFE_WORKFLOW_DIR",
    doc: "where workflows are looked up by name",
  },
  {
    name: "maxModuleMb",
    value: { kind: "whole", min: 1, max: MAX_MODULE_MB, unit: "MiB" },
    configKey: "execution.max_module_mb",
    env: "HWFE_MAX_MODULE_MB",
    doc: "the largest .wasm file a step's module may name",
  },
  {
    name: "stepTimeout",
    value: { kind: "positive", max: MAX_TIMEOUT_SECONDS, unit: "seconds" },
    flag: "--step-timeout <seconds>",
    doc: "timeout for steps that set none",
  },
  {
    name: "stepMemoryMb",
    value: { kind: "positive", max: MAX_MEMORY_MB, unit: "MiB" },
    flag: "--step-memory <MiB>",
    doc: "memory limit for steps without memory_mb (default 1024 in Lua, Python, JS and " +
      "wasm; none in shell)",
  },
  {
    name: "maxOutputMb",
    value: { kind: "positive", max: MAX_OUTPUT_MB, unit: "MiB" },
    flag: "--max-output-mb <MiB>",
    doc: "most output a step may write before it is stopped (default 64)",
  },
  {
    name: "maxResultMb",
    value: { kind: "positive", max: MAX_RESULT_MB, unit: "MiB" },
    flag: "--max-result-mb <MiB>",
    doc: "largest result a step may return (default 64)",
  },
];

/** The declaration of `name`. */
export function settingSpec(name: keyof Settings): SettingSpec {
  return SETTINGS.find((spec) => spec.name === name)!;
}

/** The flag's spellings for messages: `-j, --max-parallel <n>` is `-j/--max-parallel`. */
export function flagLabel(spec: SettingSpec): string | undefined {
  return spec.flag?.replace(/\s*<.*$/, "").replace(", ", "/");
}

/**
 * The number of steps that may run at once: one in sequential mode, the
 * CPU count for 0, {@link DEFAULT_MAX_PARALLEL} when not given.
 */
export function parallelism(
  mode: ExecutionMode | undefined,
  maxParallel: number | undefined,
  cpus: number,
): number {
  if ((mode ?? DEFAULT_SETTINGS.mode) === "sequential") return 1;
  if (maxParallel === undefined) return DEFAULT_MAX_PARALLEL;
  return maxParallel === 0 ? Math.max(1, cpus) : maxParallel;
}

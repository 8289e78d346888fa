/**
 * Configuration compatible with the reference engine: `[execution]` and
 * `[workflows]` from config.toml (or .json, .yaml, .yml), overridden by
 * `HWFE_*` variables in `.env`, overridden by `HWFE_*` environment
 * variables, overridden by CLI flags. Every resolved value remembers where
 * it came from.
 *
 * @module
 */

import { ConfigError, didYouMean } from "../_util/errors.ts";
import type { ExecutionMode, OnFailure, Strategy } from "../engine/events.ts";

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
  /** As configured; 0 means the number of CPUs (see {@link effectiveParallelism}). */
  maxParallelSteps: number;
  /** Accepted for compatibility; reserved. */
  enableStepParallelism: boolean;
  workflowsDirectory: string;
  /** The largest `.wasm` file a step's `module` may name, in MiB. */
  maxModuleMb: number;
}

/** Where a setting came from, e.g. `default`, `file config.toml`, `environment HWFE_EXECUTION_MODE`, `flag --mode`. */
export type Source = string;

/** Settings, their sources, the file read and warnings (unknown keys). */
export interface ResolvedConfig {
  settings: Settings;
  sources: Record<keyof Settings, Source>;
  file?: string;
  warnings: string[];
}

/** What `resolveConfig` reads; the platform is injected so tests need no files. */
export interface ConfigInputs {
  /** `--config PATH`; when absent the default names are tried in `cwd`. */
  configPath?: string;
  env: Record<string, string | undefined>;
  flags: Partial<
    Pick<Settings, "mode" | "strategy" | "onFailure" | "maxParallelSteps" | "maxModuleMb">
  >;
  /** Flag spellings for sources, e.g. `{ maxParallelSteps: "-j/--max-parallel" }`. */
  flagNames?: Partial<Record<keyof Settings, string>>;
  readTextFile?: (path: string) => Promise<string | undefined>;
}

/** The reference engine's defaults. */
export const DEFAULT_SETTINGS: Readonly<Settings> = {
  mode: "sequential",
  strategy: "levels",
  onFailure: "cancel",
  maxParallelSteps: 4,
  enableStepParallelism: false,
  workflowsDirectory: "workflows",
  maxModuleMb: 256,
};

/**
 * Most steps at once: each may hold a worker or a child process, so a
 * larger number only exhausts the machine.
 */
export const MAX_PARALLEL_STEPS = 1024;
/** The largest module cap: V8 compiles no WebAssembly module over 1 GiB. */
export const MAX_MODULE_MB = 1024;
/**
 * The largest configuration file read: a few settings fit in far less, and
 * a path such as /dev/zero must not be read forever.
 */
const MAX_CONFIG_BYTES = 1024 * 1024;

const DEFAULT_FILES = ["config.toml", "config.json", "config.yaml", "config.yml"];
const MODES = ["sequential", "parallel"];
const STRATEGIES = ["levels", "eager"];
const ON_FAILURE = ["cancel", "finish_level", "keep_going"];

const KEYS: Record<string, { setting: keyof Settings; env?: string }> = {
  "execution.mode": { setting: "mode", env: "HWFE_EXECUTION_MODE" },
  "execution.strategy": { setting: "strategy", env: "HWFE_EXECUTION_STRATEGY" },
  "execution.on_failure": { setting: "onFailure", env: "HWFE_ON_FAILURE" },
  "execution.max_parallel_steps": { setting: "maxParallelSteps", env: "HWFE_MAX_PARALLEL_STEPS" },
  "execution.enable_step_parallelism": {
    setting: "enableStepParallelism",
    env: "HWFE_ENABLE_PARALLELISM",
  },
  "workflows.directory": { setting: "workflowsDirectory", env: "HWFE_WORKFLOW_DIR" },
  "execution.max_module_mb": { setting: "maxModuleMb", env: "HWFE_MAX_MODULE_MB" },
};

/** The config-file key of each setting, e.g. `execution.mode`. */
export const SETTING_KEYS = Object.fromEntries(
  Object.entries(KEYS).map(([key, { setting }]) => [setting, key]),
) as Record<keyof Settings, string>;

/** What a path that is not a regular file is, for messages. */
export function fileKind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

async function readIfExists(path: string): Promise<string | undefined> {
  const cannot = (why: string) =>
    new ConfigError(`${path}: cannot read configuration: ${why}; give a regular file`);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw cannot(error instanceof Error ? error.message : String(error));
  }
  // A FIFO would block the read for ever, a device never end it.
  if (!info.isFile) throw cannot(`it is ${fileKind(info)}`);
  if (info.size > MAX_CONFIG_BYTES) {
    throw cannot(
      `it holds ${info.size} bytes, more than the ${MAX_CONFIG_BYTES} a configuration may`,
    );
  }
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw cannot(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Parses a configuration file. The TOML and YAML parsers are imported when
 * a file needs them: loading them costs every run about 20 ms otherwise.
 */
async function parseFile(path: string, text: string): Promise<unknown> {
  try {
    if (path.endsWith(".json")) return JSON.parse(text);
    if (path.endsWith(".yaml") || path.endsWith(".yml")) {
      return (await import("npm:yaml@2.9.1")).parse(text) ?? {};
    }
    return (await import("npm:smol-toml@1.9.1")).parse(text);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error; // a missing Deno permission, not bad syntax
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`${path}: not valid ${formatOf(path)}: ${detail}`);
  }
}

function formatOf(path: string): string {
  return path.endsWith(".json") ? "JSON" : /\.ya?ml$/.test(path) ? "YAML" : "TOML";
}

/**
 * A value as a message shows it. Tables and lists are named, not printed:
 * a YAML alias can make one contain itself.
 */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "a table";
  return String(value);
}

/** A whole number from a file's number or an environment variable's digits, else undefined. */
function wholeNumber(value: unknown): number | undefined {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined;
}

function coerce(setting: keyof Settings, value: unknown, label: string): Settings[keyof Settings] {
  const shown = describe(value);
  switch (setting) {
    case "mode":
      if (typeof value === "string" && MODES.includes(value.toLowerCase())) {
        return value.toLowerCase() as ExecutionMode;
      }
      throw new ConfigError(`${label} must be "sequential" or "parallel", got ${shown}`);
    case "strategy":
      if (typeof value === "string" && STRATEGIES.includes(value.toLowerCase())) {
        return value.toLowerCase() as Strategy;
      }
      throw new ConfigError(`${label} must be "levels" or "eager", got ${shown}`);
    case "onFailure": {
      // finish-level reads as finish_level: both spellings are natural on a command line.
      const text = typeof value === "string" ? value.toLowerCase().replaceAll("-", "_") : "";
      if (ON_FAILURE.includes(text)) return text as OnFailure;
      throw new ConfigError(
        `${label} must be "cancel", "finish_level" or "keep_going", got ${shown}`,
      );
    }
    case "maxParallelSteps": {
      const n = wholeNumber(value);
      if (n !== undefined && n >= 0 && n <= MAX_PARALLEL_STEPS) return n;
      throw new ConfigError(
        `${label} must be a whole number from 0 to ${MAX_PARALLEL_STEPS} (0 = number of CPUs), ` +
          `got ${shown}`,
      );
    }
    case "maxModuleMb": {
      const n = wholeNumber(value);
      if (n !== undefined && n >= 1 && n <= MAX_MODULE_MB) return n;
      throw new ConfigError(
        `${label} must be a whole number of MiB from 1 to ${MAX_MODULE_MB}, got ${shown}`,
      );
    }
    case "enableStepParallelism": {
      if (typeof value === "boolean") return value;
      const text = typeof value === "string" ? value.trim().toLowerCase() : "";
      if (["true", "1", "yes", "on"].includes(text)) return true;
      if (["false", "0", "no", "off"].includes(text)) return false;
      throw new ConfigError(`${label} must be true or false, got ${shown}`);
    }
    case "workflowsDirectory":
      if (typeof value === "string" && value !== "") return value;
      throw new ConfigError(`${label} must be a non-empty path, got ${shown}`);
  }
}

/** Resolves settings from defaults, a file, the environment and flags. */
export async function resolveConfig(inputs: ConfigInputs): Promise<ResolvedConfig> {
  const read = inputs.readTextFile ?? readIfExists;
  const settings: Settings = { ...DEFAULT_SETTINGS };
  const sources = Object.fromEntries(
    Object.keys(settings).map((k) => [k, "default"]),
  ) as Record<keyof Settings, Source>;
  const warnings: string[] = [];
  const set = (setting: keyof Settings, value: unknown, label: string, source: Source) => {
    (settings as unknown as Record<string, unknown>)[setting] = coerce(setting, value, label);
    sources[setting] = source;
  };

  let file: string | undefined;
  let text: string | undefined;
  if (inputs.configPath) {
    text = await read(inputs.configPath);
    if (text === undefined) {
      throw new ConfigError(
        `${inputs.configPath}: configuration file not found (given by --config)`,
      );
    }
    file = inputs.configPath;
  } else {
    for (const candidate of DEFAULT_FILES) {
      text = await read(candidate);
      if (text !== undefined) {
        file = candidate;
        break;
      }
    }
  }

  if (file !== undefined && text !== undefined) {
    const data = await parseFile(file, text);
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new ConfigError(`${file}: expected a table of sections such as [execution]`);
    }
    for (const [section, body] of Object.entries(data)) {
      if (section !== "execution" && section !== "workflows") {
        warnings.push(
          `${file}: unknown section '${section}' is ignored${
            didYouMean(section, ["execution", "workflows"])
          }`,
        );
        continue;
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new ConfigError(`${file}: '${section}' must be a table`);
      }
      for (const [key, value] of Object.entries(body)) {
        const dotted = `${section}.${key}`;
        const known = KEYS[dotted];
        if (!known) {
          warnings.push(
            `${file}: unknown key '${dotted}' is ignored${didYouMean(dotted, Object.keys(KEYS))}`,
          );
          continue;
        }
        set(known.setting, value, `${file}: ${dotted}`, `file ${file}`);
      }
    }
  }

  // The reference engine reads .env in the working directory. Only hwfe's
  // own settings are taken from it; nothing in it reaches the environment,
  // so a step sees none of it unless granted from the real environment.
  const dotenvText = await read(".env");
  const dotenv: Record<string, string> = dotenvText === undefined
    ? {}
    : (await import("npm:dotenv@18.0.10")).parse(dotenvText);
  for (const { setting, env } of Object.values(KEYS)) {
    if (!env) continue;
    const fromEnv = inputs.env[env];
    const [value, label, source] = fromEnv !== undefined && fromEnv !== ""
      ? [fromEnv, env, `environment ${env}`]
      : [dotenv[env], `.env: ${env}`, `.env ${env}`];
    if (value === undefined || value === "") continue;
    try {
      set(setting, value, label, source);
    } catch (error) {
      if (setting === "maxParallelSteps") {
        throw new ConfigError(
          `${label}=${
            JSON.stringify(value)
          } is not a whole number from 0 to ${MAX_PARALLEL_STEPS} ` +
            `(0 = number of CPUs)`,
        );
      }
      throw error;
    }
  }

  for (const [setting, value] of Object.entries(inputs.flags)) {
    if (value === undefined) continue;
    const name = inputs.flagNames?.[setting as keyof Settings] ?? setting;
    set(setting as keyof Settings, value, name, `flag ${name}`);
  }
  return { settings, sources, file, warnings };
}

/** The number of steps that may run at once: 1 when sequential, CPUs for 0. */
export function effectiveParallelism(settings: Settings, cpus: number): number {
  if (settings.mode === "sequential") return 1;
  return settings.maxParallelSteps === 0 ? Math.max(1, cpus) : settings.maxParallelSteps;
}

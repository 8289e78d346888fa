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
import { fileKind } from "../_util/file_kind.ts";
import {
  DEFAULT_SETTINGS,
  MAX_PARALLEL_STEPS,
  parallelism,
  SETTINGS,
  type Settings,
  type SettingSpec,
} from "../engine/settings.ts";
import type { RunOptions } from "../engine/options.ts";

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
  /** Values given on the command line, already checked by its parser. */
  flags: Partial<Settings>;
  /** Flag spellings for sources, e.g. `{ maxParallelSteps: "-j/--max-parallel" }`. */
  flagNames?: Partial<Record<keyof Settings, string>>;
  readTextFile?: (path: string) => Promise<string | undefined>;
}

/**
 * The largest configuration file read: a few settings fit in far less, and
 * a path such as /dev/zero must not be read forever.
 */
const MAX_CONFIG_BYTES = 1024 * 1024;

const DEFAULT_FILES = ["config.toml", "config.json", "config.yaml", "config.yml"];

/** The settings a file or the environment may set, by config-file key. */
const KEYS: Record<string, SettingSpec> = Object.fromEntries(
  SETTINGS.filter((spec) => spec.configKey).map((spec) => [spec.configKey, spec]),
);

/** The config-file key of each setting a file may set, e.g. `execution.mode`. */
export const SETTING_KEYS = Object.fromEntries(
  SETTINGS.filter((spec) => spec.configKey).map((spec) => [spec.name, spec.configKey]),
) as Partial<Record<keyof Settings, string>>;

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
      return (await import("../_util/npm/yaml.ts")).parse(text) ?? {};
    }
    return (await import("../_util/npm/smol_toml.ts")).parse(text);
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

/** "a", "b" or "c": the choices as a message lists them. */
function oneOf(choices: readonly string[]): string {
  const quoted = choices.map((choice) => `"${choice}"`);
  return quoted.length < 2
    ? quoted.join("")
    : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

/** Checks a value from a file or the environment against its setting's declaration. */
function coerce(spec: SettingSpec, value: unknown, label: string): Settings[keyof Settings] {
  const shown = describe(value);
  const rule = spec.value;
  switch (rule.kind) {
    case "choice": {
      const text = typeof value === "string" ? value.toLowerCase().replaceAll("-", "_") : "";
      if (rule.choices.includes(text)) return text as Settings[keyof Settings];
      throw new ConfigError(`${label} must be ${oneOf(rule.choices)}, got ${shown}`);
    }
    case "whole": {
      const n = wholeNumber(value);
      if (n !== undefined && n >= rule.min && n <= rule.max) return n;
      const unit = rule.unit ? ` of ${rule.unit}` : "";
      const note = rule.note ? ` (${rule.note})` : "";
      throw new ConfigError(
        `${label} must be a whole number${unit} from ${rule.min} to ${rule.max}${note}, got ${shown}`,
      );
    }
    case "positive": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n === "number" && n > 0 && n <= rule.max) return n;
      throw new ConfigError(
        `${label} must be a positive number of ${rule.unit}, at most ${rule.max}, got ${shown}`,
      );
    }
    case "boolean": {
      if (typeof value === "boolean") return value;
      const text = typeof value === "string" ? value.trim().toLowerCase() : "";
      if (["true", "1", "yes", "on"].includes(text)) return true;
      if (["false", "0", "no", "off"].includes(text)) return false;
      throw new ConfigError(`${label} must be true or false, got ${shown}`);
    }
    case "path":
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
  const set = (spec: SettingSpec, value: unknown, label: string, source: Source) => {
    (settings as unknown as Record<string, unknown>)[spec.name] = coerce(spec, value, label);
    sources[spec.name] = source;
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
        set(known, value, `${file}: ${dotted}`, `file ${file}`);
      }
    }
  }

  // The reference engine reads .env in the working directory. Only hwfe's
  // own settings are taken from it; nothing in it reaches the environment,
  // so a step sees none of it unless granted from the real environment.
  const dotenvText = await read(".env");
  const dotenv: Record<string, string> = dotenvText === undefined
    ? {}
    : (await import("../_util/npm/dotenv.ts")).parse(dotenvText);
  for (const spec of Object.values(KEYS)) {
    const env = spec.env;
    if (!env) continue;
    const fromEnv = inputs.env[env];
    const [value, label, source] = fromEnv !== undefined && fromEnv !== ""
      ? [fromEnv, env, `environment ${env}`]
      : [dotenv[env], `.env: ${env}`, `.env ${env}`];
    if (value === undefined || value === "") continue;
    try {
      set(spec, value, label, source);
    } catch (error) {
      if (spec.name === "maxParallelSteps") {
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

  for (const spec of SETTINGS) {
    const value = inputs.flags[spec.name];
    if (value === undefined) continue;
    const name = inputs.flagNames?.[spec.name] ?? spec.name;
    set(spec, value, name, `flag ${name}`);
  }
  checkModeFlags(settings, sources, inputs.flagNames ?? {}, warnings);
  return { settings, sources, file, warnings };
}

/** The source of a mode that `-j` implied (see {@link checkModeFlags}). */
export const IMPLIED_BY_J = "implied by -j";

/**
 * `-j N` on the command line means parallel, as in make, unless a mode was
 * chosen anywhere (flag, environment, .env, file). What the command line
 * says against itself is a usage error: `--mode sequential` with `-j`, or
 * `--strategy eager` in sequential mode. `-j` against a sequential mode
 * from elsewhere is a warning: it does nothing.
 */
function checkModeFlags(
  settings: Settings,
  sources: Record<keyof Settings, Source>,
  flagNames: Partial<Record<keyof Settings, string>>,
  warnings: string[],
): void {
  const fromFlag = (key: keyof Settings) => sources[key].startsWith("flag ");
  const j = settings.maxParallelSteps;
  if (sources.mode === "default" && fromFlag("maxParallelSteps")) {
    settings.mode = "parallel";
    sources.mode = IMPLIED_BY_J;
  }
  const modeFlag = flagNames.mode ?? "--mode";
  const jFlag = flagNames.maxParallelSteps ?? "-j";
  if (settings.mode === "sequential" && fromFlag("mode") && fromFlag("maxParallelSteps")) {
    throw new ConfigError(
      `${modeFlag} sequential runs one step at a time, but ${jFlag} ${j} asks for ${
        j === 0 ? "one per CPU" : j
      }: give one of them (${jFlag} alone means parallel)`,
    );
  }
  if (settings.mode === "sequential" && fromFlag("maxParallelSteps")) {
    warnings.push(
      `${jFlag} ${j} is ignored: the mode is sequential (${sources.mode}); ` +
        `add ${modeFlag} parallel to run steps at once`,
    );
  }
  if (settings.strategy === "eager" && fromFlag("strategy") && settings.mode === "sequential") {
    throw new ConfigError(
      `${flagNames.strategy ?? "--strategy"} eager starts each step when its dependencies end, ` +
        `which needs parallel mode; the mode is sequential (${sources.mode}): add ` +
        `${modeFlag} parallel or ${jFlag} N`,
    );
  }
}

/** The options of a run that come from settings; sizes in MiB become bytes. */
export function runOptionsFrom(settings: Settings, cpus: number): RunOptions {
  const bytes = (mb: number | undefined) => mb === undefined ? undefined : Math.floor(mb * MiB);
  return {
    mode: settings.mode,
    strategy: settings.strategy,
    maxParallel: parallelism(settings.mode, settings.maxParallelSteps, cpus),
    onFailure: settings.onFailure,
    stepTimeout: settings.stepTimeout,
    stepMemoryMb: settings.stepMemoryMb,
    maxResultBytes: bytes(settings.maxResultMb),
    maxOutputChars: bytes(settings.maxOutputMb),
    maxModuleBytes: bytes(settings.maxModuleMb),
  };
}

const MiB = 1024 * 1024;

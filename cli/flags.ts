/**
 * The `hwfe run` flags and what they become: resolved settings, grants,
 * the options of one run, and the command line to suggest again.
 *
 * @module
 */

import { InvalidArgumentError, Option } from "../_util/npm/commander.ts";
import { resolveConfig, type ResolvedConfig, runOptionsFrom } from "../api/config.ts";
import { flagLabel, SETTINGS, type Settings, type SettingSpec } from "../engine/settings.ts";
import { type GrantList, type Grants } from "../engine/grants.ts";
import { hostProblem } from "../workflow/net_hosts.ts";
import { addParamArg, type GivenParams } from "../workflow/params.ts";
import { ConfigError, ExitCode, HwfeError } from "../_util/errors.ts";
import { warn } from "./output.ts";

function wholeNumber(flag: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(
        `${flag} "${value}" is not a whole number from ${min} to ${max}`,
      );
    }
    return Number(value);
  };
}

function positiveNumber(unit: string, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) {
      throw new InvalidArgumentError(
        `"${value}" is not a positive number of ${unit}, at most ${max}`,
      );
    }
    return n;
  };
}

/** The `hwfe run` options of every setting that has a flag, made from its declaration. */
export function settingOptions(): Map<keyof Settings, Option> {
  return new Map(
    SETTINGS.filter((spec) => spec.flag).map((spec) => [spec.name, settingOption(spec)]),
  );
}

function settingOption(spec: SettingSpec): Option {
  const option = new Option(spec.flag!, spec.doc);
  const rule = spec.value;
  switch (rule.kind) {
    case "choice":
      return option.choices(rule.flagChoices ?? rule.choices);
    case "whole":
      return option.argParser(wholeNumber(flagLabel(spec)!, rule.min, rule.max));
    case "positive":
      return option.argParser(positiveNumber(rule.unit, rule.max));
    default:
      return option;
  }
}

/** Options every command takes. */
export interface CommonOptions {
  config?: string;
}

/** Options of the commands that load a workflow: `--param`. */
export interface ParamOptions {
  param?: GivenParams;
}

/** Options of the commands that can print JSON instead of text. */
export interface JsonOptions extends CommonOptions {
  json?: boolean;
}

/**
 * The settings from defaults, the configuration file, the environment and
 * the flags in `options` (those of {@link settingOptions}, by commander's
 * attribute names); warnings are printed.
 */
export async function settingsFor(
  options: CommonOptions & { onFailure?: string; keepGoing?: boolean },
): Promise<ResolvedConfig> {
  if (options.keepGoing && options.onFailure && options.onFailure !== "keep_going") {
    throw new ConfigError(
      `-k/--keep-going and --on-failure ${options.onFailure} disagree; give one of them`,
    );
  }
  const flags: Record<string, unknown> = {};
  const flagNames: Partial<Record<keyof Settings, string>> = {};
  for (const spec of SETTINGS) {
    if (!spec.flag) continue;
    flags[spec.name] = (options as Record<string, unknown>)[new Option(spec.flag).attributeName()];
    flagNames[spec.name] = flagLabel(spec);
  }
  if (options.keepGoing && !options.onFailure) {
    flags.onFailure = "keep_going";
    flagNames.onFailure = "-k/--keep-going";
  }
  const config = await resolveConfig({
    configPath: options.config,
    env: Deno.env.toObject(),
    flags: flags as Partial<Settings>,
    flagNames,
  });
  for (const warning of config.warnings) warn(warning);
  return config;
}

/** The grant flags, Deno's: bare for all, `=a,b` for a list. */
const GRANT_FLAG = /^--(allow|deny)-(env|read|write|net)(=|$)/;
/** Stands for a bare grant flag (see `bareGrantFlags`). */
const ALL = "\u0000all";

/**
 * Deno's grant flags take their list only after `=`; a bare flag means all.
 * commander would take the next argument (the workflow, say) as the flag's
 * value, so a bare flag is rewritten to carry an explicit "all" first.
 */
export function bareGrantFlags(args: string[]): string[] {
  return args.map((arg) => GRANT_FLAG.test(arg) && !arg.includes("=") ? `${arg}=${ALL}` : arg);
}

/** Parses one grant flag, adding to the same flag given before. */
export function grantList(value: string, previous: GrantList | undefined): GrantList {
  if (value === ALL || previous === "all") return "all";
  return [...previous ?? [], ...value.split(",").map((v) => v.trim()).filter((v) => v)];
}

/**
 * `--param name=value`, repeatable (a name given twice takes the later
 * value): values for the workflow's parameters, typed when it is loaded.
 */
export function paramOption(): Option {
  return new Option(
    "--param <name=value>",
    "a value for a workflow parameter (workflow.params), typed by its default; repeatable",
  ).argParser((value: string, previous: GivenParams | undefined) => {
    try {
      return addParamArg(value, previous);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  });
}

/** Parses `--secret`: names of environment variables, repeated or `=A,B`. */
export function secretNames(value: string, previous: string[] | undefined): string[] {
  const names = value.split(",").map((name) => name.trim()).filter((name) => name);
  for (const name of names) {
    if (!/^[^=\0]+$/.test(name)) {
      throw new InvalidArgumentError(
        `--secret "${name}" is not the name of an environment variable`,
      );
    }
  }
  return [...previous ?? [], ...names];
}

/** Parses `--resume`: a run's id, or last. */
export function resumeRef(value: string): number | "last" {
  if (value === "last") return "last";
  if (/^[1-9]\d{0,14}$/.test(value)) return Number(value);
  throw new InvalidArgumentError(
    `'${value}' is not a run: give a run's id (hwfe runs lists them) or last for the newest`,
  );
}

/** Parses `--only`: step names, repeated or `a,b`. */
export function stepNames(value: string, previous: string[] | undefined): string[] {
  return [...previous ?? [], ...value.split(",").map((name) => name.trim()).filter((n) => n)];
}

/** The run's grants from its flags; nothing unless granted. */
export function grantsFrom(flags: RunFlags): Grants {
  for (
    const [flag, list] of [["--allow-net", flags.allowNet], ["--deny-net", flags.denyNet]] as const
  ) {
    for (const host of Array.isArray(list) ? list : []) {
      const problem = hostProblem(host, (alone) => `${flag}=${alone}`);
      if (problem) throw new HwfeError(`${flag}: ${problem}`, ExitCode.usage);
    }
  }
  const pair = (allow?: GrantList, deny?: GrantList) => ({
    allow: flags.allowAll ? "all" as const : allow ?? [],
    deny: deny ?? [],
  });
  return {
    run: flags.allowAll || (flags.allowRun ?? false),
    env: pair(flags.allowEnv, flags.denyEnv),
    read: pair(flags.allowRead, flags.denyRead),
    write: pair(flags.allowWrite, flags.denyWrite),
    net: pair(flags.allowNet, flags.denyNet),
  };
}

/** The command line again, with `flags` added (each replacing the same flag given before). */
export function rerunArgs(flags: string[]): string[] {
  const names = new Set(flags.map((f) => f.split("=")[0]));
  const args = Deno.args.filter((arg) => !names.has(arg.split("=")[0]));
  const run = args.indexOf("run");
  // `hwfe flow.lua`: the flags go after the file, which must stay first.
  if (run < 0) return [...args, ...flags];
  args.splice(run + 1, 0, ...flags);
  return args;
}

export interface RunFlags extends CommonOptions, ParamOptions {
  allowAll?: boolean;
  allowRun?: boolean;
  allowEnv?: GrantList;
  denyEnv?: GrantList;
  allowRead?: GrantList;
  denyRead?: GrantList;
  allowWrite?: GrantList;
  denyWrite?: GrantList;
  allowNet?: GrantList;
  denyNet?: GrantList;
  /** `--secret`: more environment variables whose values are masked. */
  secret?: string[];
  keepGoing?: boolean;
  isolate?: boolean;
  json?: boolean;
  quiet?: boolean;
  report?: string;
  all?: boolean;
  /** False with `--no-history`: the run is not recorded. */
  history?: boolean;
  /** `--resume`, `--from`, `--only`, `--cache`: results taken from history. */
  resume?: number | "last";
  from?: string;
  only?: string[];
  cache?: boolean;
  /** The settings' flags (see {@link settingOptions}). */
  [flag: string]: unknown;
}

/** The options of one run, from the resolved settings and the flags. */
export function runOptions(
  settings: ResolvedConfig["settings"],
  flags: RunFlags,
  signal: AbortSignal,
) {
  return {
    ...runOptionsFrom(settings, navigator.hardwareConcurrency),
    isolate: flags.isolate,
    grants: grantsFrom(flags),
    secrets: flags.secret,
    signal,
  };
}

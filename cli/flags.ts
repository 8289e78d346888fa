/**
 * The `hwfe run` flags and what they become: resolved settings, grants,
 * the options of one run, and the command line to suggest again.
 *
 * @module
 */

import { InvalidArgumentError } from "npm:commander@15.1.0";
import { effectiveParallelism, resolveConfig, type ResolvedConfig } from "../api/config.ts";
import { type GrantList, type Grants, hostProblem } from "../engine/grants.ts";
import { ConfigError, ExitCode, HwfeError } from "../_util/errors.ts";
import type { OnFailure } from "../engine/events.ts";
import { MAX_TIMEOUT_SECONDS } from "../workflow/workflow.ts";
import { warn } from "./output.ts";

export function wholeNumber(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} "${value}" is not a whole number from 0 to ${max}`);
    }
    return Number(value);
  };
}

export function positiveNumber(unit: string, max: number): (value: string) => number {
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

export const positiveSeconds = positiveNumber("seconds", MAX_TIMEOUT_SECONDS);

export interface CommonOptions {
  config?: string;
}

export async function settingsFor(
  options: CommonOptions & {
    mode?: "sequential" | "parallel";
    strategy?: "levels" | "eager";
    maxParallel?: number;
    onFailure?: OnFailure;
    keepGoing?: boolean;
  },
): Promise<ResolvedConfig> {
  if (options.keepGoing && options.onFailure && options.onFailure !== "keep_going") {
    throw new ConfigError(
      `-k/--keep-going and --on-failure ${options.onFailure} disagree; give one of them`,
    );
  }
  const config = await resolveConfig({
    configPath: options.config,
    env: Deno.env.toObject(),
    flags: {
      mode: options.mode,
      strategy: options.strategy,
      maxParallelSteps: options.maxParallel,
      onFailure: options.onFailure ?? (options.keepGoing ? "keep_going" : undefined),
    },
    flagNames: {
      mode: "--mode",
      strategy: "--strategy",
      maxParallelSteps: "-j/--max-parallel",
      onFailure: options.onFailure ? "--on-failure" : "-k/--keep-going",
    },
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

/** The run's grants from its flags; nothing unless granted. */
function grantsFrom(flags: RunFlags): Grants {
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

export interface RunFlags extends CommonOptions {
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
  mode?: "sequential" | "parallel";
  strategy?: "levels" | "eager";
  maxParallel?: number;
  keepGoing?: boolean;
  onFailure?: OnFailure;
  stepTimeout?: number;
  maxResultMb?: number;
  stepMemory?: number;
  maxOutputMb?: number;
  isolate?: boolean;
  json?: boolean;
  quiet?: boolean;
  all?: boolean;
}

/** The options of one run, from the resolved settings and the flags. */
export function runOptions(
  settings: ResolvedConfig["settings"],
  flags: RunFlags,
  signal: AbortSignal,
) {
  return {
    mode: settings.mode,
    strategy: settings.strategy,
    maxParallel: effectiveParallelism(settings, navigator.hardwareConcurrency),
    onFailure: settings.onFailure,
    stepTimeout: flags.stepTimeout,
    maxResultBytes: flags.maxResultMb === undefined
      ? undefined
      : Math.floor(flags.maxResultMb * 1024 * 1024),
    stepMemoryMb: flags.stepMemory,
    isolate: flags.isolate,
    maxModuleBytes: settings.maxModuleMb * 1024 * 1024,
    maxOutputChars: flags.maxOutputMb === undefined
      ? undefined
      : Math.floor(flags.maxOutputMb * 1024 * 1024),
    grants: grantsFrom(flags),
    signal,
  };
}

/**
 * What hwfe can learn about the Deno program it runs in: the configuration
 * Deno found for it (its lockfile is what step children must load from),
 * and whether it was started with what hwfe needs, so that a library user
 * who forgot a flag gets an error naming it rather than a dead process.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExitCode, HwfeError } from "../_util/errors.ts";

/**
 * The Deno configuration of the program whose main module is `mainModule`,
 * found the way Deno finds it: the first deno.json or deno.jsonc in the
 * main module's folder or above. From a checkout that is hwfe's own (and
 * so its lockfile); for a program that imports hwfe, the program's.
 * Undefined for a remote main module or a program without one: Deno then
 * resolved npm packages from the registry's metadata in its cache.
 */
export function findProgramConfig(
  mainModule: string,
  isFile: (path: string) => boolean = fileExists,
): string | undefined {
  if (!mainModule.startsWith("file:")) return undefined;
  for (let dir = dirname(fileURLToPath(mainModule));; dir = dirname(dir)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      if (isFile(join(dir, name))) return join(dir, name);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

let found: { config?: string } | undefined;

/** {@link findProgramConfig} for this process, looked up once. */
export function programConfig(): string | undefined {
  return (found ??= { config: findProgramConfig(Deno.mainModule) }).config;
}

/** What {@link workerOptions} learns from; each part is undefined when unknown. */
export interface ProgramFacts {
  /** A compiled program: its flags were compiled in (scripts/release.ts gives this one). */
  standalone: boolean;
  /** The `unstable` list of the program's configuration. */
  configUnstable?: string[];
  /** The Deno flags on its command line (before the main module). */
  flags?: string[];
}

/**
 * Whether Deno lets this process give workers permissions of their own
 * (`--unstable-worker-options`): "yes", "no", or "unknown". Deno offers no
 * way to ask, and the first worker created without it ends the whole
 * process, so hwfe reads what it can: the configuration's `unstable` list
 * and the command line (readable with `--allow-all` on Linux).
 */
export function workerOptions(facts: ProgramFacts): "yes" | "no" | "unknown" {
  if (facts.standalone) return "yes";
  if (facts.configUnstable?.includes("worker-options")) return "yes";
  if (!facts.flags) return "unknown";
  return facts.flags.some((flag) => flag === "--unstable-worker-options" || flag === "--unstable")
    ? "yes"
    : "no";
}

/** This process's {@link ProgramFacts}. */
function programFacts(): ProgramFacts {
  return {
    standalone: Deno.build.standalone,
    configUnstable: configUnstable(programConfig()),
    flags: commandLineFlags(),
  };
}

function configUnstable(config: string | undefined): string[] | undefined {
  if (!config) return undefined;
  try {
    const unstable = JSON.parse(Deno.readTextFileSync(config)).unstable;
    return Array.isArray(unstable) ? unstable : [];
  } catch {
    return undefined; // unreadable, or JSONC with comments: unknown
  }
}

/** Deno's own flags, from /proc/self/cmdline when this process may read it. */
function commandLineFlags(): string[] | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const path = "/proc/self/cmdline";
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    const args = Deno.readTextFileSync(path).split("\0").slice(0, -1);
    // deno <subcommand> <flags...> <main module> <Deno.args...>
    return args.slice(2, args.length - Deno.args.length - 1);
  } catch {
    return undefined; // Deno lets only --allow-all read it
  }
}

let checked = false;

/**
 * Throws a {@link HwfeError} naming the flag when this process is known to
 * lack `--unstable-worker-options`; checked once per process, before a run
 * creates its first worker.
 */
export function assertWorkerOptions(facts: () => ProgramFacts = programFacts): void {
  if (checked) return;
  if (workerOptions(facts()) === "no") {
    throw new HwfeError(
      "hwfe runs each step in a worker with only the permissions it was granted, which needs " +
        "Deno's --unstable-worker-options: start your program with deno run " +
        '--unstable-worker-options, or add "unstable": ["worker-options"] to its deno.json',
      ExitCode.usage,
    );
  }
  checked = true;
}

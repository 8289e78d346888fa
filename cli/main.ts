/**
 * The `hwfe` command. The only place that prints, reads the process
 * environment for settings, and calls `Deno.exit`.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "npm:commander@15.1.0";
import {
  effectiveParallelism,
  MAX_PARALLEL_STEPS,
  resolveConfig,
  type ResolvedConfig,
  SETTING_KEYS,
} from "../api/config.ts";
import { type GrantList, type Grants, hostProblem } from "../engine/grants.ts";
import {
  ConfigError,
  ExitCode,
  HwfeError,
  PermissionError,
  WorkflowError,
} from "../_util/errors.ts";
import { formatPlan } from "../workflow/plan.ts";
import { planWorkflow, validateWorkflow } from "../api/check.ts";
import {
  escapeMessage,
  escapeTerminal,
  formatDuration,
  palette,
  renderEvent,
  renderRecap,
  renderSummary,
  resultToJson,
} from "./render.ts";
import { runWorkflow } from "../api/run.ts";
import type { OnFailure } from "../engine/events.ts";
import { shellQuote } from "../_util/quote.ts";
import { defaultCacheDir } from "../_util/cache.ts";
import {
  type LoadedWorkflow,
  loadWorkflowFile,
  MAX_MEMORY_MB,
  MAX_TIMEOUT_SECONDS,
} from "../workflow/workflow.ts";
import { MAX_OUTPUT_MB, MAX_RESULT_MB } from "../engine/scheduler.ts";
import denoJson from "../deno.json" with { type: "json" };

const encoder = new TextEncoder();

/**
 * Writes all of `text` with one logical write, so lines never interleave.
 * When the reader has gone (`hwfe config | head -3`), hwfe ends quietly
 * with status 0, as `yes | head` does: no one is left to tell.
 */
function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  try {
    while (bytes.length) bytes = bytes.subarray(file.writeSync(bytes));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(ExitCode.ok);
    throw error;
  }
}
const colour = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
const p = palette(colour);
const errColour = palette(Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"));

// Text from a workflow or a step is escaped where it is put into a line
// (cli/render.ts); a line is escaped again as it is written, keeping only
// colour and only on a colour terminal, for anything put in unescaped.
const out = (text: string) =>
  writeAll(Deno.stdout, escapeTerminal(text, { newlines: true, colour }) + "\n");
const err = (text: string) =>
  writeAll(
    Deno.stderr,
    escapeTerminal(text, { newlines: true, colour: errColour.enabled }) + "\n",
  );
const warn = (message: string) => err(`${errColour.yellow("warning:")} ${escapeMessage(message)}`);

function wholeNumber(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} "${value}" is not a whole number from 0 to ${max}`);
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

const positiveSeconds = positiveNumber("seconds", MAX_TIMEOUT_SECONDS);

interface CommonOptions {
  config?: string;
}

async function settingsFor(
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

/**
 * Where a workflow named without a path is looked for, in order, below the
 * workflows directory: the reference engine's folders.
 */
const WORKFLOW_FOLDERS = ["", "/examples", "/templates", "/tests"];

/** Finds the workflow: an existing path, else a file in the workflows directory or its folders. */
async function findWorkflow(arg: string, config: ResolvedConfig): Promise<string> {
  const dir = config.settings.workflowsDirectory;
  const candidates = [
    arg,
    ...WORKFLOW_FOLDERS.flatMap((folder) => [
      `${dir}${folder}/${arg}`,
      ...(arg.endsWith(".lua") ? [] : [`${dir}${folder}/${arg}.lua`]),
    ]),
  ];
  for (const candidate of candidates) {
    try {
      if ((await Deno.stat(candidate)).isFile) return candidate;
    } catch { /* try the next */ }
  }
  throw new HwfeError(
    `Workflow '${arg}' not found: no such file, and none in the workflows directory '${dir}' ` +
      `(${config.sources.workflowsDirectory}) or its examples, templates and tests folders; ` +
      `run 'hwfe list' to see the workflows there`,
    ExitCode.usage,
  );
}

async function load(arg: string, config: ResolvedConfig): Promise<LoadedWorkflow> {
  const loaded = await loadWorkflowFile(await findWorkflow(arg, config), {
    cacheDir: defaultCacheDir(),
  });
  for (const warning of loaded.warnings) warn(warning);
  return loaded;
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
function bareGrantFlags(args: string[]): string[] {
  return args.map((arg) => GRANT_FLAG.test(arg) && !arg.includes("=") ? `${arg}=${ALL}` : arg);
}

/** Parses one grant flag, adding to the same flag given before. */
function grantList(value: string, previous: GrantList | undefined): GrantList {
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
function rerunArgs(flags: string[]): string[] {
  const names = new Set(flags.map((f) => f.split("=")[0]));
  const args = Deno.args.filter((arg) => !names.has(arg.split("=")[0]));
  const run = args.indexOf("run");
  // `hwfe flow.lua`: the flags go after the file, which must stay first.
  if (run < 0) return [...args, ...flags];
  args.splice(run + 1, 0, ...flags);
  return args;
}

interface RunFlags extends CommonOptions {
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

/** The width of the terminal the summary goes to (stderr with --json), if it is one. */
function terminalWidth(json?: boolean): number | undefined {
  const stream = json ? Deno.stderr : Deno.stdout;
  try {
    return stream.isTerminal() ? Deno.consoleSize().columns : undefined;
  } catch {
    return undefined;
  }
}

/** The options of one run, from the resolved settings and the flags. */
function runOptions(settings: ResolvedConfig["settings"], flags: RunFlags, signal: AbortSignal) {
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

/**
 * Runs `body` with SIGINT and SIGTERM cancelling its signal (a second one
 * quits at once); `exit()` is the code the signal asks for: 130 for SIGINT
 * and 143 for SIGTERM (128 + the signal), as shells do.
 */
async function cancellable<T>(
  body: (signal: AbortSignal, exit: () => number) => Promise<T>,
): Promise<T> {
  const cancel = new AbortController();
  let interrupts = 0;
  let signalExit: number = ExitCode.interrupted;
  const onSignal = (code: number, what: string) => () => {
    signalExit = code;
    if (++interrupts > 1) Deno.exit(code);
    err(`${what}: cancelling running steps (send it again to quit at once)`);
    cancel.abort();
  };
  const onSigint = onSignal(ExitCode.interrupted, "Interrupted");
  const onSigterm = onSignal(ExitCode.terminated, "Terminated");
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigterm);
  try {
    return await body(cancel.signal, () => signalExit);
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigterm);
  }
}

async function runCommand(arg: string | undefined, flags: RunFlags): Promise<number> {
  if (flags.all && arg !== undefined) {
    throw new ConfigError(
      `run: give a workflow or --all, not both (--all runs every workflow in the workflows directory)`,
    );
  }
  if (flags.all) return await runAllCommand(flags);
  if (arg === undefined) {
    throw new ConfigError(
      "run: which workflow? Give a file or a name in the workflows directory, or --all for every one",
    );
  }
  const config = await settingsFor(flags);
  const { settings } = config;
  const { workflow } = await load(arg, config);
  const human = flags.json ? err : out;
  const humanPalette = flags.json ? errColour : p;

  return await cancellable(async (signal, signalExit) => {
    try {
      const result = await runWorkflow(workflow, {
        ...runOptions(settings, flags, signal),
        onEvent: (event) => {
          if (event.type === "run_started") {
            // Printed once the run has passed its checks and is about to start.
            err(
              `Execution mode: ${event.mode}` +
                (event.mode === "parallel" ? ` (up to ${event.maxParallel} steps at once)` : "") +
                (event.strategy === "eager"
                  ? `, eager: each step starts when its dependencies end`
                  : ""),
            );
          }
          if (event.type === "warning") warn(event.message);
          if (flags.quiet) {
            // Quiet is never silent about a failure.
            if (event.type === "step_finished" && event.report.status === "failed") {
              err(renderEvent(event, errColour)!);
            }
            return;
          }
          const text = renderEvent(event, humanPalette);
          if (text !== undefined) human(text);
        },
      });
      if (!flags.quiet) human(renderSummary(result, humanPalette, terminalWidth(flags.json)));
      if (flags.json) out(resultToJson(result));
      const recap = renderRecap(result, errColour);
      if (recap) err(`\n${recap}`);
      if (result.status === "cancelled") return signalExit();
      return result.status === "succeeded" ? ExitCode.ok : ExitCode.stepFailed;
    } catch (error) {
      if (error instanceof PermissionError) {
        // The library's words are RunOptions.grants; the command's are its flags.
        const rerun = error.missingFlags.length
          ? `; rerun as: hwfe ${rerunArgs(error.missingFlags).map(shellQuote).join(" ")}`
          : "";
        throw new PermissionError(`${error.cliMessage}${rerun}`, error.missingFlags);
      }
      throw error;
    }
  });
}

/** The `*.lua` files directly in the workflows directory, sorted. */
async function workflowFiles(config: ResolvedConfig): Promise<string[]> {
  const dir = config.settings.workflowsDirectory;
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".lua")) files.push(entry.name);
    }
  } catch (error) {
    throw new ConfigError(
      `Cannot list workflows directory '${dir}' (${config.sources.workflowsDirectory}): ${
        error instanceof Deno.errors.NotFound ? "no such directory" : String(error)
      }`,
    );
  }
  return files.sort();
}

/**
 * `hwfe run --all`: every workflow of the workflows directory in turn, as
 * the reference engine runs them when given none, with one line each and
 * a count at the end. Exit 0 when all succeeded, 2 when one could not run
 * (invalid, or not granted what it needs), else 1 when one failed.
 */
async function runAllCommand(flags: RunFlags): Promise<number> {
  const config = await settingsFor(flags);
  const dir = config.settings.workflowsDirectory;
  const files = await workflowFiles(config);
  const human = flags.json ? err : out;
  const palette = flags.json ? errColour : p;
  if (files.length === 0) {
    human(`No workflows (*.lua) in '${escapeTerminal(dir)}'`);
    return ExitCode.ok;
  }
  const width = Math.max(...files.map((f) => escapeTerminal(f).length));
  const firstLine = (text: string) => escapeTerminal(text.split("\n")[0]);
  const outcomes: string[] = [];
  let code: number = ExitCode.ok;
  const counts = { succeeded: 0, failed: 0, "not run": 0 };
  return await cancellable(async (signal, signalExit) => {
    for (const name of files) {
      const label = escapeTerminal(name).padEnd(width);
      const path = `${dir}/${name}`;
      let line: string;
      let outcome: string; // JSON text: the run's document is kept as written, numbers exact
      try {
        const { workflow } = await loadWorkflowFile(path);
        const result = await runWorkflow(workflow, {
          ...runOptions(config.settings, flags, signal),
          onEvent: (event) => {
            if (event.type === "warning") warn(`${name}: ${event.message}`);
          },
        });
        const took = formatDuration(result.durationMs);
        const steps = `${result.steps.length} step${result.steps.length === 1 ? "" : "s"}`;
        if (result.status === "succeeded") {
          line = `${palette.green("✓")} ${label}  succeeded in ${took} (${steps})`;
          counts.succeeded++;
        } else {
          const failed = result.steps.find((s) => s.status === "failed" && !s.continued);
          line = `${palette.red("✗")} ${label}  ${result.status} in ${took}` +
            (failed?.error ? `: ${firstLine(failed.error)}` : "");
          counts.failed++;
          if (code === ExitCode.ok) code = ExitCode.stepFailed;
        }
        outcome = `{"file":${JSON.stringify(path)},"status":${
          JSON.stringify(result.status)
        },"run":${resultToJson(result)}}`;
        if (result.status === "cancelled") {
          human(line);
          outcomes.push(outcome);
          break;
        }
      } catch (error) {
        if (!(error instanceof HwfeError)) throw error;
        const message = error instanceof PermissionError ? error.cliMessage : error.message;
        const status = error instanceof PermissionError ? "refused" : "invalid";
        line = `${palette.red("✗")} ${label}  ${status}: ${firstLine(message)}`;
        outcome = JSON.stringify({ file: path, status, error: message });
        counts["not run"]++;
        code = ExitCode.usage;
      }
      human(line);
      outcomes.push(outcome);
    }
    const total = `${files.length} workflow${files.length === 1 ? "" : "s"}`;
    human(
      `\n${total}: ` +
        Object.entries(counts).filter(([, n]) => n).map(([what, n]) => `${n} ${what}`)
          .join(", "),
    );
    if (flags.json) out(`[${outcomes.join(",")}]`);
    return signal.aborted ? signalExit() : code;
  });
}

async function planCommand(arg: string, flags: CommonOptions): Promise<number> {
  const { workflow } = await load(arg, await settingsFor(flags));
  out(formatPlan(planWorkflow(workflow)));
  return ExitCode.ok;
}

async function validateCommand(arg: string, flags: CommonOptions): Promise<number> {
  const config = await settingsFor(flags);
  const { workflow } = await load(arg, config);
  // Grants are checked by `run`; here only whether every language can run.
  const plan = validateWorkflow(workflow, {
    maxModuleBytes: config.settings.maxModuleMb * 1024 * 1024,
  });
  out(
    `${p.green("✓")} ${escapeTerminal(workflow.file ?? arg)}: ` +
      `workflow '${escapeTerminal(workflow.name)}' is valid ` +
      `(${workflow.steps.size} steps in ${plan.levels.length} levels)`,
  );
  return ExitCode.ok;
}

async function listCommand(flags: CommonOptions): Promise<number> {
  const config = await settingsFor(flags);
  const dir = config.settings.workflowsDirectory;
  const files = await workflowFiles(config);
  if (files.length === 0) {
    out(`No workflows (*.lua) in '${escapeTerminal(dir)}'`);
    return ExitCode.ok;
  }
  const rows: [string, string][] = [];
  for (const name of files) {
    try {
      const { workflow } = await loadWorkflowFile(`${dir}/${name}`);
      rows.push([escapeTerminal(name), escapeTerminal(workflow.description ?? "")]);
    } catch (error) {
      const why = escapeTerminal((error as Error).message.split("\n")[0]);
      rows.push([escapeTerminal(name), p.red(`invalid: ${why}`)]);
    }
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, description] of rows) out(`${name.padEnd(width)}  ${description}`.trimEnd());
  return ExitCode.ok;
}

async function configCommand(flags: CommonOptions): Promise<number> {
  const config = await settingsFor(flags);
  out(`Configuration file: ${escapeTerminal(config.file ?? "none (defaults apply)")}`);
  const rows = Object.entries(SETTING_KEYS).map(([setting, key]) => {
    const value = config.settings[setting as keyof ResolvedConfig["settings"]];
    let shown = String(value);
    if (setting === "maxParallelSteps" && value === 0) {
      shown = `0 (= ${navigator.hardwareConcurrency} CPUs)`;
    }
    const source = config.sources[setting as keyof ResolvedConfig["sources"]];
    return [key, escapeTerminal(shown), escapeTerminal(source)];
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [key, value, source] of rows) {
    out(`${key.padEnd(w0)}  ${value.padEnd(w1)}  ${p.dim(`(${source})`)}`);
  }
  return ExitCode.ok;
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command()
    .name("hwfe")
    .description("Run polyglot workflows: a Lua file describing a DAG of steps")
    .version(denoJson.version, "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run 'hwfe --help' for usage)")
    .configureOutput({
      writeOut: (s) => writeAll(Deno.stdout, s),
      // Its errors quote the arguments as given.
      writeErr: (s) => writeAll(Deno.stderr, escapeTerminal(s, { newlines: true })),
    });
  const configOption = () =>
    new Option(
      "--config <path>",
      "configuration file (default: config.toml, .json, .yaml in the working directory)",
    );

  program.command("run")
    .description("run a workflow")
    .argument("[workflow]", "workflow file, or its name in the workflows directory")
    .option("--all", "run every workflow in the workflows directory in turn, one line each")
    .option("-A, --allow-all", "grant everything below (steps still get only what they declare)")
    .option("--allow-run", "allow shell steps to run commands (all or nothing)")
    .option(
      "--allow-read [PATHS]",
      "let steps that declare them read these paths (--allow-read=a,b; bare: all)",
      grantList,
    )
    .option("--allow-write [PATHS]", "let steps that declare them write these paths", grantList)
    .option("--allow-net [HOSTS]", "let steps that declare them reach these hosts", grantList)
    .option(
      "--allow-env [VARS]",
      "let steps that declare them read these environment variables",
      grantList,
    )
    .option("--deny-read [PATHS]", "never let steps read these paths (wins over allow)", grantList)
    .option("--deny-write [PATHS]", "never let steps write these paths", grantList)
    .option("--deny-net [HOSTS]", "never let steps reach these hosts", grantList)
    .option("--deny-env [VARS]", "never let steps read these environment variables", grantList)
    .addOption(new Option("--mode <mode>", "execution mode").choices(["sequential", "parallel"]))
    .addOption(
      new Option(
        "--strategy <strategy>",
        "levels: a level starts when the previous one has ended (default); eager: a step starts when its own dependencies have",
      ).choices(["levels", "eager"]),
    )
    .option(
      "-j, --max-parallel <n>",
      "most steps at once in parallel mode (0 = CPUs)",
      wholeNumber("-j/--max-parallel", MAX_PARALLEL_STEPS),
    )
    .addOption(
      new Option(
        "--on-failure <how>",
        "after a failure: cancel running steps (default), finish_level (let the level finish, then stop), keep_going (skip only its dependents)",
      ).choices(["cancel", "finish_level", "keep_going", "finish-level", "keep-going"]),
    )
    .option(
      "-k, --keep-going",
      "after a failure, let independent steps finish (--on-failure keep_going)",
    )
    .option("--isolate", "run Python steps in child processes (the default)")
    .option(
      "--no-isolate",
      "run Python steps in this process: about 0.25 s faster to start, but a step that exhausts " +
        "its JavaScript heap aborts the whole run",
    )
    .option("--step-timeout <seconds>", "timeout for steps that set none", positiveSeconds)
    .option(
      "--step-memory <MiB>",
      "memory limit for steps without memory_mb (default 1024 in Lua, Python, JS and wasm; none in shell)",
      positiveNumber("MiB", MAX_MEMORY_MB),
    )
    .option(
      "--max-output-mb <MiB>",
      "most output a step may write before it is stopped (default 64)",
      positiveNumber("MiB", MAX_OUTPUT_MB),
    )
    .option(
      "--max-result-mb <MiB>",
      "largest result a step may return (default 64)",
      positiveNumber("MiB", MAX_RESULT_MB),
    )
    .addOption(configOption())
    .option("--json", "print the result as JSON on stdout (progress goes to stderr)")
    .option("-q, --quiet", "print no progress, step output or summary")
    .action(async (arg: string | undefined, flags: RunFlags) =>
      setExit(await runCommand(arg, flags))
    );

  program.command("plan")
    .description("print the dependency levels of a workflow")
    .argument("<workflow>")
    .addOption(configOption())
    .action(async (arg: string, flags: CommonOptions) => setExit(await planCommand(arg, flags)));

  program.command("validate")
    .description("check a workflow without running it")
    .argument("<workflow>")
    .addOption(configOption())
    .action(async (arg: string, flags: CommonOptions) =>
      setExit(await validateCommand(arg, flags))
    );

  program.command("list")
    .description("list the workflows in the workflows directory")
    .addOption(configOption())
    .action(async (flags: CommonOptions) => setExit(await listCommand(flags)));

  program.command("config")
    .description("print the resolved settings and where each came from")
    .addOption(configOption())
    .action(async (flags: CommonOptions) => setExit(await configCommand(flags)));
  return program;
}

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => (code = c));
  try {
    if (args.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    // `hwfe flow.lua` runs it, as the reference engine's command line does.
    const shorthand = args[0]?.endsWith(".lua") &&
      !program.commands.some((command) => command.name() === args[0]);
    await program.parseAsync(bareGrantFlags(shorthand ? ["run", ...args] : args), {
      from: "user",
    });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
          error.code === "commander.help"
        ? ExitCode.ok
        : ExitCode.usage;
    }
    if (error instanceof HwfeError) {
      const problems = error instanceof WorkflowError ? error.problems : [error.message];
      for (const problem of problems) err(`${errColour.red("error:")} ${escapeMessage(problem)}`);
      return error.exitCode;
    }
    err(
      `${errColour.red("internal error:")} ${
        escapeTerminal(error instanceof Error ? error.stack ?? String(error) : String(error), {
          newlines: true,
        })
      }`,
    );
    err("This is a bug in hwfe; please report it with the workflow that caused it.");
    return ExitCode.internal;
  }
}

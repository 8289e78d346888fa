/**
 * The `hwfe` command line: its commands, their flags and help, and the exit
 * code of each error. The cli/ layer is the only place that prints, reads
 * the process environment for settings, and calls `Deno.exit`.
 *
 * @module
 */

import {
  Argument,
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
} from "../_util/npm/commander.ts";
import { ExitCode, HwfeError, WorkflowError } from "../_util/errors.ts";
import { escapeJsonText, escapeMessage, escapeTerminal } from "../_util/terminal_text.ts";
import denoJson from "../deno.json" with { type: "json" };
import { err, errColour, writeAll } from "./output.ts";
import {
  bareGrantFlags,
  type CommonOptions,
  grantList,
  type JsonOptions,
  paramOption,
  type ParamOptions,
  resumeRef,
  type RunFlags,
  secretNames,
  settingOptions,
  stepNames,
} from "./flags.ts";
import { runCommand } from "./run_command.ts";
import { serveCommand, type ServeFlags } from "./serve.ts";
import {
  configCommand,
  graphCommand,
  listCommand,
  planCommand,
  validateCommand,
  type ValidateOptions,
} from "./commands.ts";
import { completionsCommand, type Shell, SHELLS } from "./completions.ts";
import { gcCommand, type HistoryFlags, runsCommand, showCommand } from "./history.ts";
import { logsCommand, type LogsOptions } from "./logs.ts";
import type { RecordedRunStatus } from "../store/rows.ts";
import { GRAPH_FORMATS, type GraphFormat } from "../workflow/graph.ts";

function buildProgram(setExit: (code: number) => void, json: boolean): Command {
  const program = new Command()
    .name("hwfe")
    .description("Run polyglot workflows: a Lua file describing a DAG of steps")
    .version(denoJson.version, "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run 'hwfe --help' for usage)")
    .configureOutput({
      writeOut: (s) => writeAll(Deno.stdout, s),
      // Its errors quote the arguments as given. Under --json they are
      // printed as JSON (main), from the error it throws after this text.
      writeErr: (s) => json || writeAll(Deno.stderr, escapeTerminal(s, { newlines: true })),
    });
  addRunCommand(program, setExit);
  const jsonOption = () => new Option("--json", "print JSON on stdout instead of text");

  program.command("plan")
    .description("print the dependency levels of a workflow")
    .argument("<workflow>")
    .addOption(paramOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (arg: string, flags: JsonOptions & ParamOptions) =>
      setExit(await planCommand(arg, flags))
    );

  program.command("graph")
    .description("print a workflow's DAG as Mermaid (default), Graphviz DOT or a text tree")
    .argument("<workflow>")
    .addOption(
      new Option("--format <format>", "mermaid, dot or text").choices(GRAPH_FORMATS).default(
        "mermaid",
      ),
    )
    .addOption(paramOption())
    .addOption(configOption())
    .action(async (arg: string, flags: CommonOptions & ParamOptions & { format: GraphFormat }) =>
      setExit(await graphCommand(arg, flags))
    );

  program.command("validate")
    .description("check a workflow without running it, each step's code parsed in its language")
    .argument("<workflow>")
    .option("--deep", "also compile Python steps, starting Python if it is not warm")
    .addOption(paramOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (arg: string, flags: ValidateOptions) =>
      setExit(await validateCommand(arg, flags))
    );

  program.command("list")
    .description("list the workflows in the workflows directory")
    .option("--names", "print only their names, one per line (for scripts and completions)")
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (flags: JsonOptions & { names?: boolean }) => setExit(await listCommand(flags)));

  program.command("config")
    .description("print the resolved settings and where each came from")
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (flags: JsonOptions) => setExit(await configCommand(flags)));
  addHistoryCommands(program, setExit);
  addServeCommand(program, setExit);

  program.command("completions")
    .description("print a completion script for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .action((shell: Shell) => setExit(completionsCommand(shell, program)));
  return program;
}

const configOption = () =>
  new Option(
    "--config <path>",
    "configuration file (default: config.toml, .json, .yaml in the working directory)",
  );

/** A flag's whole number of at least `min`. */
const wholeArg = (flag: string, min: number) => (value: string): number => {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min) {
    throw new InvalidArgumentError(`${flag} "${value}" is not a whole number from ${min}`);
  }
  return Number(value);
};

/** `hwfe runs`, `show`, `logs` and `gc`: the run history (cli/history.ts, cli/logs.ts). */
function addHistoryCommands(program: Command, setExit: (code: number) => void): void {
  const json = () => new Option("--json", "print JSON on stdout instead of text");
  const workflow = () =>
    new Option("-w, --workflow <workflow>", "with last: the newest run of this workflow");
  program.command("runs")
    .description("list the recorded runs, newest first (of one workflow when named)")
    .argument("[workflow]", "a workflow's name or file")
    .addOption(
      new Option("--status <status>", "only runs that ended so (or are running, or queued)")
        .choices([
          "queued",
          "running",
          "succeeded",
          "failed",
          "cancelled",
          "interrupted",
        ]),
    )
    .addOption(
      new Option("-n, --limit <n>", "most runs listed; 0 lists all").argParser(
        wholeArg("--limit", 0),
      ).default(20),
    )
    .addOption(json())
    .action((
      arg: string | undefined,
      flags: HistoryFlags & {
        status?: RecordedRunStatus;
        limit: number;
      },
    ) => setExit(runsCommand(arg, { ...flags, limit: flags.limit || undefined })));

  program.command("show")
    .description("show a recorded run: its steps' outcomes and durations, and their errors")
    .argument("<run>", "a run's id (hwfe runs lists them), or last")
    .addOption(workflow())
    .addOption(json())
    .action((run: string, flags: HistoryFlags) => setExit(showCommand(run, flags)));

  program.command("logs")
    .description("print the output of a recorded run's steps (of one step when named)")
    .argument("<run>", "a run's id (hwfe runs lists them), or last")
    .argument("[step]", "only this step's output, as it wrote it")
    .option("-f, --follow", "print new output as the run (in another process) goes, until it ends")
    .addOption(workflow())
    .addOption(new Option("--json", "print each line as a JSON object on a line of its own"))
    .action(async (run: string, step: string | undefined, flags: LogsOptions) =>
      setExit(await logsCommand(run, step, flags))
    );

  program.command("gc")
    .description(
      "remove recorded runs: all but the newest --keep, or those older than --older-than",
    )
    .addOption(new Option("--keep <n>", "keep the newest n runs").argParser(wholeArg("--keep", 0)))
    .addOption(
      new Option("--older-than <days>", "remove runs started more than this many days ago")
        .argParser(wholeArg("--older-than", 0)),
    )
    .addOption(json())
    .action((flags: { keep?: number; olderThan?: number; json?: boolean }) =>
      setExit(gcCommand(flags))
    );
}

/** The grant flags of `run` and `serve`: what steps may have, when they declare it. */
function addGrantOptions(command: Command): void {
  command
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
    .option("--deny-env [VARS]", "never let steps read these environment variables", grantList);
}

/** `hwfe serve`: the HTTP API and the page (docs/SERVER.md). */
function addServeCommand(program: Command, setExit: (code: number) => void): void {
  const serve = program.command("serve")
    .description("serve the API and the page: run workflows and watch them in a browser")
    .addOption(
      new Option("--port <port>", "the port (0: any free one)").default(3000)
        .argParser(wholeArg("--port", 0)),
    )
    .option(
      "--host <host>",
      "the address to listen on (other than loopback: needs --token)",
      "127.0.0.1",
    )
    .option("--token <token>", "required on every API call as a bearer token (or HWFE_TOKEN)")
    .addOption(
      new Option("--max-runs <n>", "runs at once; the rest wait, queued (default: the CPU count)")
        .argParser(wholeArg("--max-runs", 1)),
    );
  addGrantOptions(serve);
  serve.option(
    "--secret <VARS>",
    "also mask these environment variables' values as *** in every run",
    secretNames,
  );
  for (const option of settingOptions().values()) serve.addOption(option);
  serve
    .addOption(configOption())
    .action(async (flags: ServeFlags) => setExit(await serveCommand(flags)));
}

/** `hwfe run` and its flags: grants, then the settings', then output. */
function addRunCommand(program: Command, setExit: (code: number) => void): void {
  const run = program.command("run")
    .description("run a workflow")
    .argument("[workflow]", "workflow file, or its name in the workflows directory")
    .option("--all", "run every workflow in the workflows directory in turn, one line each")
    .addOption(paramOption());
  addGrantOptions(run);
  run
    .option(
      "--secret <VARS>",
      "also mask these environment variables' values as *** (as those named *TOKEN*, *KEY*, ...)",
      secretNames,
    );
  // Help shows how steps are scheduled, then failure and isolation, then
  // the limits: every other setting's flag, in the order they are declared.
  const settings = settingOptions();
  for (const name of ["mode", "strategy", "maxParallelSteps", "onFailure"] as const) {
    run.addOption(settings.get(name)!);
    settings.delete(name);
  }
  run
    .option(
      "-k, --keep-going",
      "after a failure, let independent steps finish (--on-failure keep_going)",
    )
    .option("--isolate", "run Python steps in child processes (the default)")
    .option(
      "--no-isolate",
      "run Python steps in this process: about 0.25 s faster to start, but a step that exhausts " +
        "its JavaScript heap aborts the whole run",
    );
  for (const option of settings.values()) run.addOption(option);
  run
    .addOption(configOption())
    .option("--json", "print the result as JSON on stdout (progress goes to stderr)")
    .option("-q, --quiet", "print no progress, step output or summary")
    .option(
      "--report <file>",
      "write the run as one HTML page: the DAG, a timeline, each step's output",
    )
    .option("--no-history", "do not record the run in hwfe's history (hwfe runs, show, logs)")
    .option(
      "--resume <run>",
      "run again a recorded run (its id, or last): steps that succeeded and have not changed " +
        "keep their results",
      resumeRef,
    )
    .option(
      "--from <step>",
      "run this step and everything downstream of it; other results come from history",
    )
    .option(
      "--only <steps>",
      "run just these steps (a,b); the results they need come from history",
      stepNames,
    )
    .option(
      "--cache",
      "reuse a recorded result whenever a step's hash is unchanged, as if every step said cache = true",
    )
    .action(async (arg: string | undefined, flags: RunFlags) =>
      setExit(await runCommand(arg, flags))
    );
}

/**
 * An error under `--json`, as one JSON document on stderr, so that a
 * program reading hwfe's JSON never has to parse prose:
 * `{"error": {"exit_code": 2, "message": "...", "problems": ["..."]}}`.
 */
function jsonError(exitCode: number, problems: string[]): void {
  const document = { error: { exit_code: exitCode, message: problems.join("\n"), problems } };
  writeAll(Deno.stderr, escapeJsonText(JSON.stringify(document)) + "\n");
}

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const end = args.indexOf("--");
  const json = (end < 0 ? args : args.slice(0, end)).includes("--json");
  const program = buildProgram((c) => (code = c), json);
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
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) return ExitCode.ok;
      if (json) jsonError(ExitCode.usage, [error.message.replace(/^error: /, "")]);
      return ExitCode.usage;
    }
    if (error instanceof HwfeError) {
      const problems = error instanceof WorkflowError ? error.problems : [error.message];
      if (json) jsonError(error.exitCode, problems);
      else {
        for (const problem of problems) err(`${errColour.red("error:")} ${escapeMessage(problem)}`);
      }
      return error.exitCode;
    }
    if (json) {
      jsonError(ExitCode.internal, [
        `internal error (a bug in hwfe; please report it): ${
          error instanceof Error ? error.stack ?? String(error) : String(error)
        }`,
      ]);
      return ExitCode.internal;
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

/**
 * `hwfe run`: one workflow with live progress and a summary, or every
 * workflow of the workflows directory with `--all`; Ctrl-C cancels.
 *
 * @module
 */

import { ConfigError, ExitCode, HwfeError, PermissionError } from "../_util/errors.ts";
import { formatDuration, renderEvent, renderRecap, renderSummary } from "./render.ts";
import { escapeTerminal } from "../_util/terminal_text.ts";
import { resultToJson } from "../api/result_json.ts";
import { IMPLIED_BY_J } from "../api/config.ts";
import { runWithHistory } from "../api/history.ts";
import { RunRecorder } from "../api/run_record.ts";
import { reportHtml } from "../api/report.ts";
import denoJson from "../deno.json" with { type: "json" };
import { shellQuote } from "../_util/quote.ts";
import { dirname } from "node:path";
import { loadWorkflowFile } from "../workflow/load.ts";
import { err, errColour, liveWanted, out, p, setOverlay, warn } from "./output.ts";
import type { LiveView } from "./live.ts";
import type { Workflow } from "../workflow/model.ts";
import { rerunArgs, type RunFlags, runOptions, settingsFor } from "./flags.ts";
import { load, workflowFiles } from "./workflows.ts";
import { historyFor } from "./history.ts";

/** The width of the terminal the summary goes to (stderr with --json), if it is one. */
function terminalWidth(json?: boolean): number | undefined {
  const stream = json ? Deno.stderr : Deno.stdout;
  try {
    return stream.isTerminal() ? Deno.consoleSize().columns : undefined;
  } catch {
    return undefined;
  }
}

/** A second signal sooner than this after the first is the same one, delivered twice. */
const SAME_SIGNAL_MS = 250;

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
  let first = 0;
  const onSignal = (code: number, what: string) => () => {
    // One Ctrl-C can arrive twice: `deno task` passes it on to hwfe, and
    // the terminal sends it to hwfe too, as to its whole process group.
    // Within SAME_SIGNAL_MS of the first it is taken as that one.
    if (interrupts === 1 && performance.now() - first < SAME_SIGNAL_MS) return;
    first ||= performance.now();
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

export async function runCommand(arg: string | undefined, flags: RunFlags): Promise<number> {
  if (flags.all && arg !== undefined) {
    throw new ConfigError(
      `run: give a workflow or --all, not both (--all runs every workflow in the workflows directory)`,
    );
  }
  if (flags.all && flags.param) {
    throw new ConfigError(
      "run: --param gives values to one workflow's parameters, not with --all",
    );
  }
  const reuseFlag = flags.resume !== undefined
    ? "--resume"
    : flags.from !== undefined
    ? "--from"
    : flags.only !== undefined
    ? "--only"
    : undefined;
  if (flags.all && reuseFlag) {
    throw new ConfigError(`run: ${reuseFlag} applies to one workflow's runs, not with --all`);
  }
  if (flags.all && flags.report !== undefined) {
    throw new ConfigError(
      `run: --report writes one run's report; with --all, run each workflow with its own --report`,
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
  const { workflow } = await load(arg, config, flags.param);
  const human = flags.json ? err : out;
  const humanPalette = flags.json ? errColour : p;
  const record = new RunRecorder({ workflow });
  const startedAt = new Date();
  const reportFile = await openReport(flags.report);
  const live = liveWanted({ isTerminal: Deno.stdout.isTerminal(), ...flags })
    ? await startLive(workflow)
    : undefined;

  let runId: number | undefined;
  const history = {
    ...historyFor(flags, settings),
    params: workflow.params,
    reuse: { resume: flags.resume, from: flags.from, only: flags.only, cache: flags.cache },
    onRecorded: (id: number) => (runId = id),
  };

  return await cancellable(async (signal, signalExit) => {
    try {
      const result = await runWithHistory(workflow, {
        ...runOptions(settings, flags, signal),
        onEvent: (event) => {
          record.onEvent(event);
          live?.onEvent(event);
          if (event.type === "run_started") {
            // Printed once the run has passed its checks and is about to start.
            const implied = config.sources.mode === IMPLIED_BY_J
              ? `; -j ${settings.maxParallelSteps}`
              : "";
            err(
              `Execution mode: ${event.mode}` +
                (event.mode === "parallel"
                  ? ` (up to ${event.maxParallel} steps at once${implied})`
                  : "") +
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
          // The live view shows started steps on its board, not as lines.
          if (live && event.type === "step_started") return;
          const text = renderEvent(event, humanPalette);
          if (text !== undefined) human(text);
        },
      }, history).finally(() => stopLive(live));
      if (!flags.quiet) human(renderSummary(result, humanPalette, terminalWidth(flags.json)));
      if (reportFile) {
        const html = reportHtml(result, record, { version: denoJson.version, startedAt });
        await writeReport(reportFile, html);
      }
      if (flags.json) {
        out(resultToJson(result, { version: denoJson.version, record, runId }));
      } else if (runId !== undefined && live) {
        // Where to find it again; only on a terminal, so logs and pipes stay as they were.
        err(
          errColour.dim(`Recorded as run ${runId}: hwfe show ${runId}, hwfe logs ${runId} <step>`),
        );
      }
      const recap = renderRecap(result, errColour);
      if (recap) err(`\n${recap}`);
      if (result.status === "cancelled") return signalExit();
      return result.status === "succeeded" ? ExitCode.ok : ExitCode.stepFailed;
    } catch (error) {
      await discardReport(reportFile);
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

/**
 * The live view (cli/live.ts, loaded only for it), holding the terminal:
 * hwfe's lines go above its board until {@link stopLive}.
 */
async function startLive(workflow: Workflow): Promise<LiveView> {
  const { LiveView } = await import("./live.ts");
  const view = new LiveView({
    palette: p,
    dependsOn: (step) => workflow.steps.get(step)?.dependsOn ?? [],
  });
  setOverlay(view);
  return view;
}

/** Ends the live view, if any, so that the summary and what follows print as lines. */
function stopLive(live: LiveView | undefined): void {
  if (!live) return;
  setOverlay(undefined);
  live.stop();
}

/**
 * Opens the report's file before the run, so that a path that cannot be
 * written is a usage error at once rather than news after a long run.
 */
async function openReport(path: string | undefined): Promise<ReportFile | undefined> {
  if (path === undefined) return undefined;
  const existed = await Deno.lstat(path).then(() => true, () => false);
  try {
    // Not truncated yet: a run refused before it starts keeps the old report.
    return { file: await Deno.open(path, { write: true, create: true }), path, existed };
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? `the folder '${dirname(path)}' does not exist: create it, or give another path`
      : error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
      ? "hwfe may not write that file: give a path you can write to"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a folder: give a file's path, such as run.html"
      : (error as Error).message;
    throw new HwfeError(`--report ${path}: cannot write the report there: ${why}`, ExitCode.usage);
  }
}

/** The report's file, opened before the run. */
interface ReportFile {
  file: Deno.FsFile;
  path: string;
  /** Whether the file was there before: one hwfe made for a run refused is removed. */
  existed: boolean;
}

/** A run that never started leaves no new, empty report behind. */
async function discardReport(report: ReportFile | undefined): Promise<void> {
  if (!report) return;
  report.file.close();
  if (!report.existed) await Deno.remove(report.path).catch(() => {});
}

async function writeReport({ file, path }: ReportFile, html: string): Promise<void> {
  try {
    await file.truncate(0);
    await new Blob([html]).stream().pipeTo(file.writable);
  } catch (error) {
    // The run's outcome stands: its exit code is not lost for want of a report.
    warn(`--report ${path}: the report could not be written: ${(error as Error).message}`);
    return;
  }
  err(`Report: ${escapeTerminal(path)}`);
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
        const result = await runWithHistory(workflow, {
          ...runOptions(config.settings, flags, signal),
          onEvent: (event) => {
            if (event.type === "warning") warn(`${name}: ${event.message}`);
          },
        }, historyFor(flags, config.settings, (message) => warn(`${name}: ${message}`)));
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

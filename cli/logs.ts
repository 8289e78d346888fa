/**
 * `hwfe logs <run> [step]`: the output a recorded run's steps wrote, as the
 * run showed it (`[step] line`), or one step's lines as they were written
 * (its stderr on stderr); `--follow` prints a running run's new lines as
 * another process records them, until the run ends or Ctrl-C.
 *
 * @module
 */

import { sleep } from "../_util/abort.ts";
import { didYouMean, ExitCode, HwfeError } from "../_util/errors.ts";
import { escapeJsonText, escapeTerminal } from "../_util/terminal_text.ts";
import type { RunStore } from "../store/store.ts";
import type { OutputRow } from "../store/rows.ts";
import { err, errColour, out, p, writeAll } from "./output.ts";
import { findRun, type HistoryFlags } from "./history.ts";

/** `hwfe logs`' options. */
export interface LogsOptions extends HistoryFlags {
  follow?: boolean;
}

/** Milliseconds between two looks at a followed run. */
const FOLLOW_POLL_MS = 250;
/** Lines read at once: memory stays bounded however much a run wrote. */
const PAGE = 1000;

/** Prints lines: `[step] line`, or one step's bare lines; JSON Lines with --json. */
function printer(step: string | undefined, json: boolean): (row: OutputRow) => void {
  if (json) {
    return (row) =>
      writeAll(
        Deno.stdout,
        escapeJsonText(JSON.stringify({
          seq: row.seq,
          at: new Date(row.at).toISOString(),
          step: row.step,
          stream: row.stream,
          line: row.line,
        })) + "\n",
      );
  }
  return (row) => {
    const palette = step !== undefined && row.stream === "stderr" ? errColour : p;
    const line = escapeTerminal(row.line, { colour: palette.enabled });
    // A colour the step leaves on must not run into the next line.
    const reset = line.includes("\x1b") ? "\x1b[0m" : "";
    if (step === undefined) {
      out(`${p.step(row.step)(`[${escapeTerminal(row.step)}]`)} ${line}${reset}`);
    } else if (row.stream === "stderr") err(`${line}${reset}`);
    else out(`${line}${reset}`);
  };
}

/** Prints every line after `afterSeq`, a page at a time; returns the last one's seq. */
function drain(
  store: RunStore,
  runId: number,
  step: string | undefined,
  afterSeq: number,
  print: (row: OutputRow) => void,
): number {
  for (;;) {
    const rows = store.output(runId, step, { afterSeq, limit: PAGE });
    for (const row of rows) print(row);
    if (rows.length) afterSeq = rows[rows.length - 1].seq;
    if (rows.length < PAGE) return afterSeq;
  }
}

/** `hwfe logs <run> [step]`. */
export async function logsCommand(
  text: string,
  step: string | undefined,
  flags: LogsOptions,
): Promise<number> {
  const { store, run } = findRun(text, flags.workflow);
  try {
    if (step !== undefined) {
      const steps = store.steps(run.id);
      const names = steps.map((s) => s.name);
      const reusedFrom = steps.find((s) => s.name === step)?.reusedFrom;
      if (reusedFrom !== undefined && !flags.json) {
        // It did not run here: its output is where its result came from.
        err(p.dim(
          `step '${escapeTerminal(step)}' took its result from run ${reusedFrom} and wrote ` +
            `nothing in run ${run.id}: hwfe logs ${reusedFrom} ${escapeTerminal(step)}`,
        ));
      }
      if (!names.includes(step)) {
        throw new HwfeError(
          `Run ${run.id} (${run.workflow}) has no step '${step}'${
            didYouMean(step, names)
          }: hwfe show ${run.id} lists its steps`,
          ExitCode.usage,
        );
      }
    }
    const print = printer(step, flags.json ?? false);
    let seq = drain(store, run.id, step, 0, print);
    const live = (status?: string) => status === "running" || status === "queued";
    if (!flags.follow || !live(run.status)) return ExitCode.ok;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    Deno.addSignalListener("SIGINT", onSignal);
    try {
      while (!stop.signal.aborted) {
        await sleep(FOLLOW_POLL_MS, stop.signal);
        // Read the status first: lines written before the run ended are drained after.
        const status = store.getRun(run.id)?.status;
        seq = drain(store, run.id, step, seq, print);
        if (!live(status)) return ExitCode.ok;
      }
      return ExitCode.interrupted;
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
    }
  } finally {
    store.close();
  }
}

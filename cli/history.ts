/**
 * The run history's commands: `hwfe runs` (a table of recorded runs),
 * `hwfe show <run>` (its steps, outcomes, durations and errors) and
 * `hwfe gc` (pruning); `hwfe logs` is in cli/logs.ts. Runs are read from
 * the run store (store/) in `HWFE_DATA_DIR` or the platform's data
 * directory; `last` stands for the newest run wherever an id does.
 *
 * @module
 */

import { resolve } from "node:path";
import { ConfigError, ExitCode, HwfeError } from "../_util/errors.ts";
import { parseJsonExact, stringifyJson } from "../_util/json.ts";
import { escapeJsonText, escapeMessage, escapeTerminal } from "../_util/terminal_text.ts";
import { type HistoryOptions, readHistory } from "../api/history.ts";
import { runDetailJson, runJson } from "../api/history_json.ts";
import denoJson from "../deno.json" with { type: "json" };
import { defaultDataDir, historyPath } from "../store/location.ts";
import type { RunFilter, RunStore } from "../store/store.ts";
import type { RecordedRunStatus, RunRow, StepRow } from "../store/rows.ts";
import { formatDuration, type Palette } from "./render.ts";
import { out, p, warn, writeAll } from "./output.ts";

/** Options of the history commands that can print JSON. */
export interface HistoryFlags {
  json?: boolean;
  /** The workflow whose newest run `last` means. */
  workflow?: string;
}

/** The data directory, or a usage error saying how to name one. */
export function dataDir(): string {
  const dir = defaultDataDir();
  if (dir === undefined) {
    throw new ConfigError(
      "No data directory for hwfe's history (no home directory is set): set HWFE_DATA_DIR",
    );
  }
  return dir;
}

/**
 * How `hwfe run` records a run (api/history.ts `runWithHistory`): in
 * `HWFE_DATA_DIR` or the platform's data directory, with `settings`; not
 * at all with `--no-history`. Problems are warnings (`onWarning`).
 */
export function historyFor(
  flags: { history?: boolean },
  settings: unknown,
  onWarning: (message: string) => void = warn,
): HistoryOptions {
  return {
    dataDir: defaultDataDir(),
    enabled: flags.history !== false,
    version: denoJson.version,
    settings,
    onWarning,
  };
}

/** The store to read, or undefined when nothing was ever recorded there. */
export function readStore(): { store?: RunStore; path: string } {
  const dir = dataDir();
  return { store: readHistory(dir), path: historyPath(dir) };
}

/** A run's id, or "last": what the user typed, checked. */
export function runRef(text: string): number | "last" {
  if (text === "last") return "last";
  if (/^[1-9]\d{0,14}$/.test(text)) return Number(text);
  throw new ConfigError(
    `'${text}' is not a run: give a run's id (hwfe runs lists them) or last for the newest`,
  );
}

/** The filter of runs of `workflow`: a path to a .lua file, or a workflow's name. */
export function workflowFilter(workflow: string | undefined): Pick<RunFilter, "workflow" | "file"> {
  if (workflow === undefined) return {};
  return /[\\/]|\.lua$/.test(workflow) ? { file: resolve(workflow) } : { workflow };
}

/** The run `text` names (an id or last, of `workflow` when given), or an error saying there is none. */
export function findRun(text: string, workflow?: string): { store: RunStore; run: RunRow } {
  const ref = runRef(text);
  const { store, path } = readStore();
  const run = store?.getRun(ref, workflowFilter(workflow));
  if (!store || !run) {
    store?.close();
    const which = ref === "last" ? "no run" : `no run ${ref}`;
    const of = workflow === undefined ? "" : ` of '${workflow}'`;
    throw new HwfeError(
      `There is ${which}${of} in ${path}: hwfe runs lists the runs recorded there`,
      ExitCode.usage,
    );
  }
  return { store, run };
}

/** An instant as local time, `2026-12-03 12:00:01`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** How long a run took, or has taken so far. */
function runDuration(run: RunRow, now = Date.now()): number {
  return run.durationMs ?? now - run.startedAt;
}

/** A status in its colour. */
export function statusColour(status: string, palette: Palette): (s: string) => string {
  if (status === "succeeded") return palette.green;
  if (status === "failed") return palette.red;
  if (status === "running" || status === "queued") return palette.cyan;
  if (status === "skipped" || status === "pending") return palette.dim;
  return palette.yellow;
}

/** Rows as columns two spaces apart; `colour` colours a padded cell. */
function table(
  rows: string[][],
  colour: (row: number, column: number, cell: string) => string = (_r, _c, cell) => cell,
): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row, r) =>
    row.map((cell, i) => colour(r, i, cell.padEnd(widths[i]))).join("  ").trimEnd()
  );
}

/** One JSON document on stdout; characters a terminal acts on are escaped. */
export function printJson(value: unknown): void {
  writeAll(Deno.stdout, escapeJsonText(stringifyJson(value, 2)) + "\n");
}

/** `hwfe runs [workflow]`: the recorded runs, newest first. */
export function runsCommand(
  workflow: string | undefined,
  flags: HistoryFlags & { status?: RecordedRunStatus; limit?: number },
): number {
  const { store, path } = readStore();
  const runs = store?.listRuns({
    ...workflowFilter(workflow),
    status: flags.status,
    limit: flags.limit,
  }) ?? [];
  store?.close();
  if (flags.json) {
    printJson({ path, runs: runs.map(runJson) });
    return ExitCode.ok;
  }
  if (runs.length === 0) {
    const which = workflow === undefined ? "No runs" : `No runs of '${escapeTerminal(workflow)}'`;
    out(`${which}${flags.status ? ` ${flags.status}` : ""} recorded in ${escapeTerminal(path)}`);
    return ExitCode.ok;
  }
  const rows = [
    ["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION"],
    ...runs.map((run) => [
      String(run.id),
      escapeTerminal(run.workflow),
      escapeTerminal(run.status),
      localTime(run.startedAt),
      formatDuration(runDuration(run)),
    ]),
  ];
  for (
    const line of table(
      rows,
      (r, c, cell) => r === 0 ? p.dim(cell) : c === 2 ? statusColour(rows[r][2], p)(cell) : cell,
    )
  ) out(line);
  if (flags.limit !== undefined && runs.length === flags.limit) {
    out(p.dim(`(the newest ${flags.limit}: -n 0 lists every one)`));
  }
  return ExitCode.ok;
}

/** `hwfe show <run>`: the run, each step's outcome and durations, and each failed step's error. */
export function showCommand(text: string, flags: HistoryFlags): number {
  const { store, run } = findRun(text, flags.workflow);
  const steps = store.steps(run.id);
  store.close();
  if (flags.json) {
    printJson(runDetailJson(run, steps));
    return ExitCode.ok;
  }
  for (const line of describeRun(run, steps, p)) out(line);
  return ExitCode.ok;
}

/** The run's parameters as `name=value` pairs, when it had any. */
function paramsRow(params: string | undefined): string[][] {
  const values = params === undefined ? undefined : parseJsonExact(params);
  if (typeof values !== "object" || values === null || Object.keys(values).length === 0) return [];
  const pairs = Object.entries(values).map(([name, value]) =>
    `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`
  );
  return [["  params", escapeTerminal(pairs.join(", "))]];
}

/** The text of `hwfe show`: the run's header, its steps' table, the errors. */
export function describeRun(run: RunRow, steps: StepRow[], palette: Palette): string[] {
  const status = statusColour(run.status, palette)(escapeTerminal(run.status));
  const lines = [
    `${palette.bold(`Run ${run.id}`)}: ${escapeTerminal(run.workflow)} ${status}`,
    ...table([
      ["  file", run.file === undefined ? "-" : escapeTerminal(run.file)],
      [
        "  started",
        `${localTime(run.startedAt)}, ${run.status === "running" ? "running for" : "took"} ${
          formatDuration(runDuration(run))
        }`,
      ],
      [
        "  mode",
        `${run.mode}${
          run.mode === "parallel" ? `, up to ${run.maxParallel} at once` : ""
        }, ${run.strategy}`,
      ],
      [
        "  hwfe",
        `${escapeTerminal(run.hwfeVersion)}, pid ${run.pid} on ${escapeTerminal(run.host || "?")}`,
      ],
      ...paramsRow(run.params),
      ...(run.resumedFrom !== undefined ? [["  resumed", `run ${run.resumedFrom}`]] : []),
    ]),
  ];
  if (steps.length) {
    const rows = [
      ["STEP", "LANGUAGE", "STATUS", "ATTEMPTS", "DURATION", "WAITED"],
      ...steps.map((s) => [
        escapeTerminal(s.name),
        escapeTerminal(s.language),
        s.reusedFrom !== undefined
          ? `↺ reused from run ${s.reusedFrom}`
          : s.continued
          ? "failed (continued)"
          : escapeTerminal(s.status),
        s.attempts > 1 ? String(s.attempts) : s.attempts ? "1" : "-",
        s.durationMs === undefined || s.reusedFrom !== undefined
          ? "-"
          : formatDuration(s.durationMs),
        s.waitedMs ? formatDuration(s.waitedMs) : "-",
      ]),
    ];
    lines.push(
      "",
      ...table(
        rows,
        (r, c, cell) =>
          r === 0
            ? palette.dim(cell)
            : c === 2
            ? statusColour(steps[r - 1].status, palette)(cell)
            : cell,
      ),
    );
  }
  const failed = steps.filter((s) => s.status === "failed" && s.error !== undefined);
  if (failed.length || run.error) lines.push("");
  if (run.error) lines.push(`${palette.red("✗")} ${escapeMessage(run.error)}`);
  for (const step of failed) {
    // The error usually starts by naming the step again: say it once.
    const again = `step '${step.name}' `;
    const error = step.error!.startsWith(again)
      ? step.error!.slice(again.length).replace(/^\([\w-]+\) /, "")
      : step.error!;
    lines.push(`${palette.red("✗")} ${escapeTerminal(step.name)}: ${escapeMessage(error)}`);
  }
  return lines;
}

/** `hwfe gc`: removes the runs beyond the newest `--keep` and those older than `--older-than` days. */
export function gcCommand(flags: { keep?: number; olderThan?: number; json?: boolean }): number {
  if (flags.keep === undefined && flags.olderThan === undefined) {
    throw new ConfigError(
      "gc: which runs? Give --keep N (keep the newest N) or --older-than DAYS, or both",
    );
  }
  const { store, path } = readStore();
  const removed = store?.gc({ keep: flags.keep, olderThanDays: flags.olderThan }) ?? 0;
  const kept = store?.count() ?? 0;
  store?.close();
  if (flags.json) printJson({ path, removed, kept });
  else {out(
      `Removed ${removed} run${removed === 1 ? "" : "s"} from ${
        escapeTerminal(path)
      }; ${kept} kept`,
    );}
  return ExitCode.ok;
}

/**
 * Recording one run as it happens: its row and its steps' rows at the
 * start, then every event, kept in memory and written in one transaction
 * every {@link FLUSH_MS} ms (or every {@link MAX_PENDING} events, and at
 * the end), so that a run of 2,000 trivial steps costs a few dozen
 * transactions rather than 10,000 (scripts/bench.ts, docs/HISTORY.md).
 * Output is kept in the events table, not in files beside the database:
 * consecutive lines of one step and stream are one row (a chunk of up to
 * {@link CHUNK_LINES} lines, each with its own sequence number), so that
 * 2,000 steps of a few lines cost 2,000 rows and a step writing 200,000
 * lines a few hundred, where a file per step costs a file created per
 * step; and a reader gets output and events in one ordered query
 * (store/store_bench.ts; figures in docs/HISTORY.md).
 *
 * A writer never throws into the run: the first error it meets goes to
 * `onError`, and it records nothing more. A lock held by another writer
 * past the busy timeout only delays the write to the next flush.
 *
 * @module
 */

import type { RunEvent, RunResult, StepReport } from "../engine/events.ts";
import type { JsonText } from "../_util/json.ts";
import type { Language } from "../workflow/model.ts";
import { type Database, type SqlValue, transaction } from "./database.ts";
import { isBusy, type StoreError, storeErrorOf } from "./store_error.ts";
import { holdLock, type ProcessIdentity, releaseLock, type RunLock } from "./run_lock.ts";

/** Milliseconds events wait in memory before they are written. */
export const FLUSH_MS = 100;
/** Events held in memory before they are written at once. */
export const MAX_PENDING = 2000;
/**
 * Milliseconds between a writer's heartbeats while nothing else is written:
 * a reader takes a run whose heartbeat is {@link STALE_MS} old as interrupted.
 */
export const HEARTBEAT_MS = 5000;
/** A running run whose writer has not written for this long was interrupted. */
export const STALE_MS = 60_000;
/** Most lines in one row of output. */
export const CHUNK_LINES = 1000;
/** Most characters in one row of output (a longer line is a row of its own). */
const CHUNK_CHARS = 64 * 1024;
/** How long `finish` keeps trying when another writer holds the lock. */
const FINISH_PATIENCE_MS = 30_000;

/** What is known of a run when it starts: its row in the runs table. */
export interface RunStart {
  workflow: string;
  /** The workflow file's absolute path. */
  file?: string;
  fileSha256?: string;
  params?: JsonText;
  /** The settings it was given, as JSON text. */
  settings: JsonText;
  mode: string;
  strategy: string;
  maxParallel: number;
  levels: string[][];
  /** Every step, in plan order. */
  steps: readonly { name: string; language: Language; level: number }[];
  hwfeVersion: string;
  resumedFrom?: number;
  /**
   * Recorded as "queued": the run waits for its turn (a server's queue).
   * Its `run_started` event makes it "running", from then.
   */
  queued?: boolean;
}

/** Options of a {@link RunWriter}. */
export interface WriterOptions {
  /** The clock, in milliseconds since the epoch (`Date.now` by default). */
  now?: () => number;
  /** Told of the first error that stops the recording (never thrown). */
  onError?: (error: StoreError) => void;
}

/** One pending write: a statement and its parameters. */
type Write = [statement: Statement, params: SqlValue[]];
type Statement = ReturnType<Database["prepare"]>;
/** Consecutive lines of one step and stream, pending: one row, a sequence number each. */
interface Chunk {
  seq: number;
  at: number;
  step: string;
  stream: string;
  lines: string[];
  chars: number;
}

/** The exit code of a shell step: 0 when it succeeded, else from its error's words. */
function exitCodeOf(report: StepReport): number | null {
  if (report.language !== "shell") return null;
  if (report.status === "succeeded") return 0;
  const code = /\) exited with code (\d+)/.exec(report.error ?? "")?.[1];
  return code === undefined ? null : Number(code);
}

/** An event's stored form: its step, and its other fields as JSON (store/rows.ts EventRow). */
function storedEvent(event: RunEvent): [step: string | null, data: string | null] {
  switch (event.type) {
    case "step_finished": {
      const { result: _, ...report } = event.report;
      return [report.name, JSON.stringify(report)];
    }
    case "run_started": {
      const { type: _, levels: __, ...rest } = event;
      return [null, JSON.stringify(rest)];
    }
    case "run_finished":
      return [
        null,
        JSON.stringify({ status: event.result.status, durationMs: event.result.durationMs }),
      ];
    default: {
      const { type: _, ...rest } = event as { type: string; step?: string };
      const step = rest.step ?? null;
      delete rest.step;
      return [step, JSON.stringify(rest)];
    }
  }
}

/**
 * Writes one run's row, steps and events: give {@link RunWriter.onEvent}
 * every event of the run, then {@link RunWriter.finish} its result.
 */
export class RunWriter {
  /** The run's id: `hwfe show <id>`. */
  readonly id: number;
  readonly #db: Database;
  readonly #now: () => number;
  readonly #onError: (error: StoreError) => void;
  readonly #path: string;
  readonly #pending: (Write | Chunk)[] = [];
  /** The last pending write when it is a chunk of output, which the next line may join. */
  #chunk?: Chunk;
  readonly #finished = new Set<string>();
  readonly #sql: Record<
    | "event"
    | "output"
    | "started"
    | "running"
    | "retrying"
    | "finished"
    | "heartbeat"
    | "begun",
    Statement
  >;
  readonly #lock?: RunLock;
  #seq = 0;
  #timer?: ReturnType<typeof setTimeout>;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #stopped = false;

  /**
   * Writes run `id` (its row inserted by {@link insertRun}) into `db`, the
   * database at `path`, holding the run's lock in `lockDir` until it ends.
   */
  constructor(
    db: Database,
    path: string,
    lockDir: string,
    id: number,
    options: WriterOptions = {},
  ) {
    this.#db = db;
    this.#path = path;
    this.id = id;
    this.#lock = holdLock(lockDir, id);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    const prepare = (sql: string) => db.prepare(sql);
    this.#sql = {
      event: prepare(
        "INSERT INTO events (run_id, seq, at, type, step, data) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      output: prepare(
        "INSERT INTO events (run_id, seq, at, type, step, stream, text, lines) " +
          "VALUES (?, ?, ?, 'step_output', ?, ?, ?, ?)",
      ),
      started: prepare(
        "UPDATE steps SET status = 'running', started_at = coalesce(started_at, ?), " +
          "attempts = max(attempts, 1) WHERE run_id = ? AND name = ?",
      ),
      running: prepare(
        "UPDATE steps SET running_at = coalesce(running_at, ?), attempts = max(attempts, ?) " +
          "WHERE run_id = ? AND name = ?",
      ),
      retrying: prepare(
        "UPDATE steps SET attempts = max(attempts, ?) WHERE run_id = ? AND name = ?",
      ),
      finished: prepare(
        "UPDATE steps SET status = ?, attempts = ?, finished_at = ?, duration_ms = ?, " +
          "waited_ms = ?, result = ?, error = ?, attempt_errors = ?, exit_code = ?, " +
          "continued = ?, hash = ?, reused_from = ? WHERE run_id = ? AND name = ?",
      ),
      begun: prepare(
        "UPDATE runs SET status = 'running', started_at = ?, mode = ?, strategy = ?, " +
          "max_parallel = ? WHERE id = ? AND status = 'queued'",
      ),
      heartbeat: prepare(
        "UPDATE runs SET heartbeat_at = ?, error = NULL, " +
          "status = CASE status WHEN 'queued' THEN 'queued' ELSE 'running' END " +
          "WHERE id = ? AND status IN ('running', 'interrupted', 'queued')",
      ),
    };
    this.#heartbeat = setInterval(() => this.flush(), HEARTBEAT_MS);
    Deno.unrefTimer(this.#heartbeat);
  }

  /** Takes one event of the run; never throws. */
  onEvent = (event: RunEvent): void => {
    if (this.#stopped) return;
    const at = this.#now();
    const seq = ++this.#seq;
    const id = this.id;
    if (event.type === "step_output") {
      return this.#output(seq, at, event.step, event.stream, event.line);
    }
    const [step, data] = storedEvent(event);
    this.#queue(this.#sql.event, [id, seq, at, event.type, step, data]);
    switch (event.type) {
      case "run_started":
        return this.#queue(this.#sql.begun, [
          at,
          event.mode,
          event.strategy,
          event.maxParallel,
          id,
        ]);
      case "step_started":
        return this.#queue(this.#sql.started, [at, id, event.step]);
      case "step_running":
        return this.#queue(this.#sql.running, [at, event.attempt, id, event.step]);
      case "step_retrying":
        return this.#queue(this.#sql.retrying, [event.attempt, id, event.step]);
      case "step_finished":
        return this.#stepFinished(event.report, at);
    }
  };

  #stepFinished(report: StepReport, at: number): void {
    this.#finished.add(report.name);
    const ms = (value: number | undefined) => value === undefined ? null : Math.round(value);
    this.#queue(this.#sql.finished, [
      report.status,
      report.attempts ?? (report.startMs === undefined || report.reusedFrom !== undefined ? 0 : 1),
      at,
      ms(report.durationMs),
      ms(report.waitedMs),
      report.result ?? null,
      report.error ?? null,
      report.attemptErrors?.length ? JSON.stringify(report.attemptErrors) : null,
      exitCodeOf(report),
      report.continued ? 1 : 0,
      report.hash ?? null,
      report.reusedFrom ?? null,
      this.id,
      report.name,
    ]);
  }

  #output(seq: number, at: number, step: string, stream: string, line: string): void {
    const chunk = this.#chunk;
    if (
      chunk && chunk.step === step && chunk.stream === stream &&
      chunk.lines.length < CHUNK_LINES && chunk.chars + line.length <= CHUNK_CHARS
    ) {
      chunk.lines.push(line);
      chunk.chars += line.length + 1;
      return;
    }
    const next = { seq, at, step, stream, lines: [line], chars: line.length + 1 };
    this.#add(next);
    this.#chunk = next;
  }

  #queue(statement: Statement, params: SqlValue[]): void {
    this.#add([statement, params]);
  }

  #add(write: Write | Chunk): void {
    this.#chunk = undefined;
    this.#pending.push(write);
    if (this.#pending.length >= MAX_PENDING) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /**
   * Writes what is pending, with the heartbeat, in one transaction (it
   * happens by itself; readers of this process may want it now). Returns
   * false when another writer held the lock past the busy timeout: the
   * writes stay pending for the next flush.
   */
  flush(): boolean {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return true;
    try {
      transaction(this.#db, () => {
        for (const write of this.#pending) {
          if (Array.isArray(write)) write[0].run(...write[1]);
          else {
            const { seq, at, step, stream, lines } = write;
            this.#sql.output.run(this.id, seq, at, step, stream, lines.join("\n"), lines.length);
          }
        }
        this.#sql.heartbeat.run(this.#now(), this.id);
      });
      this.#pending.length = 0;
      this.#chunk = undefined;
      return true;
    } catch (error) {
      if (isBusy(error)) {
        this.#timer = setTimeout(() => this.flush(), FLUSH_MS);
        return false;
      }
      this.#fail(error);
      return true;
    }
  }

  #fail(error: unknown): void {
    this.#stop();
    this.#onError(storeErrorOf(this.#path, error));
  }

  #stop(keepLockFile = false): void {
    this.#stopped = true;
    this.#pending.length = 0;
    this.#chunk = undefined;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    releaseLock(this.#lock, keepLockFile);
  }

  /**
   * Stops recording, writing nothing more (what is pending is lost), and
   * lets go of the run's lock as a process that dies does: readers then
   * find the run interrupted. For tests, and for a process that must stop
   * at once.
   */
  abandon(): void {
    if (!this.#stopped) this.#stop(true);
  }

  /**
   * Writes the run's outcome (and every step the events did not finish, as
   * the result reports it); when `result` is an error message instead, the
   * run ended with it (failed, or cancelled before it began). Never
   * throws; the writer records nothing after.
   */
  finish(result: RunResult | { error: string; status?: "failed" | "cancelled" }): void {
    if (this.#stopped) return;
    if ("steps" in result) {
      for (const report of result.steps) {
        if (!this.#finished.has(report.name)) this.#stepFinished(report, this.#now());
      }
    }
    const deadline = this.#now() + FINISH_PATIENCE_MS;
    while (!this.flush()) {
      if (this.#now() > deadline) {
        return this.#fail(Object.assign(new Error("database is locked"), { errcode: 5 }));
      }
    }
    if (this.#stopped) return;
    const now = this.#now();
    const [status, error, durationMs] = "steps" in result
      ? [result.status, null, Math.round(result.durationMs)]
      : [result.status ?? "failed", result.error, null];
    try {
      transaction(this.#db, () => {
        const started = this.#db.prepare("SELECT started_at FROM runs WHERE id = ?")
          .get(this.id) as { started_at: number };
        this.#db.prepare(
          "UPDATE runs SET status = ?, error = ?, finished_at = ?, duration_ms = ?, " +
            "heartbeat_at = ? WHERE id = ?",
        ).run(status, error, now, durationMs ?? now - started.started_at, now, this.id);
      });
    } catch (error) {
      return this.#fail(error);
    }
    this.#stop();
  }
}

/**
 * Inserts a run's row and its steps' rows (pending) in one transaction and
 * returns the run's id.
 */
export function insertRun(
  db: Database,
  start: RunStart,
  process: ProcessIdentity,
  now: number,
): number {
  return transaction(db, () => {
    const { lastInsertRowid } = db.prepare(
      "INSERT INTO runs (workflow, file, file_sha256, params, settings, mode, strategy, " +
        "max_parallel, levels, status, started_at, heartbeat_at, hwfe_version, host, pid, " +
        "resumed_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      start.workflow,
      start.file ?? null,
      start.fileSha256 ?? null,
      start.params ?? null,
      start.settings,
      start.mode,
      start.strategy,
      start.maxParallel,
      JSON.stringify(start.levels),
      start.queued ? "queued" : "running",
      now,
      now,
      start.hwfeVersion,
      process.host,
      process.pid,
      start.resumedFrom ?? null,
    );
    const id = Number(lastInsertRowid);
    const step = db.prepare(
      "INSERT INTO steps (run_id, name, position, language, level, status) " +
        "VALUES (?, ?, ?, ?, ?, 'pending')",
    );
    start.steps.forEach((s, position) => step.run(id, s.name, position, s.language, s.level));
    return id;
  });
}

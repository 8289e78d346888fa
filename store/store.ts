/**
 * The run store: every run hwfe records, its steps, events and output, in
 * one SQLite database (store/schema.ts) that one writer per run and any
 * number of readers share (the CLI's `runs`, `show` and `logs`, the
 * server). It never prints and never exits: problems are
 * {@link StoreError}s, which callers turn into warnings for a run.
 *
 * @module
 */

import { type Database, openDatabase, type SqlValue, transaction } from "./database.ts";
import { HISTORY_FILE, historyPath } from "./location.ts";
import { removeLock, thisProcess, writerState } from "./run_lock.ts";
import {
  type EventRow,
  eventsOf,
  outputOf,
  type OutputRow,
  type RecordedRunStatus,
  runOf,
  type RunRow,
  stepOf,
  type StepRow,
} from "./rows.ts";
import { storeErrorOf } from "./store_error.ts";
import {
  CHUNK_LINES,
  insertRun,
  type RunStart,
  RunWriter,
  STALE_MS,
  type WriterOptions,
} from "./writer.ts";

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** The clock, in milliseconds since the epoch (`Date.now` by default). */
  now?: () => number;
  /** How long to wait for another process's lock, in milliseconds (5 s by default). */
  busyTimeoutMs?: number;
}

/** Which runs {@link RunStore.listRuns} lists. */
export interface RunFilter {
  /** A workflow's name, or its file's name without `.lua`. */
  workflow?: string;
  /** A workflow file's absolute path. */
  file?: string;
  status?: RecordedRunStatus;
  /** Most runs listed, newest first (all when absent). */
  limit?: number;
  /** Runs skipped before the first listed. */
  offset?: number;
}

/** Which runs {@link RunStore.gc} removes: those every given rule removes. */
export interface GcOptions {
  /** Keep the newest `keep` runs. */
  keep?: number;
  /** Remove runs that started more than this many days ago. */
  olderThanDays?: number;
}

/** A page of rows read from `afterSeq` on. */
export interface ReadOptions {
  /** Rows after this sequence number (0: from the start). */
  afterSeq?: number;
  /** Most rows (all when absent). */
  limit?: number;
}

/** Runs removed in one transaction by `gc`, so that writers never wait long. */
const GC_BATCH = 20;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Opens the store in data directory `dir` (created when absent), or the
 * database file `path` when it ends in `.db`. Throws a {@link StoreError}
 * for a damaged file, one written by a newer hwfe, or one that cannot be
 * opened or written.
 */
export function openStore(dirOrPath: string, options: StoreOptions = {}): RunStore {
  const path = dirOrPath.endsWith(".db") ? dirOrPath : historyPath(dirOrPath);
  if (!dirOrPath.endsWith(".db")) {
    try {
      Deno.mkdirSync(dirOrPath, { recursive: true });
    } catch (error) {
      throw storeErrorOf(path, error);
    }
  }
  return new RunStore(path, openDatabase(path, options), options);
}

/** Whether data directory `dir` holds a store yet (readers need not create one). */
export function storeExists(dir: string): boolean {
  try {
    return Deno.statSync(`${dir}/${HISTORY_FILE}`).isFile;
  } catch {
    return false;
  }
}

/** A filter's WHERE clause (or nothing) and its parameters. */
function runFilter(filter: RunFilter): [string, SqlValue[]] {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.workflow !== undefined) {
    // The name, or the file's name: no LIKE, whose % and _ a name may hold.
    const suffix = `/${filter.workflow}.lua`;
    where.push("(workflow = ? OR substr(file, -?) = ?)");
    params.push(filter.workflow, suffix.length, suffix);
  }
  if (filter.file !== undefined) {
    where.push("file = ?");
    params.push(filter.file);
  }
  if (filter.status !== undefined) {
    where.push("status = ?");
    params.push(filter.status);
  }
  return [where.length ? `WHERE ${where.join(" AND ")}` : "", params];
}

/** An open run store: {@link RunStore.begin} records a run, the rest read. */
export class RunStore {
  /** The database file. */
  readonly path: string;
  readonly #db: Database;
  readonly #now: () => number;
  /** The database's directory, where writers' lock files are (store/run_lock.ts). */
  readonly #dir: string;

  constructor(path: string, db: Database, options: StoreOptions = {}) {
    this.path = path;
    this.#db = db;
    this.#now = options.now ?? Date.now;
    const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
    this.#dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  }

  /** Rows of a query; a database error becomes a {@link StoreError}. */
  #all(sql: string, ...params: SqlValue[]): Record<string, SqlValue>[] {
    try {
      return this.#db.prepare(sql).all(...params) as Record<string, SqlValue>[];
    } catch (error) {
      throw storeErrorOf(this.path, error);
    }
  }

  /**
   * Records a new run: inserts its row ("running") and its steps ("pending")
   * and returns the writer for its events. Throws a {@link StoreError} when
   * the database cannot be written.
   */
  begin(start: RunStart, options: WriterOptions = {}): RunWriter {
    const now = options.now ?? this.#now;
    try {
      const id = insertRun(this.#db, start, thisProcess(), now());
      return new RunWriter(this.#db, this.path, this.#dir, id, { now, ...options });
    } catch (error) {
      throw storeErrorOf(this.path, error);
    }
  }

  /**
   * Marks as "interrupted" each running run whose writer is gone (its lock
   * is free: store/run_lock.ts) or, when that cannot be told, whose
   * heartbeat is older than {@link STALE_MS}; its running steps too.
   * Readers call it before they read.
   */
  reap(): number {
    const running = this.#all(
      "SELECT id, host, pid, heartbeat_at FROM runs WHERE status IN ('running', 'queued')",
    );
    let reaped = 0;
    for (const row of running) {
      const id = Number(row.id);
      const state = writerState(this.#dir, id);
      const stale = this.#now() - Number(row.heartbeat_at) > STALE_MS;
      if (state === "alive" || (state === "unknown" && !stale)) continue;
      const writer = `its process (pid ${row.pid} on ${row.host || "an unnamed host"})`;
      const why = state === "gone"
        ? `${writer} ended before it did`
        : `${writer} stopped writing it for over ${STALE_MS / 1000} s`;
      try {
        transaction(this.#db, () => {
          const { changes } = this.#db.prepare(
            "UPDATE runs SET status = 'interrupted', error = ?, " +
              "duration_ms = heartbeat_at - started_at WHERE id = ? AND status IN ('running', 'queued')",
          ).run(`interrupted: ${why}`, id);
          this.#db.prepare(
            "UPDATE steps SET status = 'interrupted' WHERE run_id = ? AND status = 'running'",
          ).run(id);
          reaped += Number(changes);
        });
      } catch (error) {
        throw storeErrorOf(this.path, error);
      }
      if (state === "gone") removeLock(this.#dir, id);
    }
    return reaped;
  }

  /** Runs, newest first. */
  listRuns(filter: RunFilter = {}): RunRow[] {
    this.reap();
    const [where, params] = runFilter(filter);
    const sql = `SELECT * FROM runs ${where} ORDER BY id DESC LIMIT ? OFFSET ?`;
    params.push(filter.limit ?? -1, filter.offset ?? 0);
    return this.#all(sql, ...params).map(runOf);
  }

  /** How many runs `filter` matches (its limit and offset aside). */
  countRuns(filter: RunFilter = {}): number {
    const [where, params] = runFilter(filter);
    return Number(this.#all(`SELECT count(*) AS n FROM runs ${where}`, ...params)[0].n);
  }

  /**
   * One run: by id, or "last" for the newest (of `filter`'s workflow or
   * file, when given). Undefined when there is none.
   */
  getRun(
    ref: number | "last",
    filter: Pick<RunFilter, "workflow" | "file"> = {},
  ): RunRow | undefined {
    if (ref === "last") return this.listRuns({ ...filter, limit: 1 })[0];
    this.reap();
    const [row] = this.#all("SELECT * FROM runs WHERE id = ?", ref);
    return row && runOf(row);
  }

  /** A run's steps, in plan order. */
  steps(runId: number): StepRow[] {
    return this.#all("SELECT * FROM steps WHERE run_id = ? ORDER BY position", runId).map(stepOf);
  }

  /**
   * The lines a run's steps wrote (of one step, when given), in order, from
   * `afterSeq` on: at most `limit`, give the last one's `seq` back to read on.
   */
  output(runId: number, step?: string, options: ReadOptions = {}): OutputRow[] {
    const afterSeq = options.afterSeq ?? 0;
    const rows = this.#all(
      // A row holds at most CHUNK_LINES lines: the first bound lets the index find it.
      "SELECT seq, at, step, stream, text FROM events WHERE run_id = ? AND seq > ? " +
        "AND seq + lines > ? AND type = 'step_output' AND (? IS NULL OR step = ?) " +
        "ORDER BY seq LIMIT ?",
      runId,
      afterSeq - CHUNK_LINES,
      afterSeq + 1,
      step ?? null,
      step ?? null,
      options.limit ?? -1,
    );
    const lines = rows.flatMap((row) => outputOf(row, afterSeq));
    return options.limit === undefined ? lines : lines.slice(0, options.limit);
  }

  /**
   * A run's events from `afterSeq` on, in order (a server's `Last-Event-ID`):
   * at most `limit`, give the last one's `seq` back to read on.
   */
  events(runId: number, options: ReadOptions = {}): EventRow[] {
    const afterSeq = options.afterSeq ?? 0;
    const rows = this.#all(
      "SELECT seq, at, type, step, stream, text, data FROM events " +
        "WHERE run_id = ? AND seq > ? AND seq + coalesce(lines, 1) > ? ORDER BY seq LIMIT ?",
      runId,
      afterSeq - CHUNK_LINES,
      afterSeq + 1,
      options.limit ?? -1,
    );
    const events = rows.flatMap((row) => eventsOf(row, afterSeq));
    return options.limit === undefined ? events : events.slice(0, options.limit);
  }

  /** The newest succeeded step with this hash, for reusing its result. */
  stepByHash(hash: string): StepRow | undefined {
    const [row] = this.#all(
      "SELECT * FROM steps WHERE hash = ? AND status = 'succeeded' ORDER BY run_id DESC LIMIT 1",
      hash,
    );
    return row && stepOf(row);
  }

  /**
   * The newest reusable result of step `name` (succeeded, with a hash) in
   * runs of workflow `workflow` (from file `file`, when given): what
   * `--only` gives the dependencies it does not run.
   */
  latestReusable(name: string, workflow: string, file?: string): StepRow | undefined {
    const [row] = this.#all(
      "SELECT s.* FROM runs r JOIN steps s ON s.run_id = r.id AND s.name = ? " +
        "WHERE r.workflow = ? AND (? IS NULL OR r.file = ?) " +
        "AND s.status = 'succeeded' AND s.hash IS NOT NULL ORDER BY r.id DESC LIMIT 1",
      name,
      workflow,
      file ?? null,
      file ?? null,
    );
    return row && stepOf(row);
  }

  /**
   * Removes finished runs (and their steps and events) that every given
   * rule removes: beyond the newest `keep`, started more than
   * `olderThanDays` ago. A running run is never removed. Returns how many
   * were removed; the space they took is given back to the file system.
   */
  gc(options: GcOptions): number {
    if (options.keep === undefined && options.olderThanDays === undefined) return 0;
    this.reap();
    const rules: string[] = ["status NOT IN ('running', 'queued')"];
    const params: SqlValue[] = [];
    if (options.keep !== undefined) {
      rules.push("id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?)");
      params.push(options.keep);
    }
    if (options.olderThanDays !== undefined) {
      rules.push("started_at < ?");
      params.push(this.#now() - options.olderThanDays * DAY_MS);
    }
    const ids = this.#all(`SELECT id FROM runs WHERE ${rules.join(" AND ")}`, ...params)
      .map((row) => Number(row.id));
    try {
      for (let i = 0; i < ids.length; i += GC_BATCH) {
        const batch = ids.slice(i, i + GC_BATCH);
        transaction(this.#db, () => {
          for (const table of ["events", "steps"]) {
            const remove = this.#db.prepare(`DELETE FROM ${table} WHERE run_id = ?`);
            for (const id of batch) remove.run(id);
          }
          const remove = this.#db.prepare("DELETE FROM runs WHERE id = ?");
          for (const id of batch) remove.run(id);
        });
      }
      if (ids.length) {
        this.#db.exec("PRAGMA incremental_vacuum");
        this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (error) {
      throw storeErrorOf(this.path, error);
    }
    return ids.length;
  }

  /** How many runs the store holds. */
  count(): number {
    return Number(this.#all("SELECT count(*) AS n FROM runs")[0].n);
  }

  /** Closes the database; writers begun from it must have finished. */
  close(): void {
    try {
      this.#db.close();
    } catch {
      // closed already
    }
  }
}

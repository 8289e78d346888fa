/**
 * The run store's schema, as SQL, and its migrations: one script per
 * version, run in order in one transaction from the version a database
 * holds (`PRAGMA user_version`) to {@link SCHEMA_VERSION}. A later part of
 * hwfe that needs a column adds a script here; a script already released
 * never changes. docs/HISTORY.md describes every table and column.
 *
 * Times are integers: milliseconds since the Unix epoch (UTC) for instants
 * (`*_at`), milliseconds for spans (`*_ms`). JSON columns hold JSON text as
 * the engine gave it, so integers beyond 2^53 stay exact.
 *
 * @module
 */

/** `PRAGMA application_id` of a history database: "hwfe" in ASCII. */
export const APPLICATION_ID = 0x68776665;

/**
 * The migrations: `MIGRATIONS[n]` takes a database from version n to n + 1.
 * Version 0 is an empty file.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: runs, their steps and their events (output lines among them).
  `
  CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow      TEXT NOT NULL,
    file          TEXT,
    file_sha256   TEXT,
    params        TEXT,
    settings      TEXT NOT NULL,
    mode          TEXT NOT NULL,
    strategy      TEXT NOT NULL,
    max_parallel  INTEGER NOT NULL,
    levels        TEXT NOT NULL,
    status        TEXT NOT NULL,
    error         TEXT,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    duration_ms   INTEGER,
    heartbeat_at  INTEGER NOT NULL,
    hwfe_version  TEXT NOT NULL,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    resumed_from  INTEGER
  );
  CREATE INDEX runs_by_workflow ON runs (workflow, id);
  CREATE INDEX runs_running ON runs (id) WHERE status = 'running';

  CREATE TABLE steps (
    run_id         INTEGER NOT NULL,
    name           TEXT NOT NULL,
    position       INTEGER NOT NULL,
    language       TEXT NOT NULL,
    level          INTEGER NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    started_at     INTEGER,
    running_at     INTEGER,
    finished_at    INTEGER,
    duration_ms    INTEGER,
    waited_ms      INTEGER,
    result         TEXT,
    error          TEXT,
    attempt_errors TEXT,
    exit_code      INTEGER,
    continued      INTEGER NOT NULL DEFAULT 0,
    hash           TEXT,
    PRIMARY KEY (run_id, name)
  );
  CREATE INDEX steps_by_hash ON steps (hash, run_id) WHERE hash IS NOT NULL;

  CREATE TABLE events (
    run_id  INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    type    TEXT NOT NULL,
    step    TEXT,
    stream  TEXT,
    text    TEXT,
    lines   INTEGER,
    data    TEXT,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  `,
  // 2: the run whose stored result a step took instead of running.
  `
  ALTER TABLE steps ADD COLUMN reused_from INTEGER;
  `,
];

/** The version this hwfe writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

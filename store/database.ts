/**
 * Opening a history database with node:sqlite (built into Deno: no
 * dependency, no server): WAL mode, so readers never wait for the writer
 * and several runs can write; a busy timeout, so writers queue rather than
 * fail; and the schema brought up to date, or refused when newer.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { StoreError, storeErrorOf } from "./store_error.ts";

/** One SQLite connection; `null` for SQL NULL. */
export type Database = DatabaseSync;
/** A value bound to a statement's parameter. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** How long to wait for another connection's lock, in milliseconds. */
  busyTimeoutMs?: number;
}

/** Milliseconds a connection waits for another's lock by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** A single value of a one-row query, or undefined. */
export function scalar(db: Database, sql: string, ...params: SqlValue[]): SqlValue | undefined {
  const row = db.prepare(sql).get(...params) as Record<string, SqlValue> | undefined;
  return row === undefined ? undefined : Object.values(row)[0];
}

/**
 * Runs `body` in a write transaction taken at once (`BEGIN IMMEDIATE`, so
 * the busy timeout applies to taking the lock, never to upgrading a read
 * lock halfway, which would fail without waiting), committing when it
 * returns and rolling back when it throws.
 */
export function transaction<T>(db: Database, body: () => T): T {
  // Statements rather than exec: their errors carry SQLite's code.
  db.prepare("BEGIN IMMEDIATE").run();
  try {
    const value = body();
    db.prepare("COMMIT").run();
    return value;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Opens (creating when absent) the database at `path` and brings its
 * schema up to date. Throws a {@link StoreError} for a file that is not an
 * hwfe history, was written by a newer hwfe, or cannot be opened or written.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Database {
  let db: Database | undefined;
  try {
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    // Written history survives hwfe being killed; only a power loss may
    // lose the last commits (never the file): no fsync per commit.
    db.exec("PRAGMA synchronous = NORMAL");
    if (String(scalar(db, "PRAGMA journal_mode")).toLowerCase() !== "wal") {
      db.exec("PRAGMA journal_mode = WAL");
    }
    migrate(db, path);
    return db;
  } catch (error) {
    try {
      db?.close();
    } catch {
      // already failing
    }
    throw storeErrorOf(path, error);
  }
}

/** Brings the schema to {@link SCHEMA_VERSION}, once, whichever process gets there first. */
function migrate(db: Database, path: string): void {
  const version = () => Number(scalar(db, "PRAGMA user_version"));
  checkVersion(db, path, version());
  if (version() === SCHEMA_VERSION) return;
  // Only on an empty file: space freed by `hwfe gc` is given back.
  if (version() === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  transaction(db, () => {
    const from = version(); // another process may have migrated meanwhile
    checkVersion(db, path, from);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
  });
}

function checkVersion(db: Database, path: string, version: number): void {
  const application = Number(scalar(db, "PRAGMA application_id"));
  const tables = Number(scalar(db, "SELECT count(*) FROM sqlite_schema"));
  if (application !== APPLICATION_ID && (application !== 0 || tables > 0)) {
    throw new StoreError(
      path,
      "corrupt",
      `${path} is an SQLite database but not an hwfe history: move it aside (hwfe starts a new ` +
        "one) or set HWFE_DATA_DIR to another directory",
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      path,
      "newer",
      `${path} was written by a newer hwfe (schema version ${version}; this one reads up to ` +
        `${SCHEMA_VERSION}): upgrade hwfe, or set HWFE_DATA_DIR to another directory`,
    );
  }
}

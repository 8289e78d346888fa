/**
 * The error of a history database that cannot be used: what is wrong with
 * which file, and what to do. A run never fails for it: its callers
 * (api/history.ts) turn it into a warning and run without history.
 *
 * @module
 */

import { ExitCode, HwfeError } from "../_util/errors.ts";

/**
 * What is wrong: the file is not an SQLite database of hwfe's (or is
 * damaged), was written by a newer hwfe, cannot be opened or written, or
 * stayed locked by another process for too long.
 */
export type StoreProblem = "corrupt" | "newer" | "unwritable" | "busy";

/** A history database that cannot be used; `message` names the file and what to do. */
export class StoreError extends HwfeError {
  /** What is wrong with the file. */
  readonly problem: StoreProblem;
  /** The database file. */
  readonly path: string;

  constructor(path: string, problem: StoreProblem, message: string, options?: ErrorOptions) {
    super(message, ExitCode.usage, options);
    this.name = "StoreError";
    this.path = path;
    this.problem = problem;
  }
}

/** SQLite's messages of the result codes told apart here (`sqlite3_errstr`). */
const CODE_OF_MESSAGE: Record<string, number> = {
  "database is locked": 5,
  "database table is locked": 6,
  "database disk image is malformed": 11,
  "file is not a database": 26,
};

/**
 * SQLite's primary result code of an error from node:sqlite, when it has
 * one: `errcode`, or from the message (errors of `exec` carry no code).
 */
export function sqliteCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | undefined)?.errcode;
  if (typeof code === "number") return code & 0xff;
  return error instanceof Error ? CODE_OF_MESSAGE[error.message] : undefined;
}

/** SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock. */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 5 || code === 6;
}

/**
 * A {@link StoreError} for an error SQLite (or Deno) raised about `path`:
 * a damaged or foreign file, a lock held too long, or a file that cannot be
 * opened or written.
 */
export function storeErrorOf(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const why = error instanceof Error ? error.message : String(error);
  const code = sqliteCode(error);
  if (code === 26 || code === 11) {
    // SQLITE_NOTADB, SQLITE_CORRUPT
    return new StoreError(
      path,
      "corrupt",
      `${path} is not a readable hwfe history database (${why}): move it aside ` +
        "(hwfe starts a new one) or set HWFE_DATA_DIR to another directory",
      { cause: error },
    );
  }
  if (isBusy(error)) {
    return new StoreError(
      path,
      "busy",
      `${path} stayed locked by another process (${why}): try again, or see which process ` +
        "holds it (fuser)",
      { cause: error },
    );
  }
  return new StoreError(
    path,
    "unwritable",
    `${path} cannot be opened for writing (${why}): make its directory writable, or set ` +
      "HWFE_DATA_DIR to a directory that is",
    { cause: error },
  );
}

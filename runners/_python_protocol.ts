/**
 * What the Python runner (python.ts) and its worker (python_worker.ts) send
 * each other: the start-up options, a job's extra fields, and the start-up
 * report.
 *
 * @module
 */

/** What the host sends to start a worker. */
export interface PythonInit {
  indexURL: string;
  /**
   * A snapshot (in shared memory), with the SHA-256 (hex) its cache file's
   * header promises; without one when it was made in this process.
   */
  snapshot?: { bytes: Uint8Array; sha256?: string };
  /**
   * For a worker in a child process: where the cached snapshot lies, to be
   * read here rather than sent through the pipe (30 MB; measured ~150 ms).
   */
  snapshotFile?: { path: string; offset: number; length: number; sha256: string };
  /** Make a snapshot after a cold start and report it. */
  makeSnapshot: boolean;
}

/** What a job carries (in `WorkerJob.extra`). */
export interface PythonJob {
  memoryMb: number;
  env: Record<string, string>;
  /** Host directories to mount at the same path: how the step's grants are reached. */
  mounts?: string[];
  /** hwfe's working directory (added to every job with grants). */
  cwd?: string;
}

/** What the worker reports once started. */
export interface PythonReady {
  /** How the interpreter started. */
  start: "snapshot" | "cold";
  /** Why the cached snapshot was not used, if one was given. */
  rejected?: string;
  /** A fresh snapshot (cold start with `makeSnapshot`). */
  snapshot?: Uint8Array;
}

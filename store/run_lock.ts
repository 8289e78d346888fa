/**
 * Whether the process writing a run is still there. A run whose writer
 * was killed (SIGKILL, a crash, the machine going down) stays "running" in
 * the store until a reader finds its writer gone and marks it
 * "interrupted". The writer holds a lock on a file of its own,
 * `locks/<run id>.lock` beside the database, until it finishes; the system
 * releases the lock when the process dies, however it dies, so a reader
 * that can take the lock knows the writer is gone. Unlike a pid, a lock
 * cannot be mistaken for another process's (a container's hwfe is often
 * pid 1 every time), and it needs no access to `/proc`, which Deno grants
 * only with `--allow-all`. Where the file is missing, the run's heartbeat
 * decides (store/writer.ts).
 *
 * @module
 */

import { envVar } from "../_util/env.ts";

/** The process that writes a run, as `hwfe show` names it. */
export interface ProcessIdentity {
  host: string;
  pid: number;
}

/** The name of this host: the system's with `--allow-sys`, else /etc/hostname's, else the shell's. */
function hostname(): string {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      return Deno.hostname();
    }
  } catch {
    // not allowed to ask: below
  }
  try {
    const name = Deno.readTextFileSync("/etc/hostname").trim();
    if (name) return name;
  } catch {
    // not Linux, or not allowed
  }
  return envVar("HOSTNAME") || envVar("COMPUTERNAME") || "";
}

let self: ProcessIdentity | undefined;

/** This process. */
export function thisProcess(): ProcessIdentity {
  return self ??= { host: hostname(), pid: Deno.pid };
}

/** The lock file of run `id` in `dir` (the database's directory). */
export function lockPath(dir: string, id: number): string {
  return `${dir}/locks/${id}.lock`;
}

/** A lock held by a run's writer. */
export interface RunLock {
  file: Deno.FsFile;
  path: string;
}

/**
 * Takes run `id`'s lock for its writer, or undefined when it cannot (the
 * run's heartbeat then tells readers whether its writer is alive).
 */
export function holdLock(dir: string, id: number): RunLock | undefined {
  const path = lockPath(dir, id);
  try {
    Deno.mkdirSync(`${dir}/locks`, { recursive: true });
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    if (file.tryLockSync(true)) return { file, path };
    file.close();
  } catch {
    // recorded without a lock
  }
  return undefined;
}

/** Releases a writer's lock and removes its file (unless `keepFile`, as a dying process leaves it). */
export function releaseLock(lock: RunLock | undefined, keepFile = false): void {
  if (!lock) return;
  try {
    lock.file.unlockSync();
    lock.file.close();
    if (!keepFile) Deno.removeSync(lock.path);
  } catch {
    // a reader removed it, or it is gone with its directory
  }
}

/**
 * Whether run `id`'s writer is alive (its lock is held), gone (its lock
 * file is there but no process holds it: the file is removed) or cannot
 * be told (no lock file).
 */
export function writerState(dir: string, id: number): "alive" | "gone" | "unknown" {
  let file: Deno.FsFile;
  const path = lockPath(dir, id);
  try {
    file = Deno.openSync(path, { read: true, write: true });
  } catch {
    return "unknown";
  }
  try {
    if (!file.tryLockSync(true)) return "alive";
    file.unlockSync();
    return "gone";
  } catch {
    return "unknown";
  } finally {
    file.close();
  }
}

/** Removes a dead writer's lock file. */
export function removeLock(dir: string, id: number): void {
  try {
    Deno.removeSync(lockPath(dir, id));
  } catch {
    // removed already
  }
}

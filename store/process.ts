/**
 * Which process writes a run, and whether it is still there: a run whose
 * writer was killed (SIGKILL, a crash, the machine going down) stays
 * "running" in the store until a reader sees its process gone and marks it
 * "interrupted". On Linux the process is its host, pid and start time (a
 * pid alone is reused: a container's hwfe is often pid 1 every time); a
 * run from another host, or on a system without `/proc`, is judged by its
 * heartbeat instead (store/writer.ts).
 *
 * @module
 */

import { envVar } from "../_util/env.ts";

/** A process, as the store records a run's writer. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /**
   * When it started, as the system counts (Linux: clock ticks since boot,
   * from `/proc/<pid>/stat`); absent where that cannot be read.
   */
  start?: string;
}

/** Reads a small text file, or undefined (no file, no permission, not Linux). */
function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Field 22 of `/proc/<pid>/stat`: the process's start time, after the command's parentheses. */
function startOf(pid: number | "self"): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19];
}

function hostname(): string {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      return Deno.hostname();
    }
  } catch {
    // not allowed to ask: below
  }
  // hwfe runs without --allow-sys: the kernel's name for the host, else the shell's.
  return readText("/proc/sys/kernel/hostname")?.trim() ||
    envVar("HOSTNAME") || envVar("COMPUTERNAME") || "";
}

let self: ProcessIdentity | undefined;

/** This process. */
export function thisProcess(): ProcessIdentity {
  if (!self) {
    const start = Deno.build.os === "linux" ? startOf("self") : undefined;
    self = { host: hostname(), pid: Deno.pid, ...(start ? { start } : {}) };
  }
  return self;
}

/**
 * Whether `process` has ended: true when it ran on this host and its pid
 * is gone or now belongs to a process started at another time; undefined
 * when this cannot be told (another host, no start time, no `/proc`).
 */
export function processGone(process: ProcessIdentity): boolean | undefined {
  const me = thisProcess();
  if (process.host !== me.host || process.start === undefined || me.start === undefined) {
    return undefined;
  }
  if (process.pid === me.pid && process.start === me.start) return false;
  return startOf(process.pid) !== process.start;
}

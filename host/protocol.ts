/**
 * The protocol between the step host and its workers: the messages each
 * side sends, the shared buffers for interrupts and output flow control,
 * and the check that a worker's message has the shape it claims. Workers
 * (host/worker_entry.ts, the runners' `*_worker.ts`) and the child-process
 * entry import this module, never the pool.
 *
 * @module
 */

import type { JsonText } from "../_util/json.ts";

/** One step for a worker to run. */
export interface WorkerJob {
  step: string;
  code: string;
  inputs: JsonText;
  /** Runtime-specific extras (structured-cloneable). */
  extra?: unknown;
}

/**
 * What a worker reports when a job ends. `retire`: the worker must not run
 * another step (its runtime crashed or exited, or the step changed what the
 * worker cannot undo); the host replaces it.
 */
export type WorkerOutcome =
  & ({ kind: "result"; json: JsonText } | { kind: "error"; message: string } | {
    kind: "interrupted";
  })
  & { retire?: boolean };

/**
 * Messages from the host to a worker. `interrupt` holds two Int32 slots:
 * slot 0 gets 2 (SIGINT) when the job must stop, in the form Pyodide's
 * interrupt buffer expects (it clears the slot; the host sets it again
 * until the job ends); slot 1 gets 1 and stays set. `flow` holds one Int32:
 * the characters of output the worker has posted and its reader has not
 * yet taken off (see {@link takeOutput}); the worker waits while it is
 * above OUTPUT_IN_FLIGHT, so a step printing in a loop cannot fill memory
 * with messages faster than they are read.
 */
export type HostMessage =
  | { type: "init"; init: unknown }
  | {
    type: "run";
    id: string;
    job: WorkerJob;
    interrupt: SharedArrayBuffer;
    flow: SharedArrayBuffer;
  };

/** Most characters of a job's output posted and not yet read before its worker waits. */
export const OUTPUT_IN_FLIGHT = 4 * 1024 * 1024;

/** Tells a worker waiting on `flow` that `chars` of its output have been read. */
export function takeOutput(flow: Int32Array, chars: number): void {
  Atomics.sub(flow, 0, chars);
  Atomics.notify(flow, 0);
}

/** Messages from a worker to the host (validated, never trusted). */
export type WorkerMessage =
  | { type: "ready"; report?: unknown }
  | { type: "setup_failed"; message: string }
  | { type: "output"; id: string; stream: "stdout" | "stderr"; text: string }
  | { type: "done"; id: string; outcome: WorkerOutcome };

/**
 * The Deno permissions of a step's worker: its runtime's files plus the
 * step's access (engine/grants.ts). Deny rules can only be flags of a child
 * process (host/child_process.ts).
 */
export interface WorkerPermissions {
  read: string[];
  write: string[];
  net: string[];
  denyRead?: string[];
  denyWrite?: string[];
  denyNet?: string[];
}

const MAX_MESSAGE_TEXT = 1 << 30;

/** Checks the shape of a message from a worker; undefined when malformed. */
export function parseWorkerMessage(data: unknown): WorkerMessage | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const m = data as Record<string, unknown>;
  const isText = (v: unknown): v is string => typeof v === "string" && v.length <= MAX_MESSAGE_TEXT;
  switch (m.type) {
    case "ready":
      return { type: "ready", report: m.report };
    case "setup_failed":
      return isText(m.message) ? { type: "setup_failed", message: m.message } : undefined;
    case "output":
      if (!isText(m.id) || !isText(m.text)) return undefined;
      if (m.stream !== "stdout" && m.stream !== "stderr") return undefined;
      return { type: "output", id: m.id, stream: m.stream, text: m.text };
    case "done": {
      if (!isText(m.id) || typeof m.outcome !== "object" || m.outcome === null) return undefined;
      const o = m.outcome as Record<string, unknown>;
      const retire = o.retire === true ? { retire: true } : {};
      if (o.kind === "result" && isText(o.json)) {
        return { type: "done", id: m.id, outcome: { kind: "result", json: o.json, ...retire } };
      }
      if (o.kind === "error" && isText(o.message)) {
        return {
          type: "done",
          id: m.id,
          outcome: { kind: "error", message: o.message, ...retire },
        };
      }
      if (o.kind === "interrupted") {
        return { type: "done", id: m.id, outcome: { kind: "interrupted", ...retire } };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The step-host protocol (docs/PROTOCOL.md): the messages between the
 * engine and a step host, the shared buffers a host in this process also
 * gets, and the checks that a message has the shape it claims. Hosts
 * (host/worker_entry.ts, the runners' `*_worker.ts`, host/child_entry.ts)
 * import this module, never the pool.
 *
 * Nothing in a message depends on shared memory: an interrupt is a
 * message, inputs and results are JSON text, and binary data travels as
 * byte arrays (host/frames.ts across processes). A host in this process
 * also gets two SharedArrayBuffers with each job, so that a busy runtime
 * sees an interrupt without returning to its event loop.
 *
 * @module
 */

import type { JsonText } from "../_util/json.ts";

/**
 * The protocol's version. Both sides send it (`init`, `hello`) and refuse
 * another; a change that an old peer would misread gets a new number.
 * 2: a job's `params` (a host of version 1 would drop them and run the
 * step without its parameters).
 */
export const PROTOCOL_VERSION = 2;

/** One step for a host to run. */
export interface WorkerJob {
  step: string;
  code: string;
  inputs: JsonText;
  /** JSON text of the workflow's parameters (an object); absent: none. */
  params?: JsonText;
  /** Runtime-specific extras: JSON values and byte arrays only. */
  extra?: unknown;
}

/**
 * What a host reports when a job ends. `retire`: the host must not run
 * another step (its runtime crashed or exited, or the step changed what the
 * host cannot undo); the engine replaces it.
 */
export type WorkerOutcome =
  & ({ kind: "result"; json: JsonText } | { kind: "error"; message: string } | {
    kind: "interrupted";
  })
  & { retire?: boolean };

/**
 * The Deno access of a host: the files it may read and write, the hosts
 * it may reach. The engine says in `init` what it expects; the host says
 * in `hello` what it has.
 */
export interface HostGrants {
  read: string[];
  write: string[];
  net: string[];
}

/**
 * What a host offers, in its `hello`: the languages it runs, the access it
 * holds of what `init` asked for, and whether it may do what no step host
 * may (start programs, read the environment, load native code, query the
 * system); the engine refuses a host that may.
 */
export interface HostOffer {
  languages: string[];
  grants: HostGrants;
  forbidden: string[];
}

/**
 * Messages from the engine to a host. `init` comes first, once. `run`
 * starts a job; a host runs one at a time. `interrupt` stops job `id`
 * (sent again until it has stopped; ignored once it has). `shutdown`: no
 * more jobs, exit (a closed stream means the same).
 *
 * In this process, `run` also carries `interrupt`, two Int32 slots: slot 0
 * gets 2 (SIGINT) when the job must stop, in the form Pyodide's interrupt
 * buffer expects (it clears the slot; the engine sets it again until the
 * job ends); slot 1 gets 1 and stays set; and `flow`, one Int32: the
 * characters of output the host has posted and its reader has not yet
 * taken off (see {@link takeOutput}); the host waits while it is above
 * OUTPUT_IN_FLIGHT, so a step printing in a loop cannot fill memory with
 * messages faster than they are read.
 */
export type HostMessage =
  | { type: "init"; protocol: number; init: unknown; grants: HostGrants }
  | {
    type: "run";
    id: string;
    job: WorkerJob;
    interrupt?: SharedArrayBuffer;
    flow?: SharedArrayBuffer;
  }
  | { type: "interrupt"; id: string }
  | { type: "shutdown" };

/** Most characters of a job's output posted and not yet read before its worker waits. */
export const OUTPUT_IN_FLIGHT = 4 * 1024 * 1024;

/** Sets both slots of a job's `interrupt` buffer (see {@link HostMessage}). */
export function raiseInterrupt(flag: Int32Array): void {
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  Atomics.store(flag, 0, 2);
}

/** Tells a worker waiting on `flow` that `chars` of its output have been read. */
export function takeOutput(flow: Int32Array, chars: number): void {
  Atomics.sub(flow, 0, chars);
  Atomics.notify(flow, 0);
}

/**
 * Messages from a host to the engine, validated and never trusted (step
 * code may forge them). `hello` once its runtime is set up (with what its
 * setup reports, before any step code ran), or `setup_failed`; then, per
 * job, `output` and one `done`. `protocol_error`: the host refused a
 * message it could not read, and exits.
 */
export type WorkerMessage =
  | { type: "hello"; protocol: number; host: { pid: number }; offer: HostOffer; report?: unknown }
  | { type: "setup_failed"; message: string }
  | { type: "output"; id: string; stream: "stdout" | "stderr"; text: string }
  | { type: "done"; id: string; outcome: WorkerOutcome }
  | { type: "protocol_error"; message: string };

/**
 * The Deno permissions of a step's host: its runtime's files plus the
 * step's access (engine/grants.ts). Deny rules can only be flags of a child
 * process (host/child_process.ts).
 */
export interface WorkerPermissions extends HostGrants {
  denyRead?: string[];
  denyWrite?: string[];
  denyNet?: string[];
}

const MAX_MESSAGE_TEXT = 1 << 30;
/** Most entries in a list of a message (languages, paths, hosts). */
const MAX_LIST = 10_000;

const isText = (v: unknown): v is string => typeof v === "string" && v.length <= MAX_MESSAGE_TEXT;
const isTextList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= MAX_LIST && v.every(isText);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

function parseGrants(v: unknown): HostGrants | undefined {
  if (!isRecord(v) || !isTextList(v.read) || !isTextList(v.write) || !isTextList(v.net)) {
    return undefined;
  }
  return { read: v.read, write: v.write, net: v.net };
}

function parseOutcome(v: unknown): WorkerOutcome | undefined {
  if (!isRecord(v)) return undefined;
  const retire = v.retire === true ? { retire: true } : {};
  if (v.kind === "result" && isText(v.json)) return { kind: "result", json: v.json, ...retire };
  if (v.kind === "error" && isText(v.message)) {
    return { kind: "error", message: v.message, ...retire };
  }
  if (v.kind === "interrupted") return { kind: "interrupted", ...retire };
  return undefined;
}

/** Checks the shape of a message from a host; undefined when malformed. */
export function parseWorkerMessage(data: unknown): WorkerMessage | undefined {
  if (!isRecord(data)) return undefined;
  const m = data;
  switch (m.type) {
    case "hello": {
      const offer = isRecord(m.offer) ? m.offer : {};
      const grants = parseGrants(offer.grants);
      if (typeof m.protocol !== "number" || !isRecord(m.host)) return undefined;
      if (!Number.isSafeInteger(m.host.pid) || !grants) return undefined;
      if (!isTextList(offer.languages) || !isTextList(offer.forbidden)) return undefined;
      return {
        type: "hello",
        protocol: m.protocol,
        host: { pid: m.host.pid as number },
        offer: { languages: offer.languages, grants, forbidden: offer.forbidden },
        report: m.report,
      };
    }
    case "setup_failed":
    case "protocol_error":
      return isText(m.message) ? { type: m.type, message: m.message } : undefined;
    case "output":
      if (!isText(m.id) || !isText(m.text)) return undefined;
      if (m.stream !== "stdout" && m.stream !== "stderr") return undefined;
      return { type: "output", id: m.id, stream: m.stream, text: m.text };
    case "done": {
      const outcome = parseOutcome(m.outcome);
      return isText(m.id) && outcome ? { type: "done", id: m.id, outcome } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Checks the shape of a message from the engine, as a host receives it
 * (from another machine, in time); undefined when malformed. The shared
 * buffers of a host in this process pass through as they are.
 */
export function parseHostMessage(data: unknown): HostMessage | undefined {
  if (!isRecord(data)) return undefined;
  const m = data;
  switch (m.type) {
    case "init": {
      const grants = parseGrants(m.grants);
      if (typeof m.protocol !== "number" || !grants) return undefined;
      return { type: "init", protocol: m.protocol, init: m.init, grants };
    }
    case "run": {
      const job = isRecord(m.job) ? m.job : {};
      if (!isText(m.id) || !isText(job.step) || !isText(job.code) || !isText(job.inputs)) {
        return undefined;
      }
      if (job.params !== undefined && !isText(job.params)) return undefined;
      const shared = (v: unknown) => v instanceof SharedArrayBuffer ? v : undefined;
      return {
        type: "run",
        id: m.id,
        job: {
          step: job.step,
          code: job.code,
          inputs: job.inputs,
          ...(job.params === undefined ? {} : { params: job.params }),
          ...(job.extra === undefined ? {} : { extra: job.extra }),
        },
        ...(shared(m.interrupt) ? { interrupt: shared(m.interrupt) } : {}),
        ...(shared(m.flow) ? { flow: shared(m.flow) } : {}),
      };
    }
    case "interrupt":
      return isText(m.id) ? { type: "interrupt", id: m.id } : undefined;
    case "shutdown":
      return { type: "shutdown" };
    default:
      return undefined;
  }
}

/**
 * Why a host's `hello` does not fit what the engine asked of it
 * (undefined when it fits): another protocol version, a language missing,
 * access it lacks, or a permission no step host may have.
 */
export function helloProblem(
  hello: Extract<WorkerMessage, { type: "hello" }>,
  asked: { languages: string[]; grants: HostGrants },
): string | undefined {
  if (hello.protocol !== PROTOCOL_VERSION) {
    return `speaks protocol ${hello.protocol}; this hwfe speaks ${PROTOCOL_VERSION}`;
  }
  const missingLanguages = asked.languages.filter((l) => !hello.offer.languages.includes(l));
  if (missingLanguages.length) return `does not run ${missingLanguages.join(", ")}`;
  for (const kind of ["read", "write", "net"] as const) {
    const missing = asked.grants[kind].filter((g) => !hello.offer.grants[kind].includes(g));
    if (missing.length) return `lacks ${kind} access to ${missing.join(", ")}`;
  }
  const forbidden = hello.offer.forbidden;
  if (forbidden.length) {
    const kind = forbidden.length > 1 ? "permissions" : "permission";
    return `has the ${forbidden.join(", ")} ${kind}, which no step host may have`;
  }
  return undefined;
}

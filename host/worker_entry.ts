/**
 * The worker side of the step host: receives jobs, runs them one at a time
 * through a runtime's handler, forwards output and reports the outcome.
 *
 * @module
 */

import {
  type HostGrants,
  type HostMessage,
  OUTPUT_IN_FLIGHT,
  parseHostMessage,
  PROTOCOL_VERSION,
  raiseInterrupt,
  type WorkerJob,
  type WorkerMessage,
  type WorkerOutcome,
} from "./protocol.ts";
import { errorText } from "../_util/errors.ts";

/** What a runtime's handler gets for one job. */
export interface JobRun {
  job: WorkerJob;
  /** True once the host asked the job to stop (timeout or cancellation). */
  interrupted(): boolean;
  /**
   * The shared stop flag itself, for runtimes that poll it natively:
   * slot 0 holds 2 (SIGINT) once stopped, for Pyodide's interrupt buffer,
   * which clears it; slot 1 holds 1 once stopped and stays set.
   */
  interruptFlag: Int32Array;
  /** The step's output; batched (see OUTPUT_BATCH_CHARS), all sent before the outcome. */
  write(stream: "stdout" | "stderr", text: string): void;
  /** Sends the output gathered so far: call before blocking (a sleep, an await). */
  flush(): void;
}

/** What a runtime's setup may report to the host (before any step code ran). */
export interface SetupReport {
  report?: unknown;
  /** Buffers inside `report` to move rather than copy. */
  transfer?: Transferable[];
}

/** A runtime inside a worker: set up once, then run jobs. */
export interface WorkerHandler {
  /** The step language, for messages: "python". */
  language: string;
  /** The languages it runs, when more than `language` ("typescript" too). */
  languages?: string[];
  setup(init: unknown): Promise<SetupReport | void> | SetupReport | void;
  run(run: JobRun): Promise<WorkerOutcome> | WorkerOutcome;
  /** Called once the outcome is posted, before the next job starts. */
  afterJob?(outcome: WorkerOutcome): void;
}

/**
 * Output is batched: sent when 64 KiB have gathered, or with the first write
 * 20 ms after the last send (so a quiet step's line goes out at once), and
 * always before the job's outcome. A step printing in a tight loop would
 * otherwise post messages far faster than they are taken off this worker,
 * which in a child process starved the relay until the heap ran out.
 */
const OUTPUT_BATCH_CHARS = 64 * 1024;
const OUTPUT_BATCH_MS = 20;

/** Permissions no step host may hold (env vars reach a step in its job). */
const FORBIDDEN = ["run", "env", "ffi", "sys"] as const;

/** Of the access `asked`, what this worker holds; and what it holds that it must not. */
function heldAccess(asked: HostGrants): { grants: HostGrants; forbidden: string[] } {
  const granted = (descriptor: Deno.PermissionDescriptor) => {
    try {
      return Deno.permissions.querySync(descriptor).state === "granted";
    } catch {
      return false;
    }
  };
  return {
    grants: {
      read: asked.read.filter((path) => granted({ name: "read", path })),
      write: asked.write.filter((path) => granted({ name: "write", path })),
      net: asked.net.filter((host) => granted({ name: "net", host })),
    },
    forbidden: FORBIDDEN.filter((name) => granted({ name })),
  };
}

/**
 * Serves the engine until it sends `shutdown` or terminates the worker:
 * `init` sets the runtime up (answered by `hello` or `setup_failed`),
 * `run` jobs one at a time, `interrupt` stops the running one at once.
 */
export function serveSteps(handler: WorkerHandler): void {
  hideRemoteLocation();
  removeSharedState();
  const scope = self as unknown as {
    postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
    onmessage: ((event: MessageEvent<unknown>) => void) | null;
    close(): void;
  };
  const post = (message: WorkerMessage) => scope.postMessage(message);
  /** The stop flag of the job running or waiting, by id. */
  const flags = new Map<string, Int32Array>();
  let queue = Promise.resolve();
  scope.onmessage = (event) => {
    const message = parseHostMessage(event.data);
    if (!message) {
      post({ type: "protocol_error", message: "a message of a kind or shape it does not know" });
      return scope.close();
    }
    if (message.type === "interrupt") {
      // Not queued: it must reach the job that runs now.
      const flag = flags.get(message.id);
      if (flag) raiseInterrupt(flag);
      return;
    }
    if (message.type === "shutdown") return scope.close();
    if (message.type === "run") {
      flags.set(message.id, new Int32Array(message.interrupt ?? new SharedArrayBuffer(8)));
    }
    queue = queue.then(() =>
      message.type === "init"
        ? setUp(handler, message, scope.postMessage.bind(scope))
        : runJob(handler, message, flags, post)
    );
  };
}

async function setUp(
  handler: WorkerHandler,
  message: Extract<HostMessage, { type: "init" }>,
  postMessage: (message: WorkerMessage, transfer?: Transferable[]) => void,
): Promise<void> {
  if (message.protocol !== PROTOCOL_VERSION) {
    return postMessage({
      type: "protocol_error",
      message:
        `the engine speaks protocol ${message.protocol}; this host speaks ${PROTOCOL_VERSION}`,
    });
  }
  try {
    const setup = await handler.setup(message.init);
    postMessage({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      host: { pid: Deno.pid },
      offer: { languages: handler.languages ?? [handler.language], ...heldAccess(message.grants) },
      report: setup?.report,
    }, setup?.transfer ?? []);
  } catch (error) {
    postMessage({ type: "setup_failed", message: errorText(error) });
  }
}

async function runJob(
  handler: WorkerHandler,
  message: Extract<HostMessage, { type: "run" }>,
  flags: Map<string, Int32Array>,
  post: (message: WorkerMessage) => void,
): Promise<void> {
  const flag = flags.get(message.id)!;
  const flow = new Int32Array(message.flow ?? new SharedArrayBuffer(4));
  const stopped = () => Atomics.load(flag, 1) !== 0;
  const pending = { stdout: "", stderr: "" };
  let lastSent = -Infinity;
  const flush = () => {
    // The reader is behind: wait (step code with it) until it catches
    // up, or the job is stopped, when its output no longer matters.
    for (let inFlight; (inFlight = Atomics.load(flow, 0)) > OUTPUT_IN_FLIGHT && !stopped();) {
      Atomics.wait(flow, 0, inFlight, 50);
    }
    for (const stream of ["stdout", "stderr"] as const) {
      const text = pending[stream];
      pending[stream] = "";
      if (!text || stopped()) continue;
      if (message.flow) Atomics.add(flow, 0, text.length);
      post({ type: "output", id: message.id, stream, text });
    }
    lastSent = performance.now();
  };
  let outcome: WorkerOutcome;
  try {
    outcome = await handler.run({
      job: message.job,
      interruptFlag: flag,
      interrupted: stopped,
      write: (stream, text) => {
        pending[stream] += text;
        if (
          pending.stdout.length + pending.stderr.length >= OUTPUT_BATCH_CHARS ||
          performance.now() - lastSent >= OUTPUT_BATCH_MS
        ) flush();
      },
      flush,
    });
  } catch (error) {
    outcome = stopped()
      ? { kind: "interrupted" }
      : { kind: "error", message: `(${handler.language}): ${errorText(error)}` };
  }
  flush();
  flags.delete(message.id);
  post({ type: "done", id: message.id, outcome });
  handler.afterJob?.(outcome);
}

/**
 * Emscripten's glue (wasmoon, QuickJS) takes a worker for a browser when
 * `location` exists, and then resolves its files with
 * `createRequire(location.href)`, which throws for a worker module served
 * over HTTP (hwfe imported from a URL). Such a worker has no use for its
 * location, so it goes, and the glue finds its files the Node way.
 */
function hideRemoteLocation(): void {
  if (globalThis.location?.protocol === "file:") return;
  Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
}

/**
 * What a worker offers that outlives a step or reaches other workers
 * without a permission: the Cache API writes under Deno's directory and a
 * later run reads it back; BroadcastChannel and navigator.locks reach every
 * worker of the process (other steps, with --no-isolate); a nested Worker
 * would outlive its step. Step code reaches worker globals only from Python
 * (Pyodide's bridge), but every runtime's worker loses them, before any
 * step runs. (localStorage, sessionStorage, indexedDB and Deno.openKv do
 * not exist in a worker without --location or --unstable-kv; they are
 * removed in case they do.)
 */
export const SHARED_STATE_GLOBALS = [
  "caches",
  "Cache",
  "CacheStorage",
  "BroadcastChannel",
  "Lock",
  "LockManager",
  "Worker",
  "SharedWorker",
  "localStorage",
  "sessionStorage",
  "indexedDB",
  "IDBFactory",
  "Storage",
] as const;

function removeSharedState(): void {
  const scope = globalThis as Record<string, unknown>;
  for (const name of SHARED_STATE_GLOBALS) delete scope[name];
  for (let proto = Object.getPrototypeOf(navigator); proto; proto = Object.getPrototypeOf(proto)) {
    delete (proto as Record<string, unknown>).locks;
    delete (proto as Record<string, unknown>).storage;
  }
  delete (Deno as unknown as Record<string, unknown>).openKv;
  for (const name of SHARED_STATE_GLOBALS) {
    if (name in scope) throw new Error(`cannot remove ${name} from the worker`);
  }
  if ("locks" in navigator) throw new Error("cannot remove navigator.locks from the worker");
}

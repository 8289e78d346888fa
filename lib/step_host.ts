/**
 * The step host: pools of warm workers that run in-process runtimes (Lua
 * now; Python, JavaScript and WebAssembly plug in the same way) off the main
 * thread, so steps run in parallel on several cores.
 *
 * Each runtime gets its own pool, and each worker in it gets Deno
 * permissions narrowed to what that runtime needs (usually reading its own
 * wasm file), so step code cannot reach the host.
 *
 * Stopping a step: the host sets a flag in a SharedArrayBuffer that the
 * runtime polls (a Lua count hook, a QuickJS interrupt handler, Pyodide's
 * interrupt buffer). `Worker.terminate()` cannot stop a busy worker, so a
 * worker that does not answer within a grace period is dropped from the pool
 * and the step fails anyway; the CLI ends with `Deno.exit`, which stops it.
 *
 * Everything a worker sends back is treated as untrusted data.
 *
 * @module
 */

import { StepError } from "./errors.ts";
import type { JsonText } from "./json.ts";

/** How to start workers for one runtime. */
export interface WorkerRuntime {
  /** Pool key and the name used in messages, e.g. "lua". */
  id: string;
  /** The worker module; it calls `serveSteps()` from `step_worker.ts`. */
  moduleUrl: URL;
  /** Files the worker may read (its runtime's wasm and data). */
  read: string[];
  /** Structured-cloneable data handed to the worker's setup. */
  init?: unknown;
}

/** One step for a worker to run. */
export interface WorkerJob {
  step: string;
  code: string;
  inputs: JsonText;
  /** Runtime-specific extras (structured-cloneable). */
  extra?: unknown;
}

/** Where a running job sends its output. */
export interface JobContext {
  signal: AbortSignal;
  write(stream: "stdout" | "stderr", text: string): void;
}

/** What a worker reports when a job ends. */
export type WorkerOutcome =
  | { kind: "result"; json: JsonText }
  | { kind: "error"; message: string }
  | { kind: "interrupted" };

/** Messages from the host to a worker. */
export type HostMessage =
  | { type: "init"; init: unknown }
  | { type: "run"; id: string; job: WorkerJob; interrupt: SharedArrayBuffer };

/** Messages from a worker to the host (validated, never trusted). */
export type WorkerMessage =
  | { type: "ready" }
  | { type: "setup_failed"; message: string }
  | { type: "output"; id: string; stream: "stdout" | "stderr"; text: string }
  | { type: "done"; id: string; outcome: WorkerOutcome };

/** How long a worker may take to stop after being interrupted. */
const STOP_GRACE_MS = 2000;
const MAX_MESSAGE_TEXT = 1 << 30;

class PooledWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  #job?: {
    id: string;
    ctx: JobContext;
    resolve(outcome: WorkerOutcome): void;
    reject(error: Error): void;
  };
  #dead?: string;
  #setup!: { resolve(): void; reject(error: Error): void };

  constructor(readonly runtime: WorkerRuntime, readonly onDeath: (w: PooledWorker) => void) {
    this.worker = new Worker(runtime.moduleUrl, {
      type: "module",
      name: `hwfe-${runtime.id}`,
      deno: {
        permissions: {
          read: runtime.read,
          write: false,
          net: false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
          import: false,
        },
      },
    });
    this.ready = new Promise((resolve, reject) => (this.#setup = { resolve, reject }));
    this.ready.catch(() => {}); // observed by whoever runs a job
    this.worker.onmessage = (event) => this.#receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.#die(`the ${runtime.id} runtime crashed: ${event.message}`);
    };
    this.worker.onmessageerror = () =>
      this.#die(`the ${runtime.id} runtime sent an unreadable message`);
    this.worker.postMessage({ type: "init", init: runtime.init } satisfies HostMessage);
  }

  get busy(): boolean {
    return this.#job !== undefined;
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  run(job: WorkerJob, ctx: JobContext): Promise<WorkerOutcome> {
    const interrupt = new SharedArrayBuffer(4);
    const flag = new Int32Array(interrupt);
    const id = crypto.randomUUID();
    return new Promise<WorkerOutcome>((resolve, reject) => {
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(graceTimer);
        ctx.signal.removeEventListener("abort", onAbort);
        this.#job = undefined;
      };
      const onAbort = () => {
        Atomics.store(flag, 0, 1);
        graceTimer = setTimeout(() => {
          // The runtime did not stop (a long call inside C, say): give up on
          // this worker; the step still ends now.
          this.#die(`the ${this.runtime.id} runtime did not stop within ${STOP_GRACE_MS}ms`);
        }, STOP_GRACE_MS);
      };
      this.#job = {
        id,
        ctx,
        resolve: (outcome) => {
          finish();
          resolve(outcome);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
      this.worker.postMessage({ type: "run", id, job, interrupt } satisfies HostMessage);
    });
  }

  terminate(): void {
    this.#dead ??= "terminated";
    this.worker.terminate();
  }

  #die(reason: string): void {
    if (this.#dead) return;
    this.#dead = reason;
    this.worker.terminate();
    this.#setup.reject(new StepError(reason));
    const job = this.#job;
    if (job) {
      if (job.ctx.signal.aborted) job.resolve({ kind: "interrupted" });
      else job.reject(new StepError(reason));
    }
    this.onDeath(this);
  }

  #receive(data: unknown): void {
    const message = parseWorkerMessage(data);
    if (!message) return this.#die(`the ${this.runtime.id} runtime sent a malformed message`);
    switch (message.type) {
      case "ready":
        return this.#setup.resolve();
      case "setup_failed":
        return this.#die(`the ${this.runtime.id} runtime failed to start: ${message.message}`);
      case "output":
        if (this.#job?.id === message.id) this.#job.ctx.write(message.stream, message.text);
        return;
      case "done":
        if (this.#job?.id === message.id) this.#job.resolve(message.outcome);
        return;
    }
  }
}

/** Checks the shape of a message from a worker; undefined when malformed. */
export function parseWorkerMessage(data: unknown): WorkerMessage | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const m = data as Record<string, unknown>;
  const isText = (v: unknown): v is string => typeof v === "string" && v.length <= MAX_MESSAGE_TEXT;
  switch (m.type) {
    case "ready":
      return { type: "ready" };
    case "setup_failed":
      return isText(m.message) ? { type: "setup_failed", message: m.message } : undefined;
    case "output":
      if (!isText(m.id) || !isText(m.text)) return undefined;
      if (m.stream !== "stdout" && m.stream !== "stderr") return undefined;
      return { type: "output", id: m.id, stream: m.stream, text: m.text };
    case "done": {
      if (!isText(m.id) || typeof m.outcome !== "object" || m.outcome === null) return undefined;
      const o = m.outcome as Record<string, unknown>;
      if (o.kind === "result" && isText(o.json)) {
        return { type: "done", id: m.id, outcome: { kind: "result", json: o.json } };
      }
      if (o.kind === "error" && isText(o.message)) {
        return { type: "done", id: m.id, outcome: { kind: "error", message: o.message } };
      }
      if (o.kind === "interrupted") {
        return { type: "done", id: m.id, outcome: { kind: "interrupted" } };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

class Pool {
  readonly workers = new Set<PooledWorker>();
  readonly idle: PooledWorker[] = [];
  readonly waiters: ((w: PooledWorker) => void)[] = [];

  constructor(readonly runtime: WorkerRuntime, readonly size: number) {}

  #spawn(): PooledWorker {
    const worker = new PooledWorker(this.runtime, (dead) => {
      this.workers.delete(dead);
      const at = this.idle.indexOf(dead);
      if (at >= 0) this.idle.splice(at, 1);
      // Replace the lost capacity for whoever waits.
      const next = this.waiters.shift();
      if (next) next(this.#spawn());
    });
    this.workers.add(worker);
    return worker;
  }

  warmUp(count: number): void {
    while (this.workers.size < Math.min(count, this.size)) this.idle.push(this.#spawn());
  }

  acquire(): Promise<PooledWorker> {
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.workers.size < this.size) return Promise.resolve(this.#spawn());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(worker: PooledWorker): void {
    if (worker.dead) return;
    const next = this.waiters.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}

/** Runs jobs on pooled workers; one pool per runtime, `size` workers each. */
export class StepHost {
  readonly #pools = new Map<string, Pool>();

  /** `size`: most workers per runtime (the run's parallelism). */
  constructor(readonly size: number) {}

  #pool(runtime: WorkerRuntime): Pool {
    let pool = this.#pools.get(runtime.id);
    if (!pool) this.#pools.set(runtime.id, pool = new Pool(runtime, this.size));
    return pool;
  }

  /** Starts `count` workers of a runtime ahead of need. */
  warmUp(runtime: WorkerRuntime, count = 1): void {
    this.#pool(runtime).warmUp(count);
  }

  /** Runs a job on a worker of `runtime` and returns what the worker reported. */
  async execute(runtime: WorkerRuntime, job: WorkerJob, ctx: JobContext): Promise<WorkerOutcome> {
    const pool = this.#pool(runtime);
    const worker = await pool.acquire();
    try {
      await worker.ready;
      return await worker.run(job, ctx);
    } finally {
      pool.release(worker);
    }
  }

  /** Terminates every worker. */
  dispose(): void {
    for (const pool of this.#pools.values()) {
      for (const worker of pool.workers) worker.terminate();
    }
    this.#pools.clear();
  }
}

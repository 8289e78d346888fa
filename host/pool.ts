/**
 * The step host: pools of warm workers that run the in-process runtimes
 * off the main thread, so steps run in parallel on several cores. The host
 * knows no language: a runner describes its runtime as a
 * {@link WorkerRuntime} (a worker module, the files it reads, its setup).
 *
 * Each runtime gets its own pool, and each worker in it gets Deno
 * permissions narrowed to what that runtime needs (usually reading its own
 * wasm file), so step code cannot reach the host.
 *
 * The host and its workers speak the step-host protocol (host/protocol.ts,
 * docs/PROTOCOL.md); a worker's `hello` must offer the languages and
 * access it was started for, and nothing no worker may have.
 *
 * Stopping a step: the host sends `interrupt` and sets a flag in a
 * SharedArrayBuffer that the runtime polls (a Lua count hook, a QuickJS
 * interrupt handler, Pyodide's interrupt buffer; a child process sets its
 * own when the message arrives). The step ends at once; the worker rejoins its pool
 * when it has stopped. `Worker.terminate()` cannot stop a busy worker, so
 * one that does not stop within a grace period is dropped from the pool
 * (a fresh one replaces it, in a child process from then on, where it can
 * be killed); the CLI ends with `Deno.exit`, which stops it.
 *
 * Everything a worker sends back is treated as untrusted data.
 *
 * @module
 */

import { canStartChildren, ChildWorker, type WorkerLike } from "./child_process.ts";
import { errorText, StepError } from "../_util/errors.ts";
import { accessKey, needsDenyRules, type StepAccess } from "../engine/grants.ts";
import { untilAborted } from "../_util/abort.ts";
import {
  helloProblem,
  type HostMessage,
  parseWorkerMessage,
  PROTOCOL_VERSION,
  raiseInterrupt,
  takeOutput,
  type WorkerJob,
  type WorkerOutcome,
  type WorkerPermissions,
} from "./protocol.ts";
import { sandboxedWorker } from "./sandboxed_worker.ts";

/** How to start workers for one runtime. */
export interface WorkerRuntime {
  /** Pool key and the name used in messages, e.g. "lua". */
  id: string;
  /** The step languages its workers must offer in their `hello`. */
  languages: string[];
  /** The worker module; it calls `serveSteps()` from host/worker_entry.ts. */
  moduleUrl: URL;
  /** Files the worker may read (its runtime's wasm and data). */
  read: string[];
  /** Data for the worker's setup (structured-cloneable), computed per worker start. */
  init?: () => unknown | Promise<unknown>;
  /**
   * What the worker's setup reported. It was sent before the worker ran any
   * step code, but is still checked by the runtime that reads it.
   */
  onReady?: (report: unknown, startMs: number) => void;
  /** A worker failed before it was ready. */
  onStartFailed?: (reason: string) => void;
  /**
   * "process": run the worker in a child process (host/child_process.ts),
   * for runtimes that cannot be stopped or bounded in-process. Falls back
   * to an in-process worker when this process may not start Deno.
   */
  isolation?: "process";
  /** With process isolation: the child's V8 heap limit in MiB (default 1024). */
  heapMb?: number;
}

/** Where a running job sends its output. */
export interface JobContext {
  signal: AbortSignal;
  /** Called when a ready worker takes the job. */
  started?(): void;
  write(stream: "stdout" | "stderr", text: string): void;
}

/** How long a worker may take to stop after being interrupted. */
const STOP_GRACE_MS = 2000;
/** How often an interrupt is raised again while a job has not stopped. */
const REINTERRUPT_MS = 50;

/** The permissions of a worker of `runtime` that runs steps with `access`. */
function workerPermissions(runtime: WorkerRuntime, access?: StepAccess): WorkerPermissions {
  return {
    read: [...runtime.read, ...access?.read ?? []],
    write: access?.write ?? [],
    net: access?.net ?? [],
    denyRead: access?.denyRead,
    denyWrite: access?.denyWrite,
    denyNet: access?.denyNet,
  };
}

class PooledWorker {
  readonly worker: WorkerLike;
  readonly ready: Promise<void>;
  /** The access this worker was started with (what its `hello` must offer). */
  readonly #permissions: WorkerPermissions;
  #job?: {
    id: string;
    ctx: JobContext;
    /** The job's output in flight (HostMessage): taken off as each output message arrives. */
    flow: Int32Array;
    /** Set once the job was interrupted: the step has ended, the worker not yet. */
    draining: boolean;
    resolve(outcome: WorkerOutcome): void;
    reject(error: Error): void;
  };
  #dead?: string;
  #started = false;
  readonly #spawnedAt = performance.now();
  #setup!: { resolve(): void; reject(error: Error): void };
  /** Called once the worker is free again after draining an interrupted job. */
  onFree?: () => void;
  /** Set when the worker ended because a step changed what it cannot undo. */
  retired = false;
  /** Set when the worker was dropped because it did not stop when interrupted. */
  unstoppable = false;

  /** `inChild`: in a child process (where this process may start one). */
  constructor(
    readonly runtime: WorkerRuntime,
    access: StepAccess | undefined,
    inChild: boolean,
    readonly onDeath: (w: PooledWorker) => void,
  ) {
    const permissions = this.#permissions = workerPermissions(runtime, access);
    // Deny rules inside a grant need a child process (checked before the run).
    const child = (inChild || (access && needsDenyRules(access))) && canStartChildren();
    this.worker = child
      ? new ChildWorker(runtime.moduleUrl, permissions, runtime.heapMb ?? 1024, runtime.id)
      : sandboxedWorker(
        runtime.moduleUrl,
        `hwfe-${runtime.id}`,
        permissions,
      ) as unknown as WorkerLike;
    this.ready = new Promise((resolve, reject) => (this.#setup = { resolve, reject }));
    this.ready.catch(() => {}); // observed by whoever runs a job
    this.worker.onmessage = (event) => this.#receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.#die(
        `the ${runtime.id} runtime ${
          event.startFailed ? "could not start" : "crashed"
        }: ${event.message}`,
      );
    };
    this.worker.onmessageerror = () =>
      this.#die(`the ${runtime.id} runtime sent an unreadable message`);
    this.#start();
  }

  async #start(): Promise<void> {
    try {
      const init = await this.runtime.init?.();
      if (this.#dead) return;
      const { read, write, net } = this.#permissions;
      this.worker.postMessage(
        {
          type: "init",
          protocol: PROTOCOL_VERSION,
          init,
          grants: { read, write, net },
        } satisfies HostMessage,
      );
    } catch (error) {
      this.#die(`the ${this.runtime.id} runtime could not be prepared: ${errorText(error)}`);
    }
  }

  get busy(): boolean {
    return this.#job !== undefined;
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /**
   * Runs a job. When `ctx.signal` aborts, the job resolves as interrupted at
   * once; the worker stays busy until it stops (then `onFree`) or is dropped
   * after a grace period.
   */
  run(job: WorkerJob, ctx: JobContext): Promise<WorkerOutcome> {
    const interrupt = new SharedArrayBuffer(8);
    const flag = new Int32Array(interrupt);
    const flow = new SharedArrayBuffer(4);
    const id = crypto.randomUUID();
    return new Promise<WorkerOutcome>((resolve, reject) => {
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      let repeatTimer: ReturnType<typeof setInterval> | undefined;
      const stopTimers = () => {
        clearTimeout(graceTimer);
        clearInterval(repeatTimer);
        ctx.signal.removeEventListener("abort", onAbort);
      };
      // The flag for a worker in this process, the message for any host.
      const stop = () => {
        raiseInterrupt(flag);
        this.worker.postMessage({ type: "interrupt", id } satisfies HostMessage);
      };
      const onAbort = () => {
        stop();
        // Code that catches the interrupt gets it again until it stops.
        repeatTimer = setInterval(stop, REINTERRUPT_MS);
        graceTimer = setTimeout(() => {
          // The runtime did not stop (a long call inside C, say): drop this
          // worker. The step has already ended.
          this.unstoppable = true;
          this.#die(`the ${this.runtime.id} runtime did not stop within ${STOP_GRACE_MS}ms`);
        }, STOP_GRACE_MS);
        if (this.#job?.id === id) {
          this.#job.draining = true;
          resolve({ kind: "interrupted" });
        }
      };
      this.#job = {
        id,
        ctx,
        flow: new Int32Array(flow),
        draining: false,
        resolve: (outcome) => {
          stopTimers();
          const draining = this.#job?.draining;
          this.#job = undefined;
          if (draining) this.onFree?.();
          else resolve(outcome);
        },
        reject: (error) => {
          stopTimers();
          this.#job = undefined;
          reject(error);
        },
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
      this.worker.postMessage({ type: "run", id, job, interrupt, flow } satisfies HostMessage);
    });
  }

  terminate(): void {
    this.#dead ??= "terminated";
    this.worker.postMessage({ type: "shutdown" } satisfies HostMessage);
    this.worker.terminate();
  }

  #die(reason: string): void {
    if (this.#dead) return;
    this.#dead = reason;
    this.worker.terminate();
    if (!this.#started) this.runtime.onStartFailed?.(reason);
    this.#setup.reject(new StepError(reason));
    this.#job?.reject(new StepError(reason)); // ignored when the step already ended
    this.onDeath(this);
  }

  #receive(data: unknown): void {
    const message = parseWorkerMessage(data);
    if (!message) return this.#die(`the ${this.runtime.id} runtime sent a malformed message`);
    switch (message.type) {
      case "hello": {
        // Only the setup may report; step code posting "hello" is refused.
        if (this.#started) return this.#die(`the ${this.runtime.id} runtime sent "hello" twice`);
        const { read, write, net } = this.#permissions;
        const problem = helloProblem(message, {
          languages: this.runtime.languages,
          grants: { read, write, net },
        });
        if (problem) return this.#die(`the ${this.runtime.id} step host ${problem}`);
        this.#started = true;
        try {
          this.runtime.onReady?.(message.report, performance.now() - this.#spawnedAt);
        } catch (error) {
          return this.#die(`the ${this.runtime.id} runtime sent a bad report: ${errorText(error)}`);
        }
        return this.#setup.resolve();
      }
      case "protocol_error":
        return this.#die(`the ${this.runtime.id} step host refused a message: ${message.message}`);
      case "setup_failed":
        return this.#die(`the ${this.runtime.id} runtime failed to start: ${message.message}`);
      case "output":
        if (this.#job?.id !== message.id) return;
        takeOutput(this.#job.flow, message.text.length);
        if (!this.#job.draining) this.#job.ctx.write(message.stream, message.text);
        return;
      case "done":
        if (this.#job?.id !== message.id) return;
        this.#job.resolve(message.outcome);
        if (message.outcome.retire) {
          this.retired = true;
          this.#die(`the ${this.runtime.id} runtime retired itself`);
        }
        return;
    }
  }
}

class Pool {
  readonly workers = new Set<PooledWorker>();
  readonly idle: PooledWorker[] = [];
  readonly waiters: ((w: PooledWorker) => void)[] = [];
  /**
   * Whether a worker of this pool has retired after a step (a Python step
   * that used the JavaScript bridge): from then on a spare is kept
   * starting while a job runs, so that the next step does not wait for a
   * start-up (0.7-1.5 s for Python) when this one retires too.
   */
  #retiring = false;

  constructor(
    readonly runtime: WorkerRuntime,
    readonly access: StepAccess | undefined,
    readonly size: number,
    /** Called when a worker becomes idle. */
    readonly onIdle: (pool: Pool) => void = () => {},
    /** Where new workers start (see StepHost): in a child process or not. */
    readonly inChild: () => boolean = () => runtime.isolation === "process",
    /** Called when a worker was dropped because it did not stop. */
    readonly onUnstoppable: () => void = () => {},
  ) {}

  #spawn(): PooledWorker {
    const worker = new PooledWorker(this.runtime, this.access, this.inChild(), (dead) => {
      this.workers.delete(dead);
      if (dead.retired) this.#retiring = true;
      if (dead.unstoppable) this.onUnstoppable();
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
    const worker = idle ??
      (this.workers.size < this.size ? this.#spawn() : undefined);
    if (!worker) return new Promise((resolve) => this.waiters.push(resolve));
    // One spare beyond the pool's size at most; the most recently released
    // worker is taken first (pop), so the spare stays warm until needed.
    if (this.#retiring && this.idle.length === 0 && this.workers.size <= this.size) {
      this.idle.push(this.#spawn());
    }
    return Promise.resolve(worker);
  }

  release(worker: PooledWorker): void {
    if (worker.dead) return;
    if (worker.busy) {
      // Still stopping an interrupted job: back in the pool once it has.
      worker.onFree = () => {
        worker.onFree = undefined;
        this.release(worker);
      };
      return;
    }
    const next = this.waiters.shift();
    if (next) next(worker);
    else {
      this.idle.push(worker);
      this.onIdle(this);
    }
  }

  /** Terminates the idle worker that has waited longest. */
  dropOldestIdle(): void {
    const worker = this.idle.shift();
    if (!worker) return;
    this.workers.delete(worker);
    worker.terminate();
  }
}

/**
 * Runs jobs on pooled workers: one pool per runtime and step access (the
 * worker's Deno permissions are the access), `size` workers each. Idle
 * workers of one runtime are kept up to `size` across its pools; beyond
 * that the one idle longest is dropped, so steps with many different
 * grants do not pile up warm interpreters.
 */
export class StepHost {
  readonly #pools = new Map<string, Pool>();
  /** Pools in the order their workers last became idle, oldest first. */
  #idleOrder: Pool[] = [];
  /**
   * Runtimes of which a worker in this process did not stop when told to
   * (a call inside C that never checks the flag). Deno cannot end a busy
   * worker (`terminate()` leaves its thread running), so that one runs on
   * until the process exits; the runtime's later workers start in child
   * processes, which can be killed.
   */
  readonly #unstoppable = new Set<string>();

  /** `size`: most workers per runtime (the run's parallelism). */
  constructor(readonly size: number) {}

  #pool(runtime: WorkerRuntime, access?: StepAccess, tenant = ""): Pool {
    const key = `${runtime.id}\n${accessKey(access)}\n${tenant}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = new Pool(
        runtime,
        access,
        this.size,
        (idle) => this.#onIdle(idle),
        () => runtime.isolation === "process" || this.#unstoppable.has(runtime.id),
        () => this.#unstoppable.add(runtime.id),
      );
      this.#pools.set(key, pool);
    }
    return pool;
  }

  #onIdle(pool: Pool): void {
    this.#idleOrder = [...this.#idleOrder.filter((p) => p !== pool), pool];
    const sameRuntime = this.#idleOrder.filter((p) => p.runtime.id === pool.runtime.id);
    let idle = sameRuntime.reduce((n, p) => n + p.idle.length, 0);
    for (const oldest of sameRuntime) {
      while (idle > this.size && oldest.idle.length && oldest !== pool) {
        oldest.dropOldestIdle();
        idle--;
      }
    }
  }

  /** Starts `count` workers of a runtime ahead of need, for jobs of `tenant` without access. */
  warmUp(runtime: WorkerRuntime, count = 1, tenant = ""): void {
    this.#pool(runtime, undefined, tenant).warmUp(count);
  }

  /**
   * Runs a job on a worker of `runtime` whose permissions are `access`
   * (none besides the runtime's own files when undefined), and returns what the worker
   * reported; "interrupted" at once when `ctx.signal` aborts, even while
   * waiting for a worker. Jobs of different `tenant`s never share a worker
   * (steps granted different environment variables, which reach the
   * worker in the job rather than as a permission).
   */
  async execute(
    runtime: WorkerRuntime,
    job: WorkerJob,
    ctx: JobContext,
    access?: StepAccess,
    tenant?: string,
  ): Promise<WorkerOutcome> {
    const pool = this.#pool(runtime, access, tenant);
    const acquired = pool.acquire();
    const worker = await untilAborted(acquired, ctx.signal);
    if (!worker) {
      acquired.then((late) => pool.release(late));
      return { kind: "interrupted" };
    }
    try {
      if (await untilAborted(worker.ready.then(() => true), ctx.signal) === undefined) {
        return { kind: "interrupted" };
      }
      ctx.started?.();
      return await worker.run(job, ctx);
    } finally {
      pool.release(worker);
    }
  }

  /** How many workers of `runtime` are alive (starting, idle or busy), across its pools. */
  liveWorkers(runtime: WorkerRuntime): number {
    let count = 0;
    for (const pool of this.#pools.values()) {
      if (pool.runtime.id === runtime.id) count += pool.workers.size;
    }
    return count;
  }

  /** Terminates every worker. */
  dispose(): void {
    for (const pool of this.#pools.values()) {
      for (const worker of pool.workers) worker.terminate();
    }
    this.#pools.clear();
  }
}

/**
 * A step-host worker in a child process, for runtimes that cannot be
 * stopped or bounded from inside one process: Pyodide (its JavaScript
 * bridge can exhaust the V8 heap, which aborts the whole process; a long
 * call inside C cannot be interrupted) and WebAssembly (a loop cannot be
 * interrupted). The child gets a V8 heap limit and Deno permissions
 * narrowed like the worker's, is SIGKILLed when dropped, and its death
 * fails only the step it was running.
 *
 * It offers the part of the Worker interface the step host uses, so the
 * host treats both alike; messages cross as frames (lib/frames.ts).
 * Interrupts: the host's SharedArrayBuffer cannot cross processes, so it
 * is polled here and each stop request is sent on (lib/step_child.ts sets
 * the child's own flag).
 *
 * @module
 */

import { encodeFrame, readFrames } from "./frames.ts";
import type { HostMessage, WorkerPermissions } from "./step_host.ts";
import { STEP_CHILD_COMMAND } from "./step_child.ts";

const CHILD_MODULE = new URL("./step_child.ts", import.meta.url);
/** hwfe's own code: the child may read it to start the runtime's worker module. */
const SOURCE_DIRS = [new URL("./", import.meta.url), new URL("../runners/", import.meta.url)];
const POLL_MS = 20;

/** What the step host needs of a worker. */
export interface WorkerLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message: string; preventDefault(): void }) => void) | null;
  onmessageerror: (() => void) | null;
  postMessage(message: HostMessage): void;
  terminate(): void;
}

/** Whether this process may start the child processes (it may not prompt). */
export function canStartChildren(): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state ===
      "granted";
  } catch {
    return false;
  }
}

/** Environment for the child: only what Deno needs to find its caches. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "LOCALAPPDATA", "PATH"]) {
    try {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    } catch { /* not allowed to read it: Deno's defaults apply */ }
  }
  return env;
}

/**
 * Whether this is a compiled `hwfe` (`deno compile`): it starts its step
 * children as itself, with the permissions compiled into it.
 */
export const STANDALONE: boolean = Deno.build.standalone;

/**
 * The command line of a step child. From source, `deno run` of
 * lib/step_child.ts with the step's permissions as flags and a V8 heap
 * limit. A compiled `hwfe` cannot take Deno flags at run time: it runs
 * itself with {@link STEP_CHILD_COMMAND}, the worker inside gets the
 * step's allow lists as usual, deny rules are refused before the run
 * (lib/grants.ts), and V8's own heap limit applies.
 */
export function childCommand(
  moduleUrl: URL,
  permissions: WorkerPermissions,
  heapMb: number,
  standalone: boolean = STANDALONE,
): string[] {
  const { read, write, net, denyRead = [], denyWrite = [], denyNet = [] } = permissions;
  if (standalone) {
    if (denyRead.length || denyWrite.length || denyNet.length) {
      throw new Error("a compiled hwfe cannot give a step child deny rules");
    }
    return [STEP_CHILD_COMMAND, moduleUrl.href, JSON.stringify({ read, write, net })];
  }
  const flags = [
    ...(write.length ? [`--allow-write=${write.join(",")}`] : []),
    ...(net.length ? [`--allow-net=${net.join(",")}`] : []),
    ...(denyRead.length ? [`--deny-read=${denyRead.join(",")}`] : []),
    ...(denyWrite.length ? [`--deny-write=${denyWrite.join(",")}`] : []),
    ...(denyNet.length ? [`--deny-net=${denyNet.join(",")}`] : []),
  ];
  const childReads = [
    ...SOURCE_DIRS.filter((url) => url.protocol === "file:").map((url) => url.pathname),
    ...read,
  ];
  const inner = {
    read: denyRead.length ? "inherit" : read,
    write: denyWrite.length ? "inherit" : write,
    net: denyNet.length ? "inherit" : net,
  };
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--unstable-worker-options",
    `--v8-flags=--max-old-space-size=${heapMb}`,
    // The child itself may read hwfe's source (to load the worker module)
    // and the runtime's files; the worker inside gets only the latter.
    // hwfe imported from a URL has no source files to read, and the child
    // may import from where hwfe came from.
    ...(childReads.length ? [`--allow-read=${childReads.join(",")}`] : []),
    ...(CHILD_MODULE.protocol === "file:" ? [] : [`--allow-import=${CHILD_MODULE.host}`]),
    ...flags,
    CHILD_MODULE.href,
    moduleUrl.href,
    JSON.stringify(inner),
  ];
}

export class ChildWorker implements WorkerLike {
  onmessage: WorkerLike["onmessage"] = null;
  onerror: WorkerLike["onerror"] = null;
  onmessageerror: WorkerLike["onmessageerror"] = null;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #polls = new Map<string, ReturnType<typeof setInterval>>();
  #sending = Promise.resolve();
  #terminated = false;
  #stderr = "";

  /**
   * `permissions`: the Deno permissions of the worker inside the child;
   * deny rules are flags of the child itself (a worker cannot be given
   * them), so its worker inherits that kind from the child.
   */
  constructor(moduleUrl: URL, permissions: WorkerPermissions, heapMb: number, name: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: childCommand(moduleUrl, permissions, heapMb),
      clearEnv: true,
      env: childEnv(),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#relay().catch(() => this.#fail(`the ${name} runtime sent an unreadable message`));
    this.#collectStderr();
    this.#child.status.then((status) => {
      if (this.#terminated) return;
      const detail = this.#stderr.trim().split("\n").map((l) => l.trim()).find((l) => l) ?? "";
      const outOfHeap = status.code === 133 || status.signal === "SIGTRAP" ||
        /heap limit|out of memory/i.test(this.#stderr);
      const why = outOfHeap
        ? `its process ran out of JavaScript heap (${heapMb} MiB)`
        : status.signal
        ? `its process was killed by ${status.signal}${detail ? `: ${detail}` : ""}`
        : `its process exited with code ${status.code}${detail ? `: ${detail}` : ""}`;
      this.#fail(why);
    });
  }

  async #relay(): Promise<void> {
    for await (const message of readFrames(this.#child.stdout)) {
      const m = message as { type?: string; id?: string };
      if (m?.type === "done" && m.id) this.#stopPolling(m.id);
      this.onmessage?.({ data: message });
    }
  }

  async #collectStderr(): Promise<void> {
    for await (const text of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
      if (this.#stderr.length < 64 * 1024) this.#stderr += text;
    }
  }

  #fail(message: string): void {
    if (this.#terminated) return;
    this.onerror?.({ message, preventDefault() {} });
  }

  #send(message: unknown): void {
    const frame = encodeFrame(message);
    this.#sending = this.#sending.then(() => this.#stdin.write(frame)).catch(() => {});
  }

  #stopPolling(id: string): void {
    clearInterval(this.#polls.get(id));
    this.#polls.delete(id);
  }

  postMessage(message: HostMessage): void {
    if (this.#terminated) return;
    if (message.type !== "run") return this.#send(message);
    const { interrupt, ...rest } = message;
    const flag = new Int32Array(interrupt);
    const id = message.id;
    this.#polls.set(
      id,
      setInterval(() => {
        if (Atomics.load(flag, 1) !== 0) this.#send({ type: "interrupt", id });
      }, POLL_MS),
    );
    this.#send(rest);
  }

  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    for (const id of [...this.#polls.keys()]) this.#stopPolling(id);
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
    this.#stdin.close().catch(() => {});
  }
}

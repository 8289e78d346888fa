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
 * host treats both alike; messages cross as frames (host/frames.ts).
 * Interrupts cross as messages (the host's SharedArrayBuffer cannot cross
 * processes; host/child_entry.ts sets the child's own flag).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import HWFE_LOCKFILE from "./deno_lock.json" with { type: "json" };
import { mayReadEnv } from "../_util/env.ts";
import { missingFromCache, stderrCause } from "./child_stderr.ts";
import { encodeFrame, readFrames } from "./frames.ts";
import { programConfig } from "./program.ts";
import type { HostMessage, WorkerPermissions } from "./protocol.ts";
import { STEP_CHILD_COMMAND } from "./child_entry.ts";

const CHILD_MODULE = new URL("./child_entry.ts", import.meta.url);
/**
 * hwfe's own code that the child may read to start a runtime's worker
 * module: the layers a worker module may import (those up to runners/,
 * where worker modules live; tests/layers_test.ts keeps the list true),
 * not the API, the command line, tests or workflows beside them.
 */
export const WORKER_SOURCE_FOLDERS = ["_util", "lua", "workflow", "engine", "host", "runners"];
const SOURCE_DIRS = WORKER_SOURCE_FOLDERS.map((dir) => new URL(`../${dir}/`, import.meta.url));

/** What the step host needs of a worker. */
export interface WorkerLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror:
    | ((event: { message: string; startFailed?: boolean; preventDefault(): void }) => void)
    | null;
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

/** Set for every child: no colour codes in its messages, no update check on the network. */
const CHILD_SETTINGS = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

/**
 * The variables a step child's Deno needs: where its caches are, which
 * registry its npm packages came from (Deno keeps them per registry), how
 * npm packages resolve, and the proxy and certificates through which steps
 * granted network access reach it. Nothing else: step code gets the
 * variables it was granted in its job, never through this environment.
 */
const CHILD_ENV = [
  ...["DENO_DIR", "HOME", "USERPROFILE", "XDG_CACHE_HOME", "LOCALAPPDATA", "APPDATA", "PATH"],
  ...["SystemRoot", "TMPDIR", "TMP", "TEMP"],
  ...["NPM_CONFIG_REGISTRY", "DENO_NO_PACKAGE_JSON", "DENO_CONDITIONS", "DENO_COMPAT"],
  ...["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"],
  ...["http_proxy", "https_proxy", "no_proxy", "all_proxy"],
  ...["DENO_CERT", "DENO_TLS_CA_STORE", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"],
];

/**
 * The child's environment: {@link CHILD_ENV} as this process sees it.
 * Undefined when this process may not read one of them (a library user's
 * narrower `--allow-env`): it cannot pick them out, so the child inherits
 * the whole environment rather than look for its packages in the wrong
 * cache. The child's worker still has no env permission, and Deno refuses
 * `/proc/<pid>/environ` to anything short of `--allow-all`.
 */
export function childEnv(
  read: { may(name: string): boolean; get(name: string): string | undefined } = {
    may: mayReadEnv,
    get: (name) => Deno.env.get(name),
  },
): Record<string, string> | undefined {
  const env: Record<string, string> = { ...CHILD_SETTINGS };
  for (const name of CHILD_ENV) {
    if (!read.may(name)) return undefined;
    const value = read.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A lockfile for a step child; `frozen` unless the child may add to it. */
export interface ChildLockfile {
  path: string;
  frozen: boolean;
}

/**
 * Deno flags that make a step child load exactly the module graph and npm
 * versions its parent loaded, and nothing from the network: the program's
 * configuration and its lockfile, else hwfe's own lockfile, which the
 * child may not change (two children writing one lockfile would race),
 * and Deno's cache only. The parent's module graph holds every worker
 * module (runners/mod.ts), so what a child needs is in the cache before
 * any child starts.
 */
export function graphFlags(config: string | undefined, lock: ChildLockfile | undefined): string[] {
  const source = config
    ? [`--config=${config}`, "--frozen"]
    : lock
    ? ["--no-config", `--lock=${lock.path}`, ...(lock.frozen ? ["--frozen"] : [])]
    : ["--no-config", "--no-lock"];
  return [...source, "--cached-only"];
}

let lockfile: { lock?: ChildLockfile } | undefined;

/**
 * hwfe's own lockfile (host/deno_lock.json, a copy of deno.lock), for the
 * children of a program without a configuration. Every npm package in it
 * is pinned in the source (_util/npm_files.ts), so such a program resolved
 * these very versions; with the lockfile, the child needs none of the
 * registry metadata that Deno may not have cached. Deno reads lockfiles
 * from disk only, so hwfe imported from a URL writes it to a temporary
 * file once, which its children may complete with the remote modules'
 * hashes (Deno writes lockfiles atomically, and every child writes the
 * same); without permission to write it, the child resolves without one.
 */
function hwfeLockfile(): ChildLockfile | undefined {
  return (lockfile ??= { lock: lockfilePath() }).lock;
}

function lockfilePath(): ChildLockfile | undefined {
  const url = new URL("./deno_lock.json", import.meta.url);
  if (url.protocol === "file:") return { path: fileURLToPath(url), frozen: true };
  try {
    const path = Deno.makeTempFileSync({ prefix: "hwfe-", suffix: ".lock" });
    Deno.writeTextFileSync(path, JSON.stringify(HWFE_LOCKFILE));
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(path);
      } catch { /* already gone */ }
    });
    return { path, frozen: false };
  } catch {
    return undefined;
  }
}

/**
 * Whether this is a compiled `hwfe` (`deno compile`): it starts its step
 * children as itself, with the permissions compiled into it.
 */
export const STANDALONE: boolean = Deno.build.standalone;

/**
 * The command line of a step child. From source, `deno run` of
 * host/child_entry.ts with the step's permissions as flags and a V8 heap
 * limit. A compiled `hwfe` cannot take Deno flags at run time: it runs
 * itself with {@link STEP_CHILD_COMMAND}, the worker inside gets the
 * step's allow lists as usual, deny rules are refused before the run
 * (engine/grants.ts), and V8's own heap limit applies.
 */
export function childCommand(
  moduleUrl: URL,
  permissions: WorkerPermissions,
  heapMb: number,
  standalone: boolean = STANDALONE,
  config: () => string | undefined = programConfig,
  lock: () => ChildLockfile | undefined = hwfeLockfile,
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
  const program = config();
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
    ...graphFlags(program, program ? undefined : lock()),
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
  #sending = Promise.resolve();
  #terminated = false;
  #stderr = "";

  /**
   * `permissions`: the Deno permissions of the worker inside the child;
   * deny rules are flags of the child itself (a worker cannot be given
   * them), so its worker inherits that kind from the child.
   */
  constructor(moduleUrl: URL, permissions: WorkerPermissions, heapMb: number, name: string) {
    const env = childEnv();
    this.#child = new Deno.Command(Deno.execPath(), {
      args: childCommand(moduleUrl, permissions, heapMb),
      clearEnv: env !== undefined,
      env: env ?? CHILD_SETTINGS,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#relay().catch(() => this.#fail(`the ${name} runtime sent an unreadable message`));
    const stderrDone = this.#collectStderr();
    this.#child.status.then(async (status) => {
      if (this.#terminated) return;
      // All of it (the cause is rarely on the first line), but never wait
      // long on a pipe that something else might still hold open.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([stderrDone, new Promise((done) => (timer = setTimeout(done, 1000)))]);
      clearTimeout(timer);
      const missing = STANDALONE ? undefined : missingFromCache(this.#stderr, {
        mainModule: Deno.mainModule,
        lockfile: programConfig() ?? hwfeLockfile()?.path,
        denoDir: env?.DENO_DIR,
      });
      if (missing) return this.#fail(missing, true);
      const cause = stderrCause(this.#stderr);
      const detail = cause ? `:\n${cause}` : "";
      const outOfHeap = status.code === 133 || status.signal === "SIGTRAP" ||
        /heap limit|out of memory/i.test(this.#stderr);
      const why = outOfHeap
        ? `its process ran out of JavaScript heap (${heapMb} MiB)`
        : status.signal
        ? `its process was killed by ${status.signal}${detail}`
        : `its process exited with code ${status.code}${detail}`;
      this.#fail(why);
    });
  }

  async #relay(): Promise<void> {
    for await (const message of readFrames(this.#child.stdout)) {
      this.onmessage?.({ data: message });
    }
  }

  async #collectStderr(): Promise<void> {
    try {
      for await (const text of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
        if (this.#stderr.length < 64 * 1024) this.#stderr += text;
      }
    } catch { /* the pipe broke: what was read is all there is */ }
  }

  /** `startFailed`: the runtime never started (rather than crashed). */
  #fail(message: string, startFailed = false): void {
    if (this.#terminated) return;
    this.onerror?.({ message, startFailed, preventDefault() {} });
  }

  #send(message: unknown): void {
    const frame = encodeFrame(message);
    this.#sending = this.#sending.then(() => this.#stdin.write(frame)).catch(() => {});
  }

  postMessage(message: HostMessage): void {
    if (this.#terminated) return;
    if (message.type !== "run") return this.#send(message);
    // Shared memory cannot cross processes: the child makes its own of
    // both, and interrupts reach it as messages.
    const { interrupt: _interrupt, flow: _flow, ...rest } = message;
    this.#send(rest);
  }

  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
    this.#stdin.close().catch(() => {});
  }
}

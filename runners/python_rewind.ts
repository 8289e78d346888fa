/**
 * Isolation between the Python steps that share a worker: after every step
 * the interpreter is put back exactly as it was before the first one.
 *
 * Resetting Python from Python cannot be complete: a step can change
 * modules, classes, closures, C-level registries (codecs, audit hooks) and
 * objects' `__del__` run whenever hwfe drops them. Everything Python is
 * lives in Pyodide's wasm memory, though, so the worker copies that memory
 * once (about 30 MB) and copies it back after each step (about 2 ms).
 * What lives outside it is checked or restored here:
 *
 * - the in-memory file system (JavaScript objects): files and directories
 *   a step made are removed, changed modes restored, file descriptors it
 *   opened closed;
 * - Pyodide's table of JavaScript references (hiwire) and the wasm
 *   function table: a step that changed them cannot be rewound;
 * - JavaScript itself: a step that used Pyodide's JavaScript bridge
 *   (`import js`, `pyodide.code.run_js`, `pyodide.ffi`, asyncio's event
 *   loop, `pyfetch`) may have changed the worker's JavaScript realm, which
 *   no copy restores. Every bridge import of the wasm module is counted
 *   while a step runs; a step that called any beyond what hwfe's own call
 *   makes retires the worker, and a fresh one takes the next step. So do
 *   the imports whose state Emscripten keeps in JavaScript: sockets, the
 *   made-up DNS table, the protocol table (which caches pointers into the
 *   memory a rewind replaces), interval timers, promises and suspenders;
 * - the rest of that JavaScript state is put back: the umask (emulated
 *   here: Emscripten's would set hwfe's own process's), the inode and pipe
 *   counters, the flags and positions of the descriptors open before the
 *   step.
 *
 * @module
 */

/**
 * Pyodide's wasm imports through which Python reaches JavaScript values,
 * and those whose state lives in JavaScript where a rewind cannot reach it.
 */
const RETIRING_IMPORT = new RegExp(
  "^(" + [
    // The bridge.
    "_?Jsv|_?Js[A-Z]|_?js2python|_?python2js|_?pyproxy|_?JsProxy|_?hiwire|__hiwire|raw_call_js",
    "destroy_prox|proxy_cache|array_to_js|_agen|handle_next_result|get_async_js|is_comlink",
    "jslib_|pyodide_js|ffi_|_dlopen|_emscripten_dlopen|_dlsym|_mmap|_munmap|_msync",
    "emscripten_set_up_async|emscripten_promise_|create_promise_handles|create_once_callable",
    "saveState$|restoreState$|syncifyHandler$|[sg]et_suspender$|can_run_sync",
    // Sockets (what their calls change belongs to a socket), names and timers.
    "__syscall_(socket|bind|connect|listen|accept4|getpeername|getsockname|getsockopt)$",
    "__syscall_(recvfrom|recvmsg|sendmsg|sendto)$",
    "getaddrinfo$|getnameinfo$|_emscripten_lookup_name$|getproto|_setitimer_js$",
  ].join("|") + ")",
);

/** The string conversions differ only by the width of the result's characters. */
function importClass(name: string): string {
  return name.replace(/^_python2js_(ascii|ucs1|ucs2|ucs4)$/, "_python2js_string");
}

let watching = false;
const bridgeCalls = new Map<string, number>();
/** The umask steps see: Emscripten's import would set the process's, hwfe's own. */
let umask = 0o022;

/**
 * Wraps the imports of Pyodide's wasm module (called from
 * `WebAssembly.instantiate`) that a rewind cannot undo, so that calls made
 * while a step runs are counted, and emulates the umask. Properties such
 * as `sig`, which Emscripten reads when it puts an import in the function
 * table, are kept.
 */
export function watchImports(env: Record<string, unknown>): void {
  const setUmask = env.__syscall_umask_js;
  if (typeof setUmask === "function") {
    env.__syscall_umask_js = Object.assign((mask: number) => {
      const old = umask;
      umask = mask & 0o777;
      return old;
    }, setUmask);
  }
  for (const [name, fn] of Object.entries(env)) {
    if (typeof fn !== "function" || !RETIRING_IMPORT.test(name)) continue;
    const kind = importClass(name);
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (watching) bridgeCalls.set(kind, (bridgeCalls.get(kind) ?? 0) + 1);
      return fn.apply(this, args);
    };
    env[name] = Object.assign(wrapped, fn);
  }
}

/** Runs `call` (a step) while counting bridge calls; returns its value and the counts. */
export function watched<T>(call: () => T): { value: T; calls: Map<string, number> } {
  bridgeCalls.clear();
  watching = true;
  try {
    return { value: call(), calls: new Map(bridgeCalls) };
  } finally {
    watching = false;
  }
}

/** Starts counting (for a step that goes on asynchronously); `stopWatching` ends it. */
export function startWatching(): void {
  bridgeCalls.clear();
  watching = true;
}

/** Ends counting; returns what was called. */
export function stopWatching(): Map<string, number> {
  watching = false;
  return new Map(bridgeCalls);
}

/** What the parts of Pyodide used here look like (internal, hence loosely typed). */
interface Module {
  HEAPU8: Uint8Array;
  __hiwire_get(index: number): unknown;
  _hiwire_num_refs?(): number;
  wasmTable: WebAssembly.Table;
  ___stack_pointer?: WebAssembly.Global;
}

interface FsNode {
  name: string;
  mode: number;
  parent: FsNode;
  contents?: unknown;
  usedBytes?: number;
  link?: string;
  rdev?: number;
  mount: { type: unknown };
  mounted?: unknown;
  atime?: number;
  mtime?: number;
  ctime?: number;
  timestamp?: number;
}

/** An open file description; `flags` and `position` live in a part dup() shares. */
interface FsStream {
  fd: number | null;
  node: FsNode;
  flags: number;
  position: number;
}

interface MemFs {
  expandFileStorage(node: FsNode, capacity: number): void;
  resizeFileStorage(node: FsNode, size: number): void;
  ops_table: {
    file: { stream: { write(stream: FsStream, ...rest: unknown[]): number } };
    dir: { node: { symlink(parent: FsNode, name: string, target: string): FsNode } };
  };
}

/** Emscripten's FS, as much of it as is used here (the worker's `pyodide.FS`). */
export interface Fs {
  lookupPath(path: string): { node: FsNode };
  createNode(parent: FsNode, name: string, mode: number, rdev: number): FsNode;
  isChrdev(mode: number): boolean;
  isDir(mode: number): boolean;
  isFile(mode: number): boolean;
  unlink(path: string): void;
  rmdir(path: string): void;
  close(stream: FsStream): void;
  chdir(path: string): void;
  cwd(): string;
  streams: (FsStream | null)[];
  ignorePermissions: boolean;
  nextInode: number;
  filesystems: { MEMFS: MemFs };
  ErrnoError: new (errno: number) => Error;
}

/** One node of the in-memory file system as it was. */
interface NodeState {
  path: string;
  parent: FsNode;
  name: string;
  mode: number;
  rdev: number | undefined;
  link: string | undefined;
  /** Files: the byte array and its length (a write in place is caught by {@link watchFiles}). */
  contents: unknown;
  usedBytes: number | undefined;
  times: (number | undefined)[];
  /** Directories: their entries, in the order a listing shows them. */
  entries: Map<string, FsNode> | undefined;
}

interface StreamState {
  stream: FsStream;
  node: FsNode;
  flags: number;
  position: number;
}

/** The interpreter as it was before any step ran. */
export interface Baseline {
  memory: Uint8Array;
  stackPointer: number | bigint | undefined;
  hiwire: unknown[];
  hiwireRefs: number | undefined;
  tableLength: number;
}

/** How the interpreter's state outside its memory stands at the start of a step. */
export interface FsBaseline {
  nodes: Map<FsNode, NodeState>;
  streams: (StreamState | undefined)[];
  cwd: string;
  nextInode: number;
  nextPipe: number | undefined;
  umask: number;
}

/** Most references Pyodide's table holds before any step; more would mean a leak of hwfe's own. */
const MAX_HIWIRE = 100_000;

/** Copies what a rewind restores. Called once, after start-up and before the first step. */
export function takeBaseline(module: Module): Baseline {
  const hiwire: unknown[] = [];
  for (let i = 0; i < MAX_HIWIRE; i++) {
    try {
      hiwire.push(module.__hiwire_get(i));
    } catch {
      break;
    }
  }
  return {
    memory: module.HEAPU8.slice(),
    stackPointer: module.___stack_pointer?.value,
    hiwire,
    hiwireRefs: module._hiwire_num_refs?.(),
    tableLength: module.wasmTable.length,
  };
}

const times = (node: FsNode) => [node.atime, node.mtime, node.ctime, node.timestamp];

/** Emscripten's errno numbers. */
const ENOSPC = 51;
const ENAMETOOLONG = 37;
/** The longest file name and link target, Linux's NAME_MAX and PATH_MAX. */
const NAME_MAX = 255;
const PATH_MAX = 4096;
/** Most nodes (files, directories, links, pipes) a step may hold at once: its "inodes". */
const MAX_NEW_NODES = 100_000;
/** What a node costs besides its bytes: a JavaScript object, its name and its hash-table entry. */
const NODE_BYTES = 512;

/** Nodes of the interpreter's in-memory files written to during the current step. */
const written = new Set<FsNode>();
/**
 * What the current step holds outside the wasm heap, counted against its
 * memory limit: per node it created or grew, and per pipe it filled.
 */
const held = new Map<FsNode | Pipe, number>();
let heldBytes = 0;
let newNodes = 0;
/** Whether the current step was refused space for what it holds (its memory limit, not a disk). */
let refused = false;

/** Whether the current step had a write or a new file refused for its memory limit. */
export function refusedSpace(): boolean {
  return refused;
}

interface Pipe {
  buckets: { buffer: Uint8Array }[] | null;
}

/** The bytes what the current step created in memory holds: files, links, pipes. */
export function fileBytes(): number {
  return heldBytes;
}

function hold(key: FsNode | Pipe, bytes: number): void {
  heldBytes += bytes - (held.get(key) ?? 0);
  held.set(key, bytes);
}

const isPipe = (key: FsNode | Pipe): key is Pipe => "buckets" in key;

const pipeBytes = (pipe: Pipe) => (pipe.buckets ?? []).reduce((n, b) => n + b.buffer.length, 0);

function nodeBytes(node: FsNode): number {
  const contents = node.contents;
  const data = ArrayBuffer.isView(contents)
    ? contents.byteLength
    : Array.isArray(contents)
    ? contents.length
    : 0;
  return NODE_BYTES + 2 * node.name.length + 2 * (node.link?.length ?? 0) + data;
}

/**
 * Watches the in-memory file system: which nodes a step wrote (a write in
 * place changes neither a file's array nor its length, and `os.utime` can
 * put its time back), and what it holds there, which `room()` (the step's
 * memory limit less its heap) caps: past it a write or a new file fails
 * with ENOSPC. Files, links and pipes live in JavaScript, outside the wasm
 * heap the limit otherwise covers, and in a worker in hwfe's own process
 * they would fill hwfe's heap. Names and link targets are as long as
 * Linux allows, no longer (ENAMETOOLONG).
 */
export function watchFiles(fs: Fs, room: () => number, pipefs?: PipeFs): void {
  const ErrnoError = fs.ErrnoError;
  /**
   * Drops what the step no longer holds: nodes neither linked nor open,
   * pipes whose ends are closed. Run only when a claim would fail, so that
   * unlinking is not tracked through Emscripten's every path.
   */
  const sweep = () => {
    const open = new Set(fs.streams.map((stream) => stream?.node));
    newNodes = 0;
    for (const key of held.keys()) {
      const alive = isPipe(key) ? key.buckets !== null : open.has(key) ||
        (key.parent?.contents as Record<string, FsNode> | undefined)?.[key.name] === key;
      if (!alive) {
        heldBytes -= held.get(key)!;
        held.delete(key);
      } else if (!isPipe(key)) newNodes++;
    }
  };
  const claim = (key: FsNode | Pipe | undefined, bytes: number) => {
    const had = key ? held.get(key) ?? 0 : 0;
    if (bytes <= had || heldBytes - had + bytes <= room()) return;
    sweep();
    if (heldBytes - (key ? held.get(key) ?? 0 : 0) + bytes > room()) {
      refused = true;
      throw new ErrnoError(ENOSPC);
    }
  };
  const createNode = fs.createNode;
  fs.createNode = function (parent, name, mode, rdev) {
    // Devices are Pyodide's own (it makes one to capture stderr, outside
    // any system call, where an error would stop the interpreter): Python
    // cannot make them.
    if (fs.isChrdev(mode)) return createNode.call(this, parent, name, mode, rdev);
    if (typeof name === "string" && name.length > NAME_MAX) throw new ErrnoError(ENAMETOOLONG);
    if (newNodes >= MAX_NEW_NODES) {
      sweep();
      if (newNodes >= MAX_NEW_NODES) {
        refused = true;
        throw new ErrnoError(ENOSPC);
      }
    }
    claim(undefined, NODE_BYTES + 2 * String(name).length);
    const node = createNode.call(this, parent, name, mode, rdev);
    newNodes++;
    hold(node, nodeBytes(node));
    return node;
  };
  const memfs = fs.filesystems.MEMFS;
  const data = (node: FsNode, bytes: number) => claim(node, nodeBytes(node) + bytes);
  const expand = memfs.expandFileStorage;
  memfs.expandFileStorage = function (node, capacity) {
    data(node, capacity);
    expand.call(this, node, capacity);
    hold(node, nodeBytes(node));
  };
  const resize = memfs.resizeFileStorage;
  memfs.resizeFileStorage = function (node, size) {
    data(node, size);
    resize.call(this, node, size);
    hold(node, nodeBytes(node));
  };
  const file = memfs.ops_table.file.stream;
  const write = file.write;
  file.write = function (stream, ...rest) {
    written.add(stream.node);
    // A first write at 0 copies the buffer without expandFileStorage.
    const [, , length, position] = rest as number[];
    if (!stream.node.usedBytes && position === 0) data(stream.node, length);
    const count = write.call(this, stream, ...rest);
    hold(stream.node, nodeBytes(stream.node));
    return count;
  };
  const dir = memfs.ops_table.dir.node;
  const symlink = dir.symlink;
  dir.symlink = function (parent, name, target) {
    if (target.length >= PATH_MAX) throw new ErrnoError(ENAMETOOLONG);
    claim(undefined, NODE_BYTES + 2 * (name.length + target.length));
    const node = symlink.call(this, parent, name, target);
    hold(node, nodeBytes(node));
    return node;
  };
  if (!pipefs) return;
  const pipe = pipefs.stream_ops;
  const pipeWrite = pipe.write;
  pipe.write = function (stream, ...rest) {
    const buffer = stream.node.pipe;
    claim(buffer, pipeBytes(buffer) + (rest[2] as number));
    const count = pipeWrite.call(this, stream, ...rest);
    hold(buffer, pipeBytes(buffer));
    return count;
  };
  const pipeRead = pipe.read;
  pipe.read = function (stream, ...rest) {
    const count = pipeRead.call(this, stream, ...rest);
    hold(stream.node.pipe, pipeBytes(stream.node.pipe));
    return count;
  };
}

/** Emscripten's file system for pipes. */
export interface PipeFs {
  stream_ops: Record<
    "read" | "write",
    (stream: FsStream & { node: { pipe: Pipe } }, ...rest: unknown[]) => number
  >;
}

/** Records the in-memory file system (not the host directories mounted in it). */
export function takeFsBaseline(
  fs: Fs,
  module: { PIPEFS?: { nextname?: { current?: number } } },
): FsBaseline {
  written.clear();
  held.clear();
  heldBytes = 0;
  newNodes = 0;
  refused = false;
  const nodes = new Map<FsNode, NodeState>();
  withoutPermissions(fs, () =>
    walk(fs, "/", (node, path) => {
      const dir = fs.isDir(node.mode);
      nodes.set(node, {
        path,
        parent: node.parent,
        name: node.name,
        mode: node.mode,
        rdev: node.rdev,
        link: node.link,
        contents: dir ? undefined : node.contents,
        usedBytes: node.usedBytes,
        times: times(node),
        entries: dir ? new Map(Object.entries(node.contents as Record<string, FsNode>)) : undefined,
      });
    }));
  return {
    nodes,
    streams: fs.streams.map((stream) =>
      stream
        ? { stream, node: stream.node, flags: stream.flags, position: stream.position }
        : undefined
    ),
    cwd: fs.cwd(),
    nextInode: fs.nextInode,
    nextPipe: module.PIPEFS?.nextname?.current,
    umask,
  };
}

/** Runs `call` with Emscripten's permission checks off: a step's chmod 0 must not hide its files. */
function withoutPermissions<T>(fs: Fs, call: () => T): T {
  const ignored = fs.ignorePermissions;
  fs.ignorePermissions = true;
  try {
    return call();
  } finally {
    fs.ignorePermissions = ignored;
  }
}

/** Visits every in-memory node under `path`, not descending into mounts. */
function walk(fs: Fs, path: string, visit: (node: FsNode, path: string) => void): void {
  const node = fs.lookupPath(path).node;
  if (node.mount.type !== fs.filesystems.MEMFS) return;
  visit(node, path);
  if (!fs.isDir(node.mode) || node.mounted) return;
  for (const name of Object.keys(node.contents as object)) {
    walk(fs, path === "/" ? `/${name}` : `${path}/${name}`, visit);
  }
}

/**
 * Puts the file system and the JavaScript state beside it back as `base`
 * recorded it: removes what was added, restores modes and times, closes
 * descriptors the step opened. Returns why it could not (a file of the
 * base written, renamed, removed or replaced; a descriptor of the base
 * closed), in which case the worker retires and nothing is put back.
 */
export function restoreFs(
  fs: Fs,
  module: { PIPEFS?: { nextname?: { current?: number } } },
  base: FsBaseline,
): string | undefined {
  try {
    return withoutPermissions(fs, () => restore(fs, module, base));
  } catch (error) {
    return `its files could not be checked (${errorText(error)})`;
  }
}

function restore(
  fs: Fs,
  module: { PIPEFS?: { nextname?: { current?: number } } },
  base: FsBaseline,
): string | undefined {
  const seen = new Set<FsNode>();
  const added: string[] = [];
  let problem: string | undefined;
  walk(fs, "/", (node, path) => {
    const was = base.nodes.get(node);
    if (!was) return; // under a directory added by the step: removed with it
    seen.add(node);
    if (
      path !== was.path || node.parent !== was.parent || node.name !== was.name ||
      node.rdev !== was.rdev || node.link !== was.link
    ) {
      problem ??= `${was.path} was moved or changed`;
    } else if (was.entries) {
      const entries = node.contents as Record<string, FsNode>;
      for (const [name, child] of was.entries) {
        if (entries[name] !== child) problem ??= `${path} lost or replaced ${name}`;
      }
      // A name moved away and back goes to the end of the listing: an order is a message.
      const order = Object.keys(entries).filter((name) => was.entries!.has(name));
      const before = [...was.entries.keys()];
      if (order.some((name, i) => name !== before[i])) problem ??= `${path} was reordered`;
      for (const name of Object.keys(entries)) {
        if (!was.entries.has(name)) added.push(path === "/" ? `/${name}` : `${path}/${name}`);
      }
    } else if (
      written.has(node) || node.contents !== was.contents || node.usedBytes !== was.usedBytes
    ) {
      problem ??= `${path} was written`;
    }
  });
  if (problem) return problem;
  if (seen.size !== base.nodes.size) return "a file or directory of the interpreter was removed";
  for (const [fd, was] of base.streams.entries()) {
    if (
      was && (fs.streams[fd] !== was.stream || was.stream.fd !== fd || was.stream.node !== was.node)
    ) {
      return `descriptor ${fd} was closed or replaced`;
    }
  }
  for (const [node, was] of base.nodes) {
    node.mode = was.mode;
    [node.atime, node.mtime, node.ctime, node.timestamp] = was.times;
  }
  for (const path of added) remove(fs, path);
  for (let fd = 0; fd < fs.streams.length; fd++) {
    const stream = fs.streams[fd];
    if (stream && stream !== base.streams[fd]?.stream) {
      try {
        fs.close(stream);
      } catch { /* closed for good either way */ }
    }
  }
  for (const was of base.streams) {
    if (!was) continue;
    was.stream.flags = was.flags;
    was.stream.position = was.position;
  }
  fs.streams.length = base.streams.length;
  fs.nextInode = base.nextInode;
  const pipes = module.PIPEFS?.nextname;
  if (pipes) pipes.current = base.nextPipe;
  umask = base.umask;
  if (fs.cwd() !== base.cwd) fs.chdir(base.cwd);
  return undefined;
}

/** An error's message; Emscripten's ErrnoError has none but its number. */
function errorText(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  const errno = (error as { errno?: unknown } | null)?.errno;
  return errno === undefined ? String(error) : `errno ${errno}`;
}

function remove(fs: Fs, path: string): void {
  const node = fs.lookupPath(path).node;
  if (fs.isDir(node.mode) && !node.mounted) {
    for (const name of Object.keys(node.contents as object)) remove(fs, `${path}/${name}`);
    fs.rmdir(path);
  } else {
    fs.unlink(path);
  }
}

/** Why a copy of memory would not restore the interpreter, if it would not. */
export function unrewindable(module: Module, base: Baseline): string | undefined {
  if (module.wasmTable.length !== base.tableLength) return "the wasm function table grew";
  const growth = module.HEAPU8.length - base.memory.length;
  if (growth > MAX_REWOUND_GROWTH) {
    return `its memory grew by ${Math.round(growth / 2 ** 20)} MiB, more than a rewind zeroes`;
  }
  if (module._hiwire_num_refs?.() !== base.hiwireRefs) {
    return "the interpreter's JavaScript references were released or leaked";
  }
  for (let i = 0; i < base.hiwire.length; i++) {
    let value: unknown;
    try {
      value = module.__hiwire_get(i);
    } catch {
      return "a JavaScript reference of the interpreter was released";
    }
    if (value !== base.hiwire[i]) return "a JavaScript reference of the interpreter changed";
  }
  return undefined;
}

/**
 * Most growth of the interpreter's memory a rewind zeroes (about 5 ms);
 * past it the worker retires instead.
 */
const MAX_REWOUND_GROWTH = 64 * 2 ** 20;

/** Copies the interpreter's memory back (after {@link unrewindable} found nothing). */
export function rewind(module: Module, base: Baseline): void {
  const heap = module.HEAPU8;
  heap.set(base.memory);
  // Memory grown during the step is zeroed whole, not up to the
  // allocator's current top, which falls again when it frees: the next
  // step must find neither this one's data (ctypes reads any address) nor
  // dirty memory the allocator believes fresh.
  if (heap.length > base.memory.length) heap.fill(0, base.memory.length);
  if (module.___stack_pointer && base.stackPointer !== undefined) {
    module.___stack_pointer.value = base.stackPointer;
  }
}

/** Bridge calls beyond what `allowed` (hwfe's own call into the interpreter) makes. */
export function beyond(calls: Map<string, number>, allowed: Map<string, number>): string[] {
  return [...calls].filter(([name, count]) => count > (allowed.get(name) ?? 0)).map(([name]) =>
    name
  );
}

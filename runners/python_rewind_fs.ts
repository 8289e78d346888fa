/**
 * The in-memory file system's part of a rewind (python_rewind.ts): Emscripten
 * keeps it in JavaScript objects, outside the wasm memory a rewind copies
 * back. Here a step's files, links and pipes are counted against its memory
 * limit, and the file system and the JavaScript state beside it (open
 * descriptors, the inode and pipe counters, the emulated umask) are recorded
 * before a step and put back after it, or found changed beyond repair.
 *
 * @module
 */

/** The umask steps see: Emscripten's import would set the process's, hwfe's own. */
let umask = 0o022;

/** Emulates the umask in Pyodide's wasm imports (`env`, as `watchImports` gets them). */
export function emulateUmask(env: Record<string, unknown>): void {
  const setUmask = env.__syscall_umask_js;
  if (typeof setUmask === "function") {
    env.__syscall_umask_js = Object.assign((mask: number) => {
      const old = umask;
      umask = mask & 0o777;
      return old;
    }, setUmask);
  }
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

/** How the interpreter's state outside its memory stands at the start of a step. */
export interface FsBaseline {
  nodes: Map<FsNode, NodeState>;
  streams: (StreamState | undefined)[];
  cwd: string;
  nextInode: number;
  nextPipe: number | undefined;
  umask: number;
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
    return `its files could not be checked (${fsErrorText(error)})`;
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
function fsErrorText(error: unknown): string {
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

/**
 * Host directories for WASI modules: a step's granted directories are
 * pre-opened under their own paths, and every file call goes to Deno,
 * whose permissions on the worker are the step's grants. So a directory
 * granted for reading only is read-only here too (opening for writing
 * fails with EACCES), and nothing outside the grants can be reached even
 * through `..` or a path the module makes up.
 *
 * browser_wasi_shim (the WASI implementation, in-memory by design) takes
 * file descriptors as objects; these two classes are its `Fd` for a host
 * directory and a host file. Renaming is not offered (ENOTSUP).
 *
 * @module
 */

import { Fd, wasi } from "../_util/npm/wasi_shim.ts";
import { join, normalize } from "node:path";
import { within } from "../engine/grants.ts";
import { type PathFault, pathFault } from "../_util/posix_paths.ts";

/** WASI's lookupflags bit 0 (the shim does not name it). */
const LOOKUP_SYMLINK_FOLLOW = 1;

const FAULTS: Record<PathFault, number> = {
  ENOTDIR: wasi.ERRNO_NOTDIR,
  EISDIR: wasi.ERRNO_ISDIR,
  ENOENT: wasi.ERRNO_NOENT,
};

/** A WASI errno for an error Deno threw. */
function errno(error: unknown): number {
  if (error instanceof Deno.errors.NotCapable) return wasi.ERRNO_ACCES;
  if (error instanceof Deno.errors.PermissionDenied) return wasi.ERRNO_ACCES;
  if (error instanceof Deno.errors.NotFound) return wasi.ERRNO_NOENT;
  if (error instanceof Deno.errors.AlreadyExists) return wasi.ERRNO_EXIST;
  if (error instanceof Deno.errors.IsADirectory) return wasi.ERRNO_ISDIR;
  if (error instanceof Deno.errors.NotADirectory) return wasi.ERRNO_NOTDIR;
  if ((error as { code?: string })?.code === "ENOTEMPTY") return wasi.ERRNO_NOTEMPTY;
  return wasi.ERRNO_IO;
}

function filestat(info: Deno.FileInfo): wasi.Filestat {
  const type = info.isDirectory
    ? wasi.FILETYPE_DIRECTORY
    : info.isSymlink
    ? wasi.FILETYPE_SYMBOLIC_LINK
    : wasi.FILETYPE_REGULAR_FILE;
  const stat = new wasi.Filestat(BigInt(info.ino ?? 0), type, BigInt(info.size));
  const ns = (date: Date | null) => BigInt(date?.getTime() ?? 0) * 1_000_000n;
  stat.atim = ns(info.atime);
  stat.mtim = ns(info.mtime);
  stat.ctim = ns(info.birthtime ?? info.mtime);
  return stat;
}

/** A host directory: `root` is the pre-opened directory it lies in. */
export class HostDirectory extends Fd {
  #entries?: Deno.DirEntry[];

  /** `name`: the pre-opened name the module sees; undefined for a directory opened inside. */
  constructor(readonly path: string, readonly root: string, readonly name?: string) {
    super();
  }

  /** The host path of `relative`, or undefined when it leaves the pre-opened directory. */
  #resolve(relative: string): string | undefined {
    const target = normalize(join(this.path, relative));
    return within(target, this.root) ? target : undefined;
  }

  /**
   * The errno POSIX gives for `relative` (a file followed by `/`, `.` or
   * `..`) that normalizing it would hide, or 0.
   */
  #fault(relative: string, forWriting = false): number {
    const fault = pathFault(`${this.path}/${relative}`, forWriting);
    return fault ? FAULTS[fault] : wasi.ERRNO_SUCCESS;
  }

  override fd_prestat_get() {
    if (this.name === undefined) return { ret: wasi.ERRNO_BADF, prestat: null };
    return { ret: wasi.ERRNO_SUCCESS, prestat: wasi.Prestat.dir(this.name) };
  }

  override fd_fdstat_get() {
    return { ret: wasi.ERRNO_SUCCESS, fdstat: new wasi.Fdstat(wasi.FILETYPE_DIRECTORY, 0) };
  }

  override fd_filestat_get() {
    try {
      return { ret: wasi.ERRNO_SUCCESS, filestat: filestat(Deno.statSync(this.path)) };
    } catch (error) {
      return { ret: errno(error), filestat: null };
    }
  }

  override fd_readdir_single(cookie: bigint) {
    try {
      if (cookie === 0n || !this.#entries) this.#entries = [...Deno.readDirSync(this.path)];
    } catch (error) {
      return { ret: errno(error), dirent: null };
    }
    const names = [".", "..", ...this.#entries.map((e) => e.name)];
    if (cookie >= BigInt(names.length)) return { ret: wasi.ERRNO_SUCCESS, dirent: null };
    const i = Number(cookie);
    const entry = i >= 2 ? this.#entries[i - 2] : undefined;
    const type = !entry || entry.isDirectory
      ? wasi.FILETYPE_DIRECTORY
      : entry.isSymlink
      ? wasi.FILETYPE_SYMBOLIC_LINK
      : wasi.FILETYPE_REGULAR_FILE;
    return { ret: wasi.ERRNO_SUCCESS, dirent: new wasi.Dirent(cookie + 1n, 0n, names[i], type) };
  }

  override path_filestat_get(flags: number, relative: string) {
    const target = this.#resolve(relative);
    if (!target) return { ret: wasi.ERRNO_NOTCAPABLE, filestat: null };
    const fault = this.#fault(relative);
    if (fault) return { ret: fault, filestat: null };
    try {
      const follow = (flags & LOOKUP_SYMLINK_FOLLOW) !== 0;
      const info = follow ? Deno.statSync(target) : Deno.lstatSync(target);
      return { ret: wasi.ERRNO_SUCCESS, filestat: filestat(info) };
    } catch (error) {
      return { ret: errno(error), filestat: null };
    }
  }

  override path_open(
    _dirflags: number,
    relative: string,
    oflags: number,
    rights: bigint,
    _inheriting: bigint,
    fdFlags: number,
  ) {
    const target = this.#resolve(relative);
    if (!target) return { ret: wasi.ERRNO_NOTCAPABLE, fd_obj: null };
    const writeRights = BigInt(
      wasi.RIGHTS_FD_WRITE | wasi.RIGHTS_FD_ALLOCATE |
        wasi.RIGHTS_FD_FILESTAT_SET_SIZE,
    );
    const write = (rights & writeRights) !== 0n || (oflags & wasi.OFLAGS_TRUNC) !== 0 ||
      (fdFlags & wasi.FDFLAGS_APPEND) !== 0;
    const fault = this.#fault(relative, write || (oflags & wasi.OFLAGS_CREAT) !== 0);
    if (fault) return { ret: fault, fd_obj: null };
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.statSync(target);
    } catch (error) {
      // Not there yet, or not readable (a directory granted for writing only):
      // opening the file says what is allowed.
      const unknown = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotCapable;
      if (!unknown) return { ret: errno(error), fd_obj: null };
    }
    if (info?.isDirectory || (oflags & wasi.OFLAGS_DIRECTORY) !== 0) {
      if (!info) return { ret: wasi.ERRNO_NOENT, fd_obj: null };
      if (!info.isDirectory) return { ret: wasi.ERRNO_NOTDIR, fd_obj: null };
      return { ret: wasi.ERRNO_SUCCESS, fd_obj: new HostDirectory(target, this.root) };
    }
    const read = (rights & BigInt(wasi.RIGHTS_FD_READ)) !== 0n || !write;
    try {
      const file = Deno.openSync(target, {
        read,
        write: write && (fdFlags & wasi.FDFLAGS_APPEND) === 0,
        append: (fdFlags & wasi.FDFLAGS_APPEND) !== 0,
        create: (oflags & wasi.OFLAGS_CREAT) !== 0,
        createNew: (oflags & wasi.OFLAGS_CREAT) !== 0 && (oflags & wasi.OFLAGS_EXCL) !== 0,
        truncate: (oflags & wasi.OFLAGS_TRUNC) !== 0,
      });
      return { ret: wasi.ERRNO_SUCCESS, fd_obj: new HostFile(file) };
    } catch (error) {
      return { ret: errno(error), fd_obj: null };
    }
  }

  override path_create_directory(relative: string): number {
    return this.#change(relative, (target) => Deno.mkdirSync(target));
  }

  override path_unlink_file(relative: string): number {
    return this.#change(relative, (target) => {
      if (Deno.lstatSync(target).isDirectory) throw new Deno.errors.IsADirectory();
      Deno.removeSync(target);
    });
  }

  override path_remove_directory(relative: string): number {
    return this.#change(relative, (target) => {
      if (!Deno.lstatSync(target).isDirectory) throw new Deno.errors.NotADirectory();
      Deno.removeSync(target);
    });
  }

  #change(relative: string, change: (target: string) => void): number {
    const target = this.#resolve(relative);
    if (!target) return wasi.ERRNO_NOTCAPABLE;
    const fault = this.#fault(relative);
    if (fault) return fault;
    try {
      change(target);
      return wasi.ERRNO_SUCCESS;
    } catch (error) {
      return errno(error);
    }
  }
}

/** An open host file. */
export class HostFile extends Fd {
  constructor(readonly file: Deno.FsFile) {
    super();
  }

  override fd_fdstat_get() {
    return { ret: wasi.ERRNO_SUCCESS, fdstat: new wasi.Fdstat(wasi.FILETYPE_REGULAR_FILE, 0) };
  }

  override fd_filestat_get() {
    try {
      return { ret: wasi.ERRNO_SUCCESS, filestat: filestat(this.file.statSync()) };
    } catch (error) {
      return { ret: errno(error), filestat: null };
    }
  }

  override fd_read(size: number) {
    const buffer = new Uint8Array(size);
    let filled = 0;
    try {
      while (filled < size) {
        const n = this.file.readSync(buffer.subarray(filled));
        if (n === null || n === 0) break;
        filled += n;
      }
      return { ret: wasi.ERRNO_SUCCESS, data: buffer.subarray(0, filled) };
    } catch (error) {
      return { ret: errno(error), data: new Uint8Array() };
    }
  }

  override fd_write(data: Uint8Array) {
    try {
      let written = 0;
      while (written < data.length) written += this.file.writeSync(data.subarray(written));
      return { ret: wasi.ERRNO_SUCCESS, nwritten: written };
    } catch (error) {
      return { ret: errno(error), nwritten: 0 };
    }
  }

  override fd_pread(size: number, offset: bigint) {
    return this.#at(offset, () => this.fd_read(size), { data: new Uint8Array() });
  }

  override fd_pwrite(data: Uint8Array, offset: bigint) {
    return this.#at(offset, () => this.fd_write(data), { nwritten: 0 });
  }

  /** Runs `io` at `offset`, then goes back to where the file was. */
  #at<T extends { ret: number }>(offset: bigint, io: () => T, failed: Omit<T, "ret">): T {
    try {
      const here = this.file.seekSync(0, Deno.SeekMode.Current);
      this.file.seekSync(Number(offset), Deno.SeekMode.Start);
      try {
        return io();
      } finally {
        this.file.seekSync(here, Deno.SeekMode.Start);
      }
    } catch (error) {
      return { ...failed, ret: errno(error) } as T;
    }
  }

  override fd_seek(offset: bigint, whence: number) {
    const mode = [Deno.SeekMode.Start, Deno.SeekMode.Current, Deno.SeekMode.End][whence];
    if (mode === undefined) return { ret: wasi.ERRNO_INVAL, offset: 0n };
    try {
      return { ret: wasi.ERRNO_SUCCESS, offset: BigInt(this.file.seekSync(Number(offset), mode)) };
    } catch (error) {
      return { ret: errno(error), offset: 0n };
    }
  }

  override fd_tell() {
    return this.fd_seek(0n, 1);
  }

  override fd_filestat_set_size(size: bigint): number {
    try {
      this.file.truncateSync(Number(size));
      return wasi.ERRNO_SUCCESS;
    } catch (error) {
      return errno(error);
    }
  }

  override fd_sync(): number {
    return wasi.ERRNO_SUCCESS;
  }

  override fd_close(): number {
    try {
      this.file.close();
    } catch { /* already closed */ }
    return wasi.ERRNO_SUCCESS;
  }
}

/**
 * The pre-opened directories for a step: each granted directory under its
 * own absolute path (and under the path as the workflow wrote it, when
 * that was relative, so relative paths work too). Files granted alone are
 * reached through no pre-open: WASI opens files inside directories.
 */
export function preopens(dirs: { path: string; as: string[] }[]): HostDirectory[] {
  return dirs.flatMap(({ path, as }) => as.map((name) => new HostDirectory(path, path, name)));
}

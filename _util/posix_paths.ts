/**
 * What POSIX says of a path before Deno normalizes it away. Under a
 * worker's path permissions Deno normalizes a path lexically and opens the
 * result, so `a.txt/`, `a.txt/.` and `a.txt/../b.txt` reach `a.txt` and
 * `b.txt` where POSIX fails with ENOTDIR. Steps' file calls (Lua's `io`,
 * WASI's pre-opened directories) check here first.
 *
 * @module
 */

/** The error POSIX gives for a path, by its C name. */
export type PathFault = "ENOTDIR" | "EISDIR" | "ENOENT";

/** A component that names the directory before it: the empty one after a `/`, `.` and `..`. */
function namesDirectory(part: string): boolean {
  return part === "" || part === "." || part === "..";
}

/**
 * The error POSIX gives for `path` that Deno's normalization would hide, or
 * undefined. Every component followed by `/`, `.` or `..` must be a
 * directory, and nothing is opened for writing at a path that ends in one
 * (`forWriting`). What the caller may not stat (not granted) is left to
 * Deno's own checks.
 */
export function pathFault(
  path: string,
  forWriting: boolean,
  stat: (path: string) => Deno.FileInfo = Deno.statSync,
): PathFault | undefined {
  const parts = path.split("/");
  const last = parts.length - 1;
  for (let i = 1; i <= last; i++) {
    if (!namesDirectory(parts[i])) continue;
    // Linux's open(2) with O_CREAT, whatever is there.
    if (forWriting && i === last) return "EISDIR";
    const before = parts.slice(0, i);
    // The root and the working directory are directories.
    if (before.every((part) => part === "" || part === ".")) continue;
    let info: Deno.FileInfo;
    try {
      info = stat(before.join("/"));
    } catch (error) {
      if (error instanceof Deno.errors.NotADirectory) return "ENOTDIR";
      return error instanceof Deno.errors.NotFound ? "ENOENT" : undefined;
    }
    if (!info.isDirectory) return "ENOTDIR";
  }
  return undefined;
}

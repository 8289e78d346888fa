/**
 * Naming what a path is when it is not the regular file a message expected.
 *
 * @module
 */

/** What a path that is not a regular file is, for messages. */
export function fileKind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

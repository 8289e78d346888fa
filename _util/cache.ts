/**
 * hwfe's user cache: where it is, and files in it that are written
 * atomically and checked when read back (a missing, stale or corrupt file
 * reads as absent, never as wrong data).
 *
 * Users: the Python runner (its Pyodide memory snapshot), the TypeScript
 * runner (transpiled steps) and the workflow loader (evaluated workflows).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { envVar } from "./env.ts";
import { errorText } from "./errors.ts";

/**
 * The cache directory: `HWFE_CACHE_DIR`, else the platform's user cache
 * directory plus `hwfe` (`$XDG_CACHE_HOME` or `~/.cache` on Linux,
 * `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows). Undefined when
 * none can be found.
 */
export function defaultCacheDir(
  env: (name: string) => string | undefined = envVar,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  const explicit = env("HWFE_CACHE_DIR");
  if (explicit) return explicit;
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    return local ? `${local}\\hwfe` : undefined;
  }
  const home = env("HOME");
  if (os === "darwin") return home ? `${home}/Library/Caches/hwfe` : undefined;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/hwfe`;
  return home ? `${home}/.cache/hwfe` : undefined;
}

const MAGIC = new TextEncoder().encode("HWFECACH");
const PREFIX = MAGIC.length + 4;

/** A blob read back with the checksum its header promises (verify before trusting). */
export interface CachedBlob {
  bytes: Uint8Array;
  sha256: string;
}

/** The SHA-256 of text (UTF-8), in hex: for cache keys. */
export function sha256OfText(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The SHA-256 of bytes, in hex, computed off the main thread (Web Crypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * One blob in `dir`, named by `key` (which must change whenever the
 * content would: versions, the code that produced it). Files of the same
 * `kind` with other keys are stale and removed when a new one is written.
 */
export class CacheEntry {
  readonly path: string;

  constructor(readonly dir: string, readonly kind: string, readonly key: string) {
    this.path = `${dir}/${key}.${kind}`;
  }

  /** Whether this process may write the entry (never prompts). */
  writable(): boolean {
    try {
      return Deno.permissions.querySync({ name: "write", path: this.dir }).state === "granted";
    } catch {
      return false;
    }
  }

  /**
   * The blob, or undefined when the file is missing, unreadable, for
   * another key or truncated. Its checksum is the header's, still to be
   * checked by whoever uses the bytes (`sha256Hex`), off the main thread.
   */
  async read(): Promise<CachedBlob | undefined> {
    let data: Uint8Array;
    try {
      if (Deno.permissions.querySync({ name: "read", path: this.path }).state !== "granted") {
        return undefined;
      }
      data = await Deno.readFile(this.path);
    } catch {
      return undefined;
    }
    if (data.length < PREFIX || !MAGIC.every((b, i) => data[i] === b)) return undefined;
    const headerLength = new DataView(data.buffer, data.byteOffset + MAGIC.length, 4)
      .getUint32(0);
    if (PREFIX + headerLength > data.length) return undefined;
    let header: { key?: unknown; length?: unknown; sha256?: unknown };
    try {
      header = JSON.parse(new TextDecoder().decode(data.subarray(PREFIX, PREFIX + headerLength)));
    } catch {
      return undefined;
    }
    const bytes = data.subarray(PREFIX + headerLength);
    if (header.key !== this.key || header.length !== bytes.length) return undefined;
    if (typeof header.sha256 !== "string") return undefined;
    return { bytes, sha256: header.sha256 };
  }

  /**
   * Where the blob lies in the file, read from its header alone (for a
   * reader in another process); undefined as for `read`. The file may be
   * replaced meanwhile: the reader checks the bytes against `sha256`.
   */
  async locate(): Promise<{ offset: number; length: number; sha256: string } | undefined> {
    let file: Deno.FsFile | undefined;
    try {
      if (Deno.permissions.querySync({ name: "read", path: this.path }).state !== "granted") {
        return undefined;
      }
      file = await Deno.open(this.path);
      const size = (await file.stat()).size;
      const prefix = new Uint8Array(PREFIX);
      if (await file.read(prefix) !== PREFIX || !MAGIC.every((b, i) => prefix[i] === b)) {
        return undefined;
      }
      const headerLength = new DataView(prefix.buffer, MAGIC.length, 4).getUint32(0);
      if (PREFIX + headerLength > size || headerLength > 64 * 1024) return undefined;
      const headerBytes = new Uint8Array(headerLength);
      let filled = 0;
      while (filled < headerLength) {
        const n = await file.read(headerBytes.subarray(filled));
        if (!n) return undefined;
        filled += n;
      }
      const header = JSON.parse(new TextDecoder().decode(headerBytes));
      const offset = PREFIX + headerLength;
      if (header.key !== this.key || header.length !== size - offset) return undefined;
      if (typeof header.sha256 !== "string") return undefined;
      return { offset, length: header.length, sha256: header.sha256 };
    } catch {
      return undefined;
    } finally {
      file?.close();
    }
  }

  /**
   * Writes the blob atomically (a temporary file renamed into place) and
   * removes stale entries of the same kind. Throws with a clear message.
   */
  async write(bytes: Uint8Array): Promise<void> {
    const header = new TextEncoder().encode(
      JSON.stringify({ key: this.key, length: bytes.length, sha256: await sha256Hex(bytes) }),
    );
    const prefix = new Uint8Array(PREFIX + header.length);
    prefix.set(MAGIC);
    new DataView(prefix.buffer).setUint32(MAGIC.length, header.length);
    prefix.set(header, PREFIX);
    let temp: string | undefined;
    try {
      await Deno.mkdir(this.dir, { recursive: true });
      temp = await Deno.makeTempFile({ dir: this.dir, prefix: `.${this.kind}-`, suffix: ".tmp" });
      const file = await Deno.open(temp, { write: true, truncate: true });
      try {
        await writeAll(file, prefix);
        await writeAll(file, bytes);
      } finally {
        file.close();
      }
      await Deno.rename(temp, this.path);
      temp = undefined;
    } catch (error) {
      throw new Error(`cannot write ${this.path}: ${errorText(error)}`);
    } finally {
      if (temp) await Deno.remove(temp).catch(() => {});
    }
    await this.#removeStale();
  }

  async #removeStale(): Promise<void> {
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        const name = entry.name;
        if (name.endsWith(`.${this.kind}`) && `${this.dir}/${name}` !== this.path) {
          await Deno.remove(`${this.dir}/${name}`).catch(() => {});
        }
      }
    } catch {
      // Stale files only cost disk space.
    }
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

/**
 * Caps the memory a WebAssembly module may grow to by rewriting the
 * maximum in its memory section: `memory.grow` past it returns -1, so the
 * module's allocator fails instead of the host running out of memory. The
 * format is small and fixed (a section id, a LEB128 size, a vector of
 * limits), so this is done here rather than with a full binary toolkit.
 *
 * @module
 */

const MEMORY_SECTION = 5;
const PAGE = 64 * 1024;

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length) throw new Error("truncated module");
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, at];
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** Why a module cannot run within the cap (it starts above it). */
export class MemoryCapError extends Error {}

/**
 * The module with every memory it defines limited to `maxBytes` (rounded
 * down to whole 64 KiB pages). Throws MemoryCapError when a memory's
 * initial size is already above the cap.
 */
export function capModuleMemory(module: Uint8Array, maxBytes: number): Uint8Array {
  const maxPages = Math.max(1, Math.floor(maxBytes / PAGE));
  if (module.length < 8) return module; // not a module: compiling it says so
  const out: number[] = Array.from(module.subarray(0, 8));
  let at = 8;
  while (at < module.length) {
    const id = module[at];
    const [size, start] = readLeb(module, at + 1);
    const end = start + size;
    if (id !== MEMORY_SECTION) {
      for (let i = at; i < end; i++) out.push(module[i]);
      at = end;
      continue;
    }
    const body: number[] = [];
    let [count, p] = readLeb(module, start);
    body.push(...leb(count));
    for (; count > 0; count--) {
      const flags = module[p++];
      let min: number;
      [min, p] = readLeb(module, p);
      let max: number | undefined;
      if (flags & 1) [max, p] = readLeb(module, p);
      if (min > maxPages) {
        throw new MemoryCapError(
          `it needs ${min / 16} MiB of memory at start, over the step's limit of ${
            maxPages / 16
          } MiB`,
        );
      }
      body.push(flags | 1, ...leb(min), ...leb(Math.min(max ?? maxPages, maxPages)));
    }
    out.push(MEMORY_SECTION, ...leb(body.length), ...body);
    at = end;
  }
  return new Uint8Array(out);
}

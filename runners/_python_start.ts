/**
 * Start-up of a Python worker's interpreter: from the memory snapshot the
 * host hands over (about 0.25 s), checked against its SHA-256 and a
 * self-test first; otherwise cold (about 1.7 s), after which the worker may
 * make a snapshot for the host to cache. The snapshot is made before any
 * step code runs.
 *
 * @module
 */

import { loadPyodide, type PyodideInterface } from "../_util/npm/pyodide.ts";
import { sha256Hex } from "../_util/cache.ts";
import { PYTHON_PRELUDE } from "./_python_prelude.ts";
import type { PythonInit, PythonReady } from "./_python_protocol.ts";

const SELF_TEST = 'R{"ok":[1,null,"é",1180591620717411303424]}';

/** Starts the worker's interpreter: from the snapshot `init` gives or points to, else cold. */
export async function startPyodide(
  init: PythonInit,
): Promise<{ py: PyodideInterface; ready: PythonReady }> {
  const options = {
    indexURL: init.indexURL,
    env: { HOME: "/home/pyodide" },
    // Start-up messages have no step to go to.
    stdout: () => {},
    stderr: () => {},
  };
  let rejected: string | undefined;
  let fromFile = false;
  if (init.snapshotFile) {
    const { path, offset, length, sha256 } = init.snapshotFile;
    try {
      const bytes = new Uint8Array(length);
      using file = await Deno.open(path);
      await file.seek(offset, Deno.SeekMode.Start);
      let filled = 0;
      while (filled < length) {
        const n = await file.read(bytes.subarray(filled));
        if (!n) throw new Error("the cache file is shorter than its header says");
        filled += n;
      }
      init = { ...init, snapshot: { bytes, sha256 }, snapshotFile: undefined };
      fromFile = true;
    } catch (error) {
      rejected = error instanceof Error ? error.message.split("\n")[0] : String(error);
    }
  }
  if (init.snapshot) {
    // The host shares one copy between workers; Pyodide and WebCrypto need
    // bytes of their own (not shared memory).
    const bytes = fromFile ? init.snapshot.bytes : init.snapshot.bytes.slice();
    const sha256 = init.snapshot.sha256;
    // The checksum is computed off this thread while the snapshot loads.
    const intact = sha256 === undefined
      ? Promise.resolve(true)
      : sha256Hex(bytes).then((actual) => actual === sha256);
    try {
      const [ok, loaded] = await Promise.all([
        intact,
        loadPyodide({ ...options, _loadSnapshot: bytes }).then(
          (py) => ({ py }),
          (error) => ({ error }),
        ),
      ]);
      if (!ok) throw new Error("its checksum does not match (corrupt file)");
      if ("error" in loaded) throw loaded.error;
      const py = loaded.py;
      const test = py.globals.get("_hwfe_self_test");
      if (typeof test !== "function" || test() !== SELF_TEST) {
        throw new Error("the restored interpreter failed its self-test");
      }
      return { py, ready: { start: "snapshot" } };
    } catch (error) {
      rejected = error instanceof Error ? error.message.split("\n")[0] : String(error);
    }
  }
  const makeSnapshot = init.makeSnapshot || rejected !== undefined;
  const py = await loadPyodide({ ...options, _makeSnapshot: makeSnapshot });
  py.runPython(PYTHON_PRELUDE);
  const snapshot = makeSnapshot ? py.makeMemorySnapshot() : undefined;
  return { py, ready: { start: "cold", rejected, snapshot } };
}

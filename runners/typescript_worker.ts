/**
 * A short-lived worker that transpiles a workflow's TypeScript steps with
 * esbuild's wasm build, then is terminated: idle, esbuild's Go runtime keeps
 * a core busy, so it must not outlive the batch. Its Deno permissions allow
 * reading esbuild.wasm only.
 *
 * @module
 */

import * as esbuild from "../_util/npm/esbuild.ts";

/** A step's TypeScript source. */
export interface TranspileRequest {
  esbuildWasm: string;
  sources: { step: string; code: string }[];
}

/** JavaScript and its source map, or a syntax error with its position. */
export type Transpiled =
  | { step: string; code: string; map: string }
  | { step: string; error: string };

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<TranspileRequest>) => void) | null;
  postMessage(message: { results: Transpiled[] } | { failed: string }): void;
};

scope.onmessage = async ({ data }) => {
  try {
    const wasmModule = await WebAssembly.compile(await Deno.readFile(data.esbuildWasm));
    await esbuild.initialize({ wasmModule, worker: false });
    const results: Transpiled[] = [];
    for (const { step, code } of data.sources) results.push(await transpile(step, code));
    scope.postMessage({ results });
  } catch (error) {
    scope.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
};

async function transpile(step: string, code: string): Promise<Transpiled> {
  try {
    const out = await esbuild.transform(code, {
      loader: "ts",
      sourcefile: "step",
      sourcemap: "external",
      target: "es2022",
    });
    return { step, code: out.code, map: out.map };
  } catch (error) {
    const first = (error as { errors?: esbuild.Message[] }).errors?.[0];
    if (!first) return { step, error: `cannot transpile: ${error}` };
    const where = first.location
      ? ` (line ${first.location.line}, column ${first.location.column + 1})`
      : "";
    return { step, error: `syntax error: ${first.text}${where}` };
  }
}

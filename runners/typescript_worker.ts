/**
 * A short-lived worker that transpiles a workflow's TypeScript steps with
 * esbuild's wasm build, then is terminated: idle, esbuild's Go runtime keeps
 * a core busy, so it must not outlive the batch. Its Deno permissions allow
 * reading esbuild.wasm only.
 *
 * @module
 */

import * as esbuild from "../_util/npm/esbuild.ts";
import { syntaxErrorText } from "./syntax.ts";

/** A step's TypeScript source. */
export interface TranspileRequest {
  esbuildWasm: string;
  sources: { step: string; code: string }[];
}

/**
 * JavaScript and its source map, or a syntax error with its position.
 * `broken`: esbuild itself failed on this source (its stack overflowed, say)
 * and cannot be trusted with another; the rest go to a fresh worker.
 */
export type Transpiled =
  | { step: string; code: string; map: string }
  | { step: string; error: string; broken?: true; syntax?: TranspileSyntax };

/** Where esbuild found a source not to parse, and why. */
export interface TranspileSyntax {
  line?: number;
  column?: number;
  message: string;
}

/** Each source's outcome as it is done, then `end`; `failed` if esbuild cannot start. */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<TranspileRequest>) => void) | null;
  postMessage(message: { result: Transpiled } | { end: true } | { failed: string }): void;
};

scope.onmessage = async ({ data }) => {
  try {
    const wasmModule = await WebAssembly.compile(await Deno.readFile(data.esbuildWasm));
    await esbuild.initialize({ wasmModule, worker: false });
    for (const { step, code } of data.sources) {
      const result = await transpile(step, code);
      scope.postMessage({ result });
      if ("broken" in result) break;
    }
    scope.postMessage({ end: true });
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
    if (!first) {
      const why = /call stack/i.test(String(error))
        ? "it is nested too deeply for esbuild"
        : String(error);
      return { step, error: `cannot transpile: ${why}`, broken: true };
    }
    const syntax: TranspileSyntax = first.location
      ? { line: first.location.line, column: first.location.column + 1, message: first.text }
      : { message: first.text };
    return { step, error: syntaxErrorText(syntax, step), syntax };
  }
}

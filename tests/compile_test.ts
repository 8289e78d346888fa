/**
 * The single binary: `deno compile` with the release script's flags must
 * embed everything a run needs. This machine cannot download the runtime
 * `deno compile` embeds, so the compile uses the deno binary itself
 * (`DENORT_BIN`) and the test reads the list of embedded files.
 */

import assert from "node:assert/strict";
import { compileArgs } from "../scripts/release.ts";
import { luaWasmPath } from "../lua/wasmoon.ts";
import { pyodideDir } from "../runners/python.ts";
import { quickjsWasmPath } from "../runners/javascript.ts";
import { esbuildWasmPath } from "../runners/typescript.ts";
import { ROOT } from "./_helpers.ts";

/** Paths in `deno compile`'s "Embedded Files" tree; a directory embedded whole ends in "/*". */
function embeddedPaths(output: string): string[] {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => line.trim() === "Embedded Files");
  assert.ok(start >= 0, `no "Embedded Files" in deno compile's output:\n${output}`);
  const paths: string[] = [];
  const stack: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const at = line.search(/[├└]/);
    if (at < 0) {
      if (paths.length) break; // the tree is over
      continue;
    }
    const depth = at / 2;
    const name = line.slice(at + 4).replace(/ \([^)]*\)$/, "");
    stack.length = depth;
    stack.push(name);
    paths.push(stack.join("/"));
  }
  return paths;
}

/** Where `deno compile` puts a file of an npm package from Deno's cache. */
function embeddedNpmPath(path: string): string {
  const at = path.indexOf("/registry.npmjs.org/");
  assert.ok(at >= 0, `${path} is not in Deno's npm cache`);
  return `.deno_compile_node_modules/localhost/${path.slice(at + "/registry.npmjs.org/".length)}`;
}

function isEmbedded(paths: Set<string>, file: string): boolean {
  if (paths.has(file)) return true;
  const parts = file.split("/");
  for (let i = 1; i < parts.length; i++) {
    if (paths.has(`${parts.slice(0, i).join("/")}/*`)) return true;
  }
  return false;
}

Deno.test("the compiled binary embeds every worker module and runtime file a run needs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(`${dir}/hwfe`),
      cwd: ROOT.pathname,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) +
      new TextDecoder().decode(output.stderr);
    assert.ok(output.success, text);
    const paths = new Set(embeddedPaths(text));

    const workers = [...Deno.readDirSync(new URL("runners/", ROOT))]
      .map((entry) => `runners/${entry.name}`)
      .filter((name) => name.endsWith("_worker.ts"));
    assert.ok(workers.length >= 5, `worker modules found: ${workers}`);
    const pyodide = pyodideDir();
    const needed = [
      "cli.ts",
      "host/child_entry.ts",
      "host/worker_entry.ts",
      ...workers,
      embeddedNpmPath(luaWasmPath()),
      embeddedNpmPath(quickjsWasmPath()),
      embeddedNpmPath(esbuildWasmPath()),
      ...["pyodide.asm.wasm", "pyodide.asm.js", "python_stdlib.zip", "pyodide-lock.json"]
        .map((file) => embeddedNpmPath(`${pyodide}${file}`)),
    ];
    const missing = needed.filter((file) => !isEmbedded(paths, file));
    assert.deepEqual(missing, [], `not embedded; deno compile listed:\n${[...paths].join("\n")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embeddedPaths() reads deno compile's tree", () => {
  const tree = `Compile cli.ts to dist/hwfe

Embedded Files

hwfe
├─┬ .deno_compile_node_modules (35.93MB - 35.74MB unique)
│ └─┬ localhost (35.93MB - 35.74MB unique)
│   ├── @bjorn3/browser_wasi_shim/* (113.14KB)
│   └─┬ @jitl (713.14KB - 673.26KB unique)
│     └── quickjs-ffi-types/* (78.45KB - 48.53KB unique)
├── cli.ts (43.63KB)
└─┬ lua (383.47KB)
  └── _io.ts (18.68KB)

Files: 36.47MB`;
  assert.deepEqual(embeddedPaths(tree), [
    ".deno_compile_node_modules",
    ".deno_compile_node_modules/localhost",
    ".deno_compile_node_modules/localhost/@bjorn3/browser_wasi_shim/*",
    ".deno_compile_node_modules/localhost/@jitl",
    ".deno_compile_node_modules/localhost/@jitl/quickjs-ffi-types/*",
    "cli.ts",
    "lua",
    "lua/_io.ts",
  ]);
});

/**
 * The library imported from a URL: the repository is served over HTTP on
 * 127.0.0.1, and a script in a directory without deno.json imports
 * `http://127.0.0.1:PORT/mod.ts` and runs a workflow in every language,
 * on a fresh Deno cache and then offline.
 */

import assert from "node:assert/strict";
import { PERMISSIONS, ROOT, SOURCE_DIRS } from "./_helpers.ts";
import { assertOffline, freshMachine, offline, runOn } from "./_fresh.ts";
import { serveRepository } from "../scripts/serve.ts";

const SCRIPT = (base: string) => `
import { defineWorkflow, runWorkflow, resultToJson } from "${base}/mod.ts";

const { workflow } = defineWorkflow({
  name: "from a URL",
  steps: {
    lua: { language: "lua", code: "function run() return 20 end" },
    js: { language: "javascript", depends_on: ["lua"], result: "json", code: "function run(i) { return i.lua + 1; }" },
    py: { language: "python", depends_on: ["js"], code: "def run(i): return i['js'] * 2" },
    ts: {
      language: "typescript",
      depends_on: ["py"],
      code: "function run(i: { py: number }): number { return i.py; }",
      result: "json",
    },
    sh: { language: "shell", depends_on: ["ts"], code: "echo \\"{\\\\\\"n\\\\\\": $(parse_input ts)}\\"" },
    wasm: { language: "wasm", code: "(module (func (export \\"run\\") (result i32) (i32.const 7)))" },
  },
});
const result = await runWorkflow(workflow, { mode: "parallel", grants: { run: true } });
console.log(resultToJson(result));
`;

for (const primed of [false, true]) {
  // A program without a configuration importing hwfe over HTTP, on an empty
  // Deno cache, or on one that a checkout's lockfile filled first (so Deno
  // holds hwfe's packages but not all of the registry's metadata about them).
  const cache = primed ? "a cache a checkout filled" : "an empty cache";
  Deno.test(`mod.ts imported over HTTP runs every language, on ${cache} and then offline`, async () => {
    const machine = await freshMachine();
    const server = serveRepository();
    try {
      if (primed) {
        const cached = await runOn(machine, Deno.execPath(), ["cache", "cli.ts"]);
        assert.equal(cached.code, 0, cached.all);
      }
      const base = `http://127.0.0.1:${server.addr.port}`;
      const dir = `${machine.root}/app`;
      await Deno.mkdir(dir);
      await Deno.writeTextFile(`${dir}/main.ts`, SCRIPT(base));
      const net = offline();
      await assertOffline(machine, net);
      for (const env of [{}, net] as Record<string, string>[]) {
        const output = await runOn(machine, Deno.execPath(), [
          "run",
          "--quiet",
          `--allow-import=127.0.0.1:${server.addr.port}`,
          // Online, fetch hwfe afresh; offline, from the cache like everything else.
          ...(env === net ? [] : [`--reload=${base}`]),
          ...PERMISSIONS,
          "--unstable-worker-options",
          "main.ts",
        ], { cwd: dir, env });
        assert.equal(output.code, 0, output.all);
        const result = JSON.parse(output.stdout);
        const results = Object.fromEntries(
          Object.entries(result.steps as Record<string, { result?: unknown; error?: string }>)
            .map(([name, step]) => [name, step.result ?? step.error]),
        );
        // The wasm result's processed_data holds a timestamp: compared without it.
        delete (results.wasm as { processed_data?: unknown }).processed_data;
        assert.deepEqual(results, {
          lua: 20,
          js: 21,
          py: 42,
          ts: 42,
          sh: { n: 42 },
          // A function without the JSON convention: its return code, as the reference engine.
          wasm: {
            wasm_execution: {
              function: "run",
              input_count: 0,
              module: "<step wasm>.wat",
              return_code: 7,
              status: "error",
            },
          },
        });
      }
    } finally {
      await server.shutdown();
      await machine.remove();
    }
  });
}

Deno.test("the source has no bare import specifiers (it must load from a URL without an import map)", async () => {
  const bare: string[] = [];
  const files = ["mod.ts", "cli.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
      else if (entry.name.endsWith(".ts")) files.push(`${dir}/${entry.name}`);
    }
  };
  for (const dir of SOURCE_DIRS) await walk(dir);
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    const statements =
      /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g;
    for (const match of text.matchAll(statements)) {
      const specifier = match[1] ?? match[2];
      if (!/^(\.\.?\/|npm:|node:|jsr:|https?:)/.test(specifier)) bare.push(`${file}: ${specifier}`);
    }
  }
  assert.deepEqual(bare, []);
  assert.ok(files.length > 30, `only ${files.length} files read`);
});

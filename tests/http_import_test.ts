/**
 * The library imported from a URL: the repository is served over HTTP on
 * 127.0.0.1, and a script in a directory without deno.json imports
 * `http://127.0.0.1:PORT/mod.ts` and runs a workflow in every language.
 */

import assert from "node:assert/strict";
import { deno, ROOT } from "./_helpers.ts";
import { serveRepository } from "../scripts/serve.ts";

const SOURCE_DIRS = ["lib", "runners"];

const SCRIPT = (base: string) => `
import { defineWorkflow, runWorkflow, resultToJson } from "${base}/mod.ts";

const { workflow } = defineWorkflow({
  name: "from a URL",
  steps: {
    lua: { language: "lua", code: "function run() return 20 end" },
    js: { language: "javascript", depends_on: ["lua"], code: "function run(i) { return i.lua + 1; }" },
    py: { language: "python", depends_on: ["js"], code: "def run(i): return i['js'] * 2" },
    ts: {
      language: "typescript",
      depends_on: ["py"],
      code: "function run(i: { py: number }): number { return i.py; }",
    },
    sh: { language: "shell", depends_on: ["ts"], code: "echo \\"{\\\\\\"n\\\\\\": $(parse_input ts)}\\"" },
    wasm: { language: "wasm", code: "(module (func (export \\"run\\") (result i32) (i32.const 7)))" },
  },
});
const result = await runWorkflow(workflow, { mode: "parallel", grants: { run: true } });
console.log(resultToJson(result));
`;

Deno.test("mod.ts imported over HTTP runs a workflow in every language", async () => {
  const server = serveRepository();
  const dir = await Deno.makeTempDir({ prefix: "hwfe-http-" });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    await Deno.writeTextFile(`${dir}/main.ts`, SCRIPT(base));
    const output = await deno([
      "run",
      "--quiet",
      `--allow-import=127.0.0.1:${server.addr.port}`,
      `--reload=${base}`,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--allow-net",
      "--unstable-worker-options",
      "main.ts",
    ], { cwd: dir });
    assert.equal(output.code, 0, output.stderr);
    const result = JSON.parse(output.stdout);
    const results = Object.fromEntries(
      Object.entries(result.steps as Record<string, { result?: unknown; error?: string }>)
        .map(([name, step]) => [name, step.result ?? step.error]),
    );
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
          status: "warning",
        },
      },
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the source has no bare import specifiers (it must load from a URL without an import map)", async () => {
  const bare: string[] = [];
  const files = ["mod.ts", "cli.ts"];
  for (const dir of SOURCE_DIRS) {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      if (entry.name.endsWith(".ts")) files.push(`${dir}/${entry.name}`);
    }
  }
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

/**
 * What a new user meets first, on a machine with nothing cached: a fresh
 * copy of the repository (the files a clone holds: tracked ones and new
 * ones not ignored, so uncommitted work is tested too), an empty Deno cache
 * and an empty hwfe cache. `deno task demo` must succeed first time; then,
 * with every network attempt made to fail, the demo and a workflow in every
 * language must succeed again from the cache, because step children never
 * download anything.
 *
 * A warm cache hides exactly this class of failure, so these tests never
 * use the suite's own caches.
 */

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";
import { assertOffline, freshMachine, offline, runOn } from "./_fresh.ts";

const decoder = new TextDecoder();

/** A workflow in every language, one JavaScript step running in a child process (a deny rule). */
const EVERY_LANGUAGE = `
workflow = { name = "offline", steps = {
  lua = { language = "lua", code = [[function run() return 20 end]] },
  py = { language = "python", depends_on = { "lua" }, code = [[
def run(inputs):
    return inputs["lua"] + 1
]] },
  js = { language = "javascript", depends_on = { "py" }, code = [[function run(i) { return i.py * 2; }]] },
  ts = { language = "typescript", depends_on = { "js" }, result = "json",
         code = [[function run(i: { js: { value: number } }): number { return i.js.value; }]] },
  sh = { language = "shell", depends_on = { "ts" }, code = [[echo "{\\"n\\": $(parse_input ts)}"]] },
  wasm = { language = "wasm", code = [[(module (func (export "run") (result i32) (i32.const 0)))]] },
  denied = { language = "javascript", permissions = { read = { "data" } },
             code = [[function run() { return hwfe.readTextFile("data/open.txt"); }]] },
} }
`;

Deno.test({
  name: "fresh machine: deno task demo succeeds first time, then offline from the cache, " +
    "as does a workflow in every language",
  async fn() {
    const machine = await freshMachine();
    const deno = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
      runOn(machine, Deno.execPath(), args, options);
    try {
      const first = await deno(["task", "demo"]);
      assert.equal(first.code, 0, first.all);
      assert.match(first.all, /Workflow 'parallel_demo' succeeded/);

      const net = offline();
      await assertOffline(machine, net);
      const again = await deno(["task", "demo"], { env: net });
      assert.equal(again.code, 0, again.all);
      assert.match(again.all, /Workflow 'parallel_demo' succeeded/);

      // `deno task hwfe` from a folder below the checkout: paths are that folder's.
      const work = `${machine.repo}/work`;
      await Deno.mkdir(`${work}/data/secret`, { recursive: true });
      await Deno.writeTextFile(`${work}/data/open.txt`, "open");
      await Deno.writeTextFile(`${work}/offline.lua`, EVERY_LANGUAGE);
      const every = await deno([
        "task",
        "hwfe",
        "run",
        "--json",
        "--allow-run",
        "--allow-read=data",
        "--deny-read=data/secret",
        "--mode",
        "parallel",
        "offline.lua",
      ], { cwd: work, env: net });
      assert.equal(every.code, 0, every.all);
      const steps = JSON.parse(every.stdout).steps as Record<string, { result: unknown }>;
      // The wasm result's processed_data holds a timestamp: compared without it.
      delete (steps.wasm.result as { processed_data?: unknown }).processed_data;
      assert.deepEqual(
        Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, step.result])),
        {
          lua: 20,
          py: 21,
          js: { value: 42 },
          ts: 42,
          sh: { n: 42 },
          wasm: {
            wasm_execution: {
              function: "run",
              input_count: 0,
              module: "<step wasm>.wat",
              return_code: 0,
              status: "success",
            },
          },
          denied: { value: "open" },
        },
      );
    } finally {
      await machine.remove();
    }
  },
});

Deno.test("a step child whose Deno cache lacks a package says what is missing and how to fill it", async () => {
  // A copy of this Deno cache without one package that a Python child
  // loads (hard links: no space, and the suite's cache stays as it was).
  // The program moves DENO_DIR there after it has loaded: its step
  // children then look there, miss the package, and must not download it.
  const dir = await Deno.makeTempDir({ prefix: "hwfe-lacking-cache-" });
  try {
    const copy = `${dir}/deno`;
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { defineWorkflow, runWorkflow } from "${new URL("mod.ts", ROOT).href}";
Deno.env.set("DENO_DIR", ${JSON.stringify(copy)});
const { workflow } = defineWorkflow({ steps: { py: { language: "python", code: "def run(): return 1" } } });
const [step] = (await runWorkflow(workflow, { cacheDir: false })).steps;
console.log(step.error);
`,
    );
    // The program's packages (and the registry data it resolves them with)
    // in this Deno cache first, so that it can then start offline.
    const deno = (args: string[]) =>
      new Deno.Command(Deno.execPath(), { args, cwd: dir, stdout: "piped", stderr: "piped" })
        .output();
    const cached = await deno(["cache", "main.ts"]);
    assert.ok(cached.success, decoder.decode(cached.stderr));
    const info = await deno(["info", "--json"]);
    const denoDir = JSON.parse(decoder.decode(info.stdout)).denoDir as string;
    await Deno.mkdir(copy);
    const linked = await new Deno.Command("cp", { args: ["-al", `${denoDir}/npm`, copy] }).output();
    assert.ok(linked.success, "cp -al failed");
    let removed = 0;
    for await (const registry of Deno.readDir(`${copy}/npm`)) {
      const ws = `${copy}/npm/${registry.name}/ws`;
      await Deno.remove(ws, { recursive: true }).then(() => removed++, () => {});
    }
    assert.equal(removed, 1, `no ws package in ${denoDir}/npm`);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-all", "--unstable-worker-options", "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1", ...offline() },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = decoder.decode(output.stdout);
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    assert.match(
      stdout,
      new RegExp(
        `^step 'py' \\(python\\): the python runtime could not start: the npm package 'ws' ` +
          `is not in Deno's cache \\(DENO_DIR=${copy}\\)\\. hwfe's step processes never ` +
          `download anything: .* Fill the cache \\(and the lockfile\\) with network access: ` +
          `DENO_DIR=${copy} deno cache ${dir}/main\\.ts\\n$`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

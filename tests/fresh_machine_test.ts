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
import { dirname } from "node:path";
import { ROOT } from "./_helpers.ts";

const decoder = new TextDecoder();

/** Copies the files a clone of the repository would hold into `dir`. */
async function copyRepository(dir: string): Promise<void> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT.pathname,
    stdout: "piped",
  }).output();
  assert.ok(listed.success, "git ls-files failed: the tests run from a git checkout");
  const files = decoder.decode(listed.stdout).split("\0").filter((f) => f);
  for (const file of files) {
    try {
      await Deno.mkdir(`${dir}/${dirname(file)}`, { recursive: true });
      await Deno.copyFile(new URL(file, ROOT), `${dir}/${file}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not yet committed
    }
  }
}

/** A loopback port with nothing listening on it: connections to it are refused. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

interface Machine {
  root: string;
  env: Record<string, string>;
}

/** A fresh machine: a copy of the repository, and empty Deno, hwfe and user caches. */
async function freshMachine(): Promise<Machine> {
  const root = await Deno.makeTempDir({ prefix: "hwfe-fresh-" });
  await copyRepository(`${root}/hwfe`);
  return {
    root,
    env: {
      NO_COLOR: "1",
      DENO_DIR: `${root}/deno`,
      HWFE_CACHE_DIR: `${root}/hwfe-cache`,
      XDG_CACHE_HOME: `${root}/xdg-cache`,
      HWFE_DATA_DIR: `${root}/hwfe-data`,
    },
  };
}

/** The variables that send every network attempt of Deno to a closed port. */
function offline(): Record<string, string> {
  const proxy = `http://127.0.0.1:${closedPort()}`;
  return {
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    NO_PROXY: "",
    no_proxy: "",
  };
}

async function run(machine: Machine, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: `${machine.root}/hwfe`,
    env: { ...machine.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  return { code: output.code, stdout, stderr, all: `${stdout}\n${stderr}` };
}

/** A workflow in every language, one JavaScript step running in a child process (a deny rule). */
const EVERY_LANGUAGE = `
workflow = { name = "offline", steps = {
  lua = { language = "lua", code = [[function run() return 20 end]] },
  py = { language = "python", depends_on = { "lua" }, code = [[
def run(inputs):
    return inputs["lua"] + 1
]] },
  js = { language = "javascript", depends_on = { "py" }, code = [[function run(i) { return i.py * 2; }]] },
  ts = { language = "typescript", depends_on = { "js" },
         code = [[function run(i: { js: number }): number { return i.js; }]] },
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
    try {
      const first = await run(machine, ["task", "demo"]);
      assert.equal(first.code, 0, first.all);
      assert.match(first.all, /Workflow 'parallel_demo' succeeded/);

      // The control: with these variables, Deno itself cannot reach anything.
      const net = offline();
      const control = await run(machine, [
        "eval",
        "await fetch('http://example.com/')",
      ], net);
      assert.notEqual(control.code, 0, `a fetch got through the closed proxy:\n${control.all}`);

      const again = await run(machine, ["task", "demo"], net);
      assert.equal(again.code, 0, again.all);
      assert.match(again.all, /Workflow 'parallel_demo' succeeded/);

      const hwfe = `${machine.root}/hwfe`;
      await Deno.mkdir(`${hwfe}/data/secret`, { recursive: true });
      await Deno.writeTextFile(`${hwfe}/data/open.txt`, "open");
      await Deno.writeTextFile(`${hwfe}/offline.lua`, EVERY_LANGUAGE);
      const every = await run(machine, [
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
      ], net);
      assert.equal(every.code, 0, every.all);
      const steps = JSON.parse(every.stdout).steps as Record<string, { result: unknown }>;
      assert.deepEqual(
        Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, step.result])),
        {
          lua: 20,
          py: 21,
          js: 42,
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
          denied: "open",
        },
      );
    } finally {
      await Deno.remove(machine.root, { recursive: true });
    }
  },
});

Deno.test("a step child whose Deno cache lacks a package says what is missing and how to fill it", async () => {
  // The program moves DENO_DIR to an empty folder after it has loaded: its
  // step children then look there, find nothing, and must not download.
  const dir = await Deno.makeTempDir({ prefix: "hwfe-empty-cache-" });
  try {
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { defineWorkflow, runWorkflow } from "${new URL("mod.ts", ROOT).href}";
Deno.env.set("DENO_DIR", ${JSON.stringify(`${dir}/empty`)});
const { workflow } = defineWorkflow({ steps: { py: { language: "python", code: "def run(): return 1" } } });
const [step] = (await runWorkflow(workflow, { cacheDir: false })).steps;
console.log(step.error);
`,
    );
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
        `^step 'py' \\(python\\): the python runtime could not start: the npm package '[^']+' ` +
          `is not in Deno's cache \\(DENO_DIR=${dir}/empty\\)\\. hwfe's step processes never ` +
          `download anything: .* Fill the cache \\(and the lockfile\\) with network access: ` +
          `DENO_DIR=${dir}/empty deno cache ${dir}/main\\.ts\\n$`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Bad input end to end through the real CLI: every one gets a clear
 * message and exit 2 (or a failed step), never a stack trace, a hang or
 * the content of a file hwfe was not meant to read. A wasm step's module
 * outside the workflow's directory and the step's grants, a FIFO or a
 * device as a module or a configuration, a configuration that contains
 * itself, limits out of range, a 100,000-step cycle, bad names, nesting
 * deeper than 500 levels, and paths whose file is followed by a `/`.
 */

import assert from "node:assert/strict";
import { runLuaChunk } from "../lua/sandbox.ts";
import { CLI, type CliResult, hwfe, PERMISSIONS, runJson, SUITE_CACHE } from "./_helpers.ts";

/** A bound on a run that would hang without the checks, so the test fails instead. */
const BOUND_MS = 30_000;

/** `hwfe <args>`, killed after BOUND_MS. */
async function bounded(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--unstable-worker-options", ...PERMISSIONS, CLI, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", HWFE_CACHE_DIR: SUITE_CACHE, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(BOUND_MS),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A temporary directory, removed after `fn`. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-inputs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function mkfifo(path: string): Promise<void> {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(made.success, `mkfifo ${path}`);
}

/** Exit 2, an `error:` line matching `pattern`, and no stack trace. */
function refused(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
}

/** A workflow with one wasm step; `extra` is more Lua fields. */
function wasmFlow(module: string, extra = ""): string {
  return `workflow = { name = "w", steps = { s = { language = "wasm", module = ${
    JSON.stringify(module)
  }${extra} } } }\n`;
}

/** The 8 bytes of an empty WebAssembly 1 module. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

Deno.test("wasm module outside the workflow's directory: refused by validate and run, its bytes never shown", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/flow`);
    await Deno.mkdir(`${dir}/private`);
    const secret = `${dir}/private/secret.wasm`;
    await Deno.writeTextFile(secret, "root:SECRET-CONTENT\n");
    await Deno.symlink(secret, `${dir}/flow/link.wasm`);
    for (
      const [module, why] of [
        [secret, /module '.*secret\.wasm' lies outside the workflow's directory \(.*flow\)/],
        ["../private/secret.wasm", /module '\.\.\/private\/secret\.wasm' lies outside/],
        ["link.wasm", /module 'link\.wasm' \(.*\) leads through a symbolic link to .*secret\.wasm/],
      ] as const
    ) {
      const file = `${dir}/flow/w.lua`;
      await Deno.writeTextFile(file, wasmFlow(module));
      refused(await hwfe(["validate", file]), why);
      const run = await hwfe(["run", file]);
      refused(run, why);
      // The file's first bytes, in text or as V8 quotes them ("found 72 6f 6f 74").
      assert.doesNotMatch(run.stderr + run.stdout, /SECRET|root:|72 6f 6f 74/);
    }
  });
});

Deno.test("wasm module /dev/zero, a FIFO or a directory: refused by validate and run, at once", async () => {
  await inTempDir(async (dir) => {
    await mkfifo(`${dir}/fifo.wasm`);
    await Deno.mkdir(`${dir}/dir.wasm`);
    const cases = [
      // Granted and declared, so the only objection left is what it is.
      [
        "/dev/zero",
        `, permissions = { read = { "/dev/zero" } }`,
        /module '\/dev\/zero' \(\/dev\/zero\) is a character device, not a regular file/,
      ],
      ["fifo.wasm", "", /module 'fifo\.wasm' \(.*\) is a FIFO, not a regular file/],
      ["dir.wasm", "", /module 'dir\.wasm' \(.*\) is a directory, not a regular file/],
    ] as const;
    for (const [module, extra, why] of cases) {
      const file = `${dir}/w.lua`;
      await Deno.writeTextFile(file, wasmFlow(module, `${extra}, timeout = 2`));
      // validate first: without the checks, run would read /dev/zero until memory ran out.
      refused(await bounded(["validate", file]), why);
      refused(await bounded(["run", "--allow-read=/dev/zero", file]), why);
    }
    // Not granted, /dev/zero is outside the workflow's directory: never looked at.
    await Deno.writeTextFile(`${dir}/w.lua`, wasmFlow("/dev/zero", ", timeout = 2"));
    refused(await bounded(["validate", `${dir}/w.lua`]), /module '\/dev\/zero' lies outside/);
  });
});

Deno.test("wasm module larger than execution.max_module_mb: refused, and the cap is configurable", async () => {
  await inTempDir(async (dir) => {
    const module = new Uint8Array(1024 * 1024 + 1);
    module.set(EMPTY_MODULE);
    await Deno.writeFile(`${dir}/big.wasm`, module);
    await Deno.writeTextFile(`${dir}/w.lua`, wasmFlow("big.wasm"));
    const env = { HWFE_MAX_MODULE_MB: "1" };
    const why =
      /module 'big\.wasm' \(.*\) holds 1048577 bytes, more than the 1 MiB a module may \(raise execution\.max_module_mb or HWFE_MAX_MODULE_MB, up to 1024\)/;
    refused(await hwfe(["validate", `${dir}/w.lua`], { env }), why);
    refused(await hwfe(["run", `${dir}/w.lua`], { env }), why);
    // Under the default 256 MiB it is read, and fails only for what it is.
    const run = await hwfe(["run", "--json", `${dir}/w.lua`]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(runJson(run).steps.s.error!, /is not a valid WebAssembly module/);
    refused(
      await hwfe(["config"], { env: { HWFE_MAX_MODULE_MB: "2048" } }),
      /HWFE_MAX_MODULE_MB must be a whole number of MiB from 1 to 1024, got "2048"/,
    );
  });
});

Deno.test("wasm module inside a grant but denied by --deny-read is not read", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/mods`);
    await Deno.writeFile(`${dir}/mods/m.wasm`, EMPTY_MODULE);
    const flows = await Deno.makeTempDir({ dir, prefix: "flow-" });
    await Deno.writeTextFile(
      `${flows}/w.lua`,
      wasmFlow("mods/m.wasm", `, permissions = { read = { "mods" } }`),
    );
    const run = await hwfe(
      ["run", "--json", "--allow-read=mods", "--deny-read=mods/m.wasm", `${flows}/w.lua`],
      { cwd: dir },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      runJson(run).steps.s.error!,
      /module 'mods\/m\.wasm' not found \(looked for .*\/flow-\w+\/mods\/m\.wasm\); .*\/mods\/m\.wasm is denied by the run's deny-read rules/,
    );
  });
});

Deno.test("config.yaml with a self-referencing alias: a clear error and exit 2 for config and run", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/config.yaml`, "execution: &a\n  mode: *a\n");
    const why =
      /error: config\.yaml: execution\.mode must be "sequential" or "parallel", got a table/;
    refused(await hwfe(["config"], { cwd: dir }), why);
    refused(await hwfe(["run", "nothing.lua"], { cwd: dir }), why);
  });
});

Deno.test("a configuration that is a FIFO or /dev/zero: refused without reading it", async () => {
  await inTempDir(async (dir) => {
    await mkfifo(`${dir}/config.toml`);
    refused(
      await bounded(["config"], { cwd: dir }),
      /error: config\.toml: cannot read configuration: it is a FIFO; give a regular file/,
    );
    refused(
      await bounded(["config", "--config", "/dev/zero"], { cwd: dir }),
      /error: \/dev\/zero: cannot read configuration: it is a character device/,
    );
  });
});

Deno.test("limits out of range: each names the setting, its source and the range", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/config.toml`, "[execution]\nmax_parallel_steps = 1e308\n");
    refused(
      await hwfe(["config"], { cwd: dir }),
      /error: config\.toml: execution\.max_parallel_steps must be a whole number from 0 to 1024 \(0 = number of CPUs\), got 1e\+308/,
    );
    refused(
      await hwfe(["config"], { env: { HWFE_MAX_PARALLEL_STEPS: "999999999999999999999" } }),
      /error: HWFE_MAX_PARALLEL_STEPS="999999999999999999999" is not a whole number from 0 to 1024/,
    );
    const flow = `${dir}/w.lua`;
    await Deno.writeTextFile(
      flow,
      `workflow = { name = "w", steps = { a = { code = "function run() return 1 end" } } }\n`,
    );
    const flags: [string[], RegExp][] = [
      [
        ["-j", "99999999999999999999"],
        /-j\/--max-parallel "99999999999999999999" is not a whole number from 0 to 1024/,
      ],
      [["--step-memory", "99999999"], /"99999999" is not a positive number of MiB, at most 4096/],
      [["--step-timeout", "1e10"], /"1e10" is not a positive number of seconds, at most 604800/],
      [["--max-result-mb", "1e6"], /"1e6" is not a positive number of MiB, at most 255/],
      [["--max-output-mb", "1e6"], /"1e6" is not a positive number of MiB, at most 512/],
    ];
    for (const [args, why] of flags) {
      const result = await hwfe(["run", ...args, flow]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, why);
      assert.doesNotMatch(result.stdout, /succeeded/);
    }
    await Deno.writeTextFile(
      flow,
      `workflow = { name = "w", steps = { a = { timeout = 1e10, code = "function run() end" } } }\n`,
    );
    refused(
      await hwfe(["validate", flow]),
      /step 'a': timeout must be a positive number of seconds, at most 604800 \(7 days\), got 10000000000/,
    );
  });
});

Deno.test("a 100,000-step cycle names its first 20 steps and its length on one short line", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/cycle.lua`,
      `local steps, n = {}, 100000
for i = 1, n do
  steps[string.format("s%06d", i)] = { code = "function run() end",
    depends_on = { string.format("s%06d", i % n + 1) } }
end
workflow = { name = "cycle", steps = steps }
`,
    );
    const result = await hwfe(["validate", `${dir}/cycle.lua`]);
    const first = Array.from({ length: 20 }, (_, i) => `s${String(i + 1).padStart(6, "0")}`);
    refused(
      result,
      new RegExp(
        `Circular dependency detected involving step 's000001': ${
          first.join(" -> ")
        } -> \\.\\.\\. ` +
          `\\(a cycle of 100000 steps; the first 20 shown\\)`,
      ),
    );
    assert.ok(result.stderr.length < 2000, `${result.stderr.length} characters`);
  });
});

Deno.test("empty step names and control characters in names are refused at load, shown escaped", async () => {
  await inTempDir(async (dir) => {
    const file = `${dir}/names.lua`;
    await Deno.writeTextFile(
      file,
      `workflow = { name = "x\\27]0;PWNED\\7", steps = {
  ["a\\27[31m"] = { code = "function run() return 1 end" },
  [""] = { code = "function run() return 1 end" },
  b = { code = "function run() return 1 end", depends_on = { "\\194\\155c" } },
} }
`,
    );
    for (const command of ["validate", "run"]) {
      const result = await hwfe([command, file]);
      refused(result, /workflow\.name 'x\\x1b\]0;PWNED\\x07' contains control characters/);
      assert.match(result.stderr, /a step has an empty name/);
      assert.match(result.stderr, /step name 'a\\x1b\[31m' contains control characters/);
      assert.match(result.stderr, /step 'b': depends_on\[1\] '\\x9bc' contains control characters/);
      assert.doesNotMatch(result.stderr, /\p{Cc}(?<!\n)/u);
    }
  });
});

Deno.test("nesting deeper than 500 levels: workflow tables and Lua results name the path, other results are refused", async () => {
  await inTempDir(async (dir) => {
    const deep = `local t = {}
local cur = t
for i = 1, 200000 do cur.a = {}; cur = cur.a end`;
    await Deno.writeTextFile(
      `${dir}/table.lua`,
      `${deep}\nworkflow = { name = "t", steps = { s = { code = "function run() end", extra = t } } }\n`,
    );
    const table = await hwfe(["validate", `${dir}/table.lua`]);
    refused(
      table,
      /the workflow table contains a table nested deeper than 500 levels at workflow\.steps\.s\.extra\.a\.a\.[a.]*\.\.\.$/m,
    );
    await Deno.writeTextFile(
      `${dir}/steps.lua`,
      `workflow = { name = "n", steps = {
  result = { code = [[
function run()
  ${deep.replaceAll("\n", "\n  ")}
  return t
end]] },
  edge = { code = [[
function run()
  local t = {}
  local cur = t
  for i = 1, 499 do cur.a = {}; cur = cur.a end
  return t
end]] },
  sh = { language = "shell", result = "json", code = [[s=$(printf '%*s' 501 ''); echo "\${s// /[}\${s// /]}"]] },
} }
`,
    );
    const run = await hwfe(["run", "--json", "--keep-going", "--allow-run", `${dir}/steps.lua`]);
    assert.equal(run.code, 1, run.stderr);
    const steps = runJson(run).steps;
    assert.match(
      steps.result.error!,
      /^step 'result' returned a table nested deeper than 500 levels at result\.a\.a\.[a.]*\.\.\.$/,
    );
    assert.equal(steps.edge.status, "succeeded");
    // A step in any language: the engine refuses what it could not print.
    assert.equal(
      steps.sh.error,
      "step 'sh' (shell) returned a value nested more than 500 levels deep",
    );
    for (const text of [table.stderr, run.stdout, run.stderr]) {
      assert.doesNotMatch(text, /stack overflow|\[string|prelude|internal error/);
    }
  });
});

Deno.test("Lua inputs nested deeper than 500 levels fail the step naming the path, as results do", async () => {
  const depth = 501;
  const outcome = await runLuaChunk(
    {
      mode: "step",
      chunkName: "=[step s]",
      code: "function run(inputs) return 1 end",
      inputs: `{"up":${"[".repeat(depth)}${"]".repeat(depth)}}`,
    },
    { interrupted: () => false, output: () => {} },
  );
  assert.equal(outcome.kind, "runtime_error", JSON.stringify(outcome).slice(0, 300));
  assert.match(
    (outcome as { message: string }).message,
    /^inputs nested deeper than 500 levels at inputs\.up\[1\]\[1\][[\]1]*\.\.\.$/,
  );
});

Deno.test("a path ending in / that names a file: Lua and WASI fail as POSIX does (ENOTDIR, EISDIR)", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/data`);
    await Deno.writeTextFile(`${dir}/data/in.csv`, "a,1\n");
    const granted = `permissions = { read = { "data" }, write = { "data" } }`;
    // Prints the WASI errno of each call: 00 success, 54 ENOTDIR, 31 EISDIR.
    const wat = `(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "in.csv/")
  (data (i32.const 120) "in.csv/.")
  (data (i32.const 140) "in.csv/../in.csv")
  (data (i32.const 160) "new.txt/")
  (func $num (param $n i32)
    (i32.store8 (i32.const 60) (i32.add (i32.const 48) (i32.div_u (local.get $n) (i32.const 10))))
    (i32.store8 (i32.const 61) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
    (i32.store8 (i32.const 62) (i32.const 32))
    (i32.store (i32.const 8) (i32.const 60))
    (i32.store (i32.const 12) (i32.const 3))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20))))
  (func (export "_start")
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 100) (i32.const 6)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 100) (i32.const 7)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 120) (i32.const 8)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 140) (i32.const 16)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $open (i32.const 4) (i32.const 1) (i32.const 160) (i32.const 8)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (call $stat (i32.const 4) (i32.const 1) (i32.const 100) (i32.const 7)
      (i32.const 300)))))`;
    await Deno.writeTextFile(
      `${dir}/slash.lua`,
      `workflow = { name = "slash", steps = {
  lua = { ${granted}, code = [[
local function try(path, mode)
  local f, message, errno = io.open(path, mode)
  if f then f:close() return "opened" end
  return message .. " (" .. errno .. ")"
end
function run()
  local removed, message = os.remove("data/in.csv/")
  return {
    plain = try("data/in.csv"),
    slash = try("data/in.csv/"),
    dot = try("data/in.csv/."),
    dotdot = try("data/in.csv/../in.csv"),
    write = try("data/new.txt/", "w"),
    remove = message,
  }
end]] },
  wasi = { language = "wasm", ${granted}, code = [==[${wat}]==] },
} }
`,
    );
    const run = await hwfe(
      ["run", "--json", "--allow-read=data", "--allow-write=data", "slash.lua"],
      { cwd: dir },
    );
    assert.equal(run.code, 0, run.stderr);
    const steps = runJson(run).steps;
    assert.deepEqual(steps.lua.result, {
      plain: "opened",
      slash: "data/in.csv/: Not a directory (20)",
      dot: "data/in.csv/.: Not a directory (20)",
      dotdot: "data/in.csv/../in.csv: Not a directory (20)",
      write: "data/new.txt/: Is a directory (21)",
      remove: "data/in.csv/: Not a directory",
    });
    assert.equal((steps.wasi.result as { stdout: string }).stdout, "00 54 54 54 31 54");
    assert.deepEqual([...Deno.readDirSync(`${dir}/data`)].map((e) => e.name), ["in.csv"]);
  });
});

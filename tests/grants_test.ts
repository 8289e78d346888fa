/**
 * Grants end to end. Environment variables today: a step gets the ones it
 * declares (`permissions = { env = {...} }`) and the run grants
 * (`--allow-env[=VARS]`, `--deny-env` wins), in every language, and
 * nothing else. Other kinds of grant are refused clearly until they exist.
 */

import assert from "node:assert/strict";
import { hwfe, runJson } from "./_helpers.ts";

async function workflowFile(name: string, lua: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-grants-" });
  const file = `${dir}/${name}.lua`;
  await Deno.writeTextFile(file, lua);
  return file;
}

const WASI_ENV = `(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (drop (call $get (i32.const 16) (i32.const 1024)))
    (i32.store (i32.const 8) (i32.const 1024))
    (i32.store (i32.const 12) (i32.load (i32.const 4)))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))))`;

const STEPS = `
  lua = { language = "lua", permissions = { env = { "HWFE_GRANTED" } },
          code = "function run() return { token = os.getenv('HWFE_GRANTED'), other = os.getenv('HWFE_OTHER') } end" },
  python = { language = "python", permissions = { env = { "HWFE_GRANTED" } },
             code = "import os\\ndef run():\\n    return [os.environ.get('HWFE_GRANTED'), os.environ.get('HWFE_OTHER')]\\n" },
  python_later = { language = "python", depends_on = { "python" },
                   code = "import os\\ndef run(inputs):\\n    return os.environ.get('HWFE_GRANTED')\\n" },
  javascript = { language = "javascript", permissions = { env = { "HWFE_GRANTED" } },
                 code = "function run() { return { env: hwfe.env, frozen: Object.isFrozen(hwfe.env) }; }" },
  typescript = { language = "typescript", permissions = { env = { "HWFE_GRANTED" } },
                 code = "declare const hwfe: { env: Record<string, string> };\\nfunction run(): string { return hwfe.env.HWFE_GRANTED; }" },
  wasi = { language = "wasm", permissions = { env = { "HWFE_GRANTED" } }, code = [==[${WASI_ENV}]==] },
  undeclared = { language = "lua", code = "function run() return os.getenv('HWFE_GRANTED') end" },
`;

// Names without TOKEN, KEY and the like: their values are not masked (secrets_test.ts).
const ENV = { HWFE_GRANTED: "s3cret-token", HWFE_OTHER: "not-granted" };

Deno.test("--allow-env: each language sees exactly the variables it declared and the run granted", async () => {
  const file = await workflowFile("env", `workflow = { name = "env", steps = {${STEPS}} }\n`);
  const result = await hwfe(["run", "--json", "--allow-env=HWFE_GRANTED,HWFE_OTHER", file], {
    env: ENV,
  });
  assert.equal(result.code, 0, result.stderr);
  const s = runJson(result).steps;
  assert.deepEqual(
    s.lua.result,
    { token: "s3cret-token" },
    "HWFE_OTHER was granted but not declared",
  );
  assert.deepEqual(s.python.result, ["s3cret-token", null]);
  assert.equal(s.python_later.result, null, "a granted variable does not outlive its step");
  assert.deepEqual(s.javascript.result, { env: { HWFE_GRANTED: "s3cret-token" }, frozen: true });
  assert.deepEqual(s.typescript.result, { value: "s3cret-token" });
  assert.deepEqual(
    (s.wasi.result as { stdout: string }).stdout.split("\u0000").filter((x) => x),
    ["HWFE_GRANTED=s3cret-token"],
  );
  assert.equal(s.undeclared.result, null);
});

Deno.test("without the grant the run is refused before anything starts, with the flag to add", async () => {
  const file = await workflowFile("env", `workflow = { name = "env", steps = {${STEPS}} }\n`);
  const result = await hwfe(["run", file], { env: ENV });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /step '\w+' needs the environment variable HWFE_GRANTED; rerun as: hwfe run --allow-env=HWFE_GRANTED /,
  );
  assert.doesNotMatch(result.stdout, /started/);
  assert.doesNotMatch(result.stdout + result.stderr, /s3cret/);
});

Deno.test("--deny-env wins over --allow-env", async () => {
  const file = await workflowFile("env", `workflow = { name = "env", steps = {${STEPS}} }\n`);
  const result = await hwfe(["run", "--allow-env", "--deny-env=HWFE_GRANTED", file], { env: ENV });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /the environment variable HWFE_GRANTED \(needed by steps 'javascript', 'lua', 'python', 'typescript', 'wasi'\) is denied by --deny-env/,
  );
  assert.doesNotMatch(result.stderr, /rerun as/);
});

Deno.test("permissions: bad kinds, names, paths and hosts are refused clearly", async () => {
  const file = await workflowFile(
    "bad",
    `workflow = { name = "bad", steps = {
  a = { language = "python", code = "def run(): return 1", permissions = { run = true, net = { "https://api.example.com/v1" }, read = { "a,b", 3 } } },
  b = { language = "lua", code = "x = 1", permissions = { env = { "NOT-A-NAME" } } },
  c = { language = "lua", code = "x = 1", permissions = { evn = { "HOME" } } },
  d = { language = "lua", code = "x = 1", permissions = "all" },
} }\n`,
  );
  const result = await hwfe(["validate", file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /step 'a': permissions\.run is not a step permission: shell steps/);
  assert.match(
    result.stderr,
    /step 'a': permissions\.net: 'https:\/\/api\.example\.com\/v1' is not a host; write the host alone: 'api\.example\.com'/,
  );
  assert.match(
    result.stderr,
    /step 'a': permissions\.read: 'a,b': a path with a comma cannot be granted/,
  );
  assert.match(result.stderr, /step 'a': permissions\.read: a number is not a string/);
  assert.match(
    result.stderr,
    /step 'b': permissions\.env: 'NOT-A-NAME' is not an environment variable name/,
  );
  assert.match(
    result.stderr,
    /step 'c': unknown permission 'evn' \(did you mean 'env'\?\); known: env, read, write, net/,
  );
  assert.match(
    result.stderr,
    /step 'd': permissions must be a table such as \{ read = \{ "data\/" \}, net = \{ "api\.example\.com" \}, env = \{ "API_TOKEN" \} \}, got a string/,
  );
});

/** The variables a step child's Deno is given, which step code must never see. */
const DENO_VARIABLES = [
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "DENO_TLS_CA_STORE",
  "HOME",
  "PATH",
];

Deno.test("the variables step children get for Deno (proxy, certificates, cache) stay out of every language's reach", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-grants-" });
  await Deno.mkdir(`${dir}/data/secret`, { recursive: true });
  const names = JSON.stringify(DENO_VARIABLES);
  const lua = `function run() local t = {} for _, n in ipairs({${
    DENO_VARIABLES.map((n) => `"${n}"`).join(", ")
  }}) do t[#t + 1] = os.getenv(n) or false end return t end`;
  const js = `function run() { return ${names}.map((n) => hwfe.env[n] ?? false); }`;
  const file = await workflowFile(
    "deno_env",
    `workflow = { name = "deno_env", steps = {
  lua = { language = "lua", code = [=[${lua}]=] },
  python = { language = "python", code = [=[
import os
def run():
    return [os.environ.get(n, False) for n in ${names}]
]=] },
  javascript = { language = "javascript", code = [=[${js}]=] },
  javascript_child = { language = "javascript", permissions = { read = { "${dir}/data" } },
                       code = [=[${js}]=] },
  typescript = { language = "typescript", code = [=[${js}]=] },
  wasi = { language = "wasm", code = [==[${WASI_ENV}]==] },
} }\n`,
  );
  const proxy = "http://127.0.0.1:9";
  const env = {
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    NO_PROXY: "127.0.0.1,localhost,hwfe-canary.invalid",
    DENO_TLS_CA_STORE: "mozilla",
  };
  const result = await hwfe([
    "run",
    "--json",
    `--allow-read=${dir}/data`,
    `--deny-read=${dir}/data/secret`,
    file,
  ], { env });
  assert.equal(result.code, 0, result.stderr);
  const hostValues = new Set(
    DENO_VARIABLES.map((name) => Deno.env.get(name) ?? "").concat(Object.values(env)),
  );
  const s = runJson(result).steps;
  for (const step of ["lua", "python", "javascript", "javascript_child", "typescript"]) {
    const seen = s[step].result as (string | false)[];
    assert.equal(seen.length, DENO_VARIABLES.length, step);
    // Pyodide has HOME and PATH of its own; none is the host's.
    for (const value of seen) {
      assert.ok(value === false || !hostValues.has(value), `${step}: ${value}`);
    }
  }
  assert.equal((s.wasi.result as { stdout: string }).stdout, "");
});

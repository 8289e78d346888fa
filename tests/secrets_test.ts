/**
 * Secrets are masked end to end (engine/mask.ts): in every language, a
 * step granted API_TOKEN that prints it (whole, split across two writes,
 * as a last line without a newline), fails with it in its error, or
 * returns it, shows `***` instead in the terminal, `--json`, the HTML
 * report and the history; a dependent step still gets the real value.
 */

import assert from "node:assert/strict";
import { hwfe, runJson, type TestStep, writeWorkflow } from "./_helpers.ts";

const SECRET = "s3cr3t-value-123";
const REVERSED = [...SECRET].reverse().join("");

/** Writes `API_TOKEN=<value>` from WASI's environment to `fd` in two writes, then a newline. */
const wasiPrint = (fd: number, exit: boolean) =>
  `(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 900) "\\n")
  (func $out (param $at i32) (param $len i32)
    (i32.store (i32.const 8) (local.get $at))
    (i32.store (i32.const 12) (local.get $len))
    (drop (call $write (i32.const ${fd}) (i32.const 8) (i32.const 1) (i32.const 0))))
  (func (export "_start")
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (drop (call $get (i32.const 16) (i32.const 1024)))
    (call $out (i32.const 1024) (i32.const 14))
    (call $out (i32.const 1038) (i32.sub (i32.load (i32.const 4)) (i32.const 15)))
    (call $out (i32.const 900) (i32.const 1))
    ${exit ? "(call $exit (i32.const 3))" : ""}))`;

const env = { env: ["API_TOKEN"] };

/**
 * Per language: `<lang>_print` prints the token whole, split across two
 * writes and (but JavaScript and TypeScript, whose console.log always ends
 * a line) as a last line without a newline, and returns it; `<lang>_fail`
 * fails with it in its error.
 */
const STEPS: Record<string, TestStep> = {
  lua_print: {
    language: "lua",
    permissions: env,
    code: `function run()
  local t = os.getenv("API_TOKEN")
  print("whole " .. t)
  io.write("split " .. t:sub(1, 5)) io.write(t:sub(6) .. " end\\n")
  io.write("last " .. t:sub(1, 3)) io.write(t:sub(4))
  return { token = t }
end`,
  },
  lua_fail: {
    language: "lua",
    permissions: env,
    continue_on_error: true,
    code: `function run() error("refused with " .. os.getenv("API_TOKEN")) end`,
  },
  python_print: {
    language: "python",
    permissions: env,
    code: `import os, sys
def run():
    t = os.environ["API_TOKEN"]
    print("whole " + t)
    sys.stdout.write("split " + t[:5]); sys.stdout.write(t[5:] + " end\\n")
    print("last " + t[:3], end=""); sys.stdout.write(t[3:])
    return {"token": t}
`,
  },
  python_fail: {
    language: "python",
    permissions: env,
    continue_on_error: true,
    code: `import os
def run():
    raise ValueError("refused with " + os.environ["API_TOKEN"])
`,
  },
  javascript_print: {
    language: "javascript",
    permissions: env,
    code: `function run() {
  const t = hwfe.env.API_TOKEN;
  console.log("whole " + t);
  console.error("stderr " + t);
  return { token: t };
}`,
  },
  javascript_fail: {
    language: "javascript",
    permissions: env,
    continue_on_error: true,
    code: `function run() { throw new Error("refused with " + hwfe.env.API_TOKEN); }`,
  },
  typescript_print: {
    language: "typescript",
    permissions: env,
    code: `declare const hwfe: { env: Record<string, string> };
function run(): { token: string } {
  const t: string = hwfe.env.API_TOKEN;
  console.log("whole " + t);
  return { token: t };
}`,
  },
  typescript_fail: {
    language: "typescript",
    permissions: env,
    continue_on_error: true,
    code: `declare const hwfe: { env: Record<string, string> };
function run(): never { throw new Error("refused with " + hwfe.env.API_TOKEN); }`,
  },
  shell_print: {
    language: "shell",
    permissions: env,
    code: `echo "whole $API_TOKEN"
printf 'split %s' "\${API_TOKEN:0:5}"; printf '%s end\\n' "\${API_TOKEN:5}"
echo "{\\"token\\": \\"$API_TOKEN\\"}"
printf 'last %s' "\${API_TOKEN:0:3}"; printf '%s' "\${API_TOKEN:3}"`,
  },
  shell_fail: {
    language: "shell",
    permissions: env,
    continue_on_error: true,
    code: `echo "refused with $API_TOKEN" >&2; exit 4`,
  },
  wasm_print: { language: "wasm", permissions: env, code: wasiPrint(1, false) },
  wasm_fail: {
    language: "wasm",
    permissions: env,
    continue_on_error: true,
    code: wasiPrint(2, true),
  },
  check: {
    language: "lua",
    depends_on: [
      "javascript_print",
      "lua_print",
      "python_print",
      "shell_print",
      "typescript_print",
      "wasm_print",
    ],
    code: `function run(inputs)
  return {
    javascript = inputs.javascript_print.token:reverse(),
    lua = inputs.lua_print.token:reverse(),
    python = inputs.python_print.token:reverse(),
    shell = inputs.shell_print.token:reverse(),
    typescript = inputs.typescript_print.token:reverse(),
    wasm = inputs.wasm_print.stdout:reverse(),
  }
end`,
  },
};

const LANGUAGES = ["javascript", "lua", "python", "shell", "typescript", "wasm"];

async function setUp() {
  const file = await writeWorkflow("secrets", STEPS);
  const dir = await Deno.makeTempDir({ prefix: "hwfe-secrets-" });
  const env = { API_TOKEN: SECRET, HWFE_DATA_DIR: dir };
  const flags = ["--allow-env=API_TOKEN", "--allow-run"];
  return { file, dir, env, flags };
}

function assertHidden(text: string, where: string): void {
  assert.ok(!text.includes(SECRET), `${where} holds the secret:\n${text}`);
  for (const piece of [SECRET.slice(0, 5), SECRET.slice(5), SECRET.slice(3)]) {
    assert.ok(!text.includes(piece), `${where} holds a piece of the secret, ${piece}`);
  }
  assert.ok(text.includes("***"), `${where} shows no ***`);
}

Deno.test("secrets: a human run, its report and its history show *** in every language", async () => {
  const { file, dir, env, flags } = await setUp();
  const report = `${dir}/run.html`;
  const result = await hwfe(["run", ...flags, "--report", report, file], { env });
  assert.equal(result.code, 0, result.stderr);
  assertHidden(result.stdout + result.stderr, "the terminal");
  const all = result.stdout + result.stderr;
  for (const language of ["lua", "python", "shell"]) {
    assert.match(all, new RegExp(`\\[${language}_print\\] whole \\*\\*\\*\\n`));
    assert.match(all, new RegExp(`\\[${language}_print\\] split \\*\\*\\* end\\n`));
    assert.match(all, new RegExp(`\\[${language}_print\\] last \\*\\*\\*\\n`));
  }
  assert.match(all, /\[javascript_print\] stderr \*\*\*\n/);
  assert.match(all, /\[wasm_print\] API_TOKEN=\*\*\*\n/);
  assert.match(all, /\[typescript_print\] whole \*\*\*\n/);
  assertHidden(await Deno.readTextFile(report), "the report");

  const logs = await hwfe(["logs", "last"], { env });
  assert.equal(logs.code, 0, logs.stderr);
  assertHidden(logs.stdout, "hwfe logs");
  const one = await hwfe(["logs", "last", "python_print"], { env });
  assert.equal(one.stdout, "whole ***\nsplit *** end\nlast ***\n");
  const show = await hwfe(["show", "last", "--json"], { env });
  assert.equal(show.code, 0, show.stderr);
  assertHidden(show.stdout, "hwfe show --json");
  const text = await hwfe(["show", "last"], { env });
  assertHidden(text.stdout, "hwfe show");
});

Deno.test("secrets: --json masks output, errors and results, and dependents get the real value", async () => {
  const { file, env, flags } = await setUp();
  const result = await hwfe(["run", "--json", ...flags, file], { env });
  assertHidden(result.stdout, "--json");
  assertHidden(result.stderr, "the progress of a --json run");
  const run = runJson(result);
  assert.equal(run.status, "succeeded", result.stderr);
  for (const language of LANGUAGES) {
    const printed = run.steps[`${language}_print`];
    const failed = run.steps[`${language}_fail`];
    assert.equal(failed.status, "failed", language);
    assert.match(failed.error!, language === "wasm" ? /API_TOKEN=\*\*\*/ : /refused with \*\*\*/);
    if (language === "wasm") {
      assert.equal((printed.result as { stdout: string }).stdout, "API_TOKEN=***");
    } else assert.deepEqual(printed.result, { token: "***" }, language);
  }
  const check = run.steps.check.result as Record<string, string>;
  assert.deepEqual(
    check,
    Object.fromEntries(
      LANGUAGES.map((l) => [l, l === "wasm" ? `${REVERSED}=NEKOT_IPA` : REVERSED]),
    ),
    "each dependent got the real value (reversed: not masked)",
  );
  const output = (run.steps.lua_print as unknown as { output: { line: string }[] }).output;
  assert.deepEqual(output.map((o) => o.line), ["whole ***", "split *** end", "last ***"]);
});

Deno.test("secrets: --secret masks a variable whose name has no keyword, and a short one is named", async () => {
  const file = await writeWorkflow("named", {
    a: {
      language: "lua",
      permissions: { env: ["MY_VAR", "SHORT_VAR"] },
      code: `function run() print("var " .. os.getenv("MY_VAR")) return os.getenv("MY_VAR") end`,
    },
  });
  const env = { MY_VAR: "plain-value-987", SHORT_VAR: "ab" };
  const flags = ["--no-history", "--allow-env=MY_VAR,SHORT_VAR"];
  const plain = await hwfe(["run", ...flags, file], { env });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /\[a\] var plain-value-987\n/, "not a secret by its name");
  const masked = await hwfe(
    ["run", "--json", ...flags, "--secret", "MY_VAR", "--secret=SHORT_VAR", file],
    { env },
  );
  assert.ok(!(masked.stdout + masked.stderr).includes("plain-value-987"));
  assert.equal(runJson(masked).steps.a.result, "***");
  assert.match(masked.stderr, /\[a\] var \*\*\*\n/);
  assert.match(masked.stderr, /the secret SHORT_VAR is shorter than 4 characters/);
});

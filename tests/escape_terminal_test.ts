/**
 * A workflow cannot drive the terminal hwfe prints on: control characters
 * and bidi controls in step output, errors, warnings and names are shown
 * escaped in human output (these runs have no terminal, so no colour
 * either), and `--json` keeps the data as it was.
 */

import assert from "node:assert/strict";
import { type CliResult, hwfe, runJson } from "./_helpers.ts";

/** What no line hwfe writes may hold raw: all but tab and line feed. */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const RAW = new RegExp(
  "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]",
);

function assertNothingRaw(result: CliResult): void {
  for (const stream of ["stdout", "stderr"] as const) {
    const found = RAW.exec(result[stream]);
    assert.equal(
      found,
      null,
      `${stream} holds U+${found?.[0].charCodeAt(0).toString(16).padStart(4, "0")} raw:\n` +
        JSON.stringify(result[stream]),
    );
  }
}

async function workflowFile(text: string, name = "w.lua"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-escape-terminal-" });
  await Deno.writeTextFile(`${dir}/${name}`, text);
  return `${dir}/${name}`;
}

Deno.test("the issue's workflow: a step cannot erase lines and print a fake '✓ succeeded'", async () => {
  const file = await workflowFile(
    'workflow = { name = "x", steps = { a = { code = ' +
      '[[function run() print("\\27[1A\\27[2K\\r✓ fake succeeded") return 1 end]] } } }\n',
  );
  const human = await hwfe(["run", file]);
  assert.equal(human.code, 0, human.stderr);
  assertNothingRaw(human);
  assert.match(human.stdout, /^\[a\] \\x1b\[1A\\x1b\[2K\\x0d✓ fake succeeded$/m);

  const json = await hwfe(["run", "--json", file]);
  assert.equal(json.code, 0, json.stderr);
  assertNothingRaw(json);
  assert.match(json.stderr, /^\[a\] \\x1b\[1A\\x1b\[2K\\x0d✓ fake succeeded$/m);
});

Deno.test("output, errors, retries, warnings and the recap are escaped in human output; --json keeps the data", async () => {
  const file = await workflowFile(`workflow = {
  name = "hostile",
  steps = {
    lua = {
      language = "lua",
      ["title\\27]0;PWNED\\7"] = true,
      code = [[
function run()
  print("clip\\27]52;c;aGk=\\7 \\u{202E}evil \\u{9B}2J end")
  return "\\27[31m\\u{9B}\\u{202E}\\u{7F}"
end]],
    },
    sh = {
      language = "shell",
      code = [[printf 'out\\033]0;title\\007\\n'; printf 'err\\033[2J\\n' >&2]],
    },
    js = {
      language = "javascript",
      retries = 1,
      retry_delay = 0.01,
      code = [[
function run() {
  console.error("\\u2066hidden\\u2069 \\x1b[8m");
  throw new Error("bad\\x1b[1A\\n✓ js succeeded");
}]],
    },
  },
}
`);
  const expected = (lines: string) => {
    assert.match(lines, /^\[lua\] clip\\x1b\]52;c;aGk=\\x07 \\u202eevil \\x9b2J end$/m);
    assert.match(lines, /^\[sh\] out\\x1b\]0;title\\x07$/m);
    assert.match(lines, /^\[sh\] err\\x1b\[2J$/m);
    assert.match(lines, /^\[js\] \\u2066hidden\\u2069 \\x1b\[8m$/m);
    assert.match(
      lines,
      /^↻ js failed \(attempt 1 of 2\), retrying in \d+ms: .*bad\\x1b\[1A\n {4}✓ js/m,
    );
    assert.match(
      lines,
      /^✗ js failed in \d+ms(?: \(waited [^)]+\))? after 2 attempts: .*bad\\x1b\[1A\n {4}✓ js succeeded/m,
    );
  };

  const human = await hwfe(["run", "--allow-run", "--keep-going", file]);
  assert.equal(human.code, 1, human.stderr);
  assertNothingRaw(human);
  expected(human.stdout);
  assert.match(human.stderr, /^warning: .*unknown field 'title\\x1b\]0;PWNED\\x07'/m);
  assert.match(human.stderr, /^\*\*\* step 'js' failed: .*bad\\x1b\[1A\n {4}✓ js succeeded$/m);

  const json = await hwfe(["run", "--allow-run", "--keep-going", "--json", file]);
  assert.equal(json.code, 1, json.stderr);
  assertNothingRaw(json);
  expected(json.stderr);
  const steps = runJson(json).steps;
  assert.equal(steps.lua.result, "\x1b[31m\x9b\u202e\x7f");
  assert.ok(steps.js.error!.includes("bad\x1b[1A\n✓ js succeeded"), steps.js.error);
  assert.match(json.stdout, /"\\u001b\[31m\\u009b\\u202e\\u007f"/);
});

Deno.test("hwfe list and validate escape file names and descriptions", async () => {
  const file = await workflowFile(
    'workflow = { name = "w", description = "says \\27]0;PWNED\\7 \\u{202E}hi", ' +
      'steps = { a = { code = "function run() end" } } }\n',
    "w\x1b[2J.lua",
  );
  const dir = file.slice(0, file.lastIndexOf("/"));
  const list = await hwfe(["list"], { env: { HWFE_WORKFLOW_DIR: dir } });
  assert.equal(list.code, 0, list.stderr);
  assertNothingRaw(list);
  assert.match(list.stdout, /^w\\x1b\[2J\.lua {2}says \\x1b\]0;PWNED\\x07 \\u202ehi$/m);

  const validate = await hwfe(["validate", file]);
  assert.equal(validate.code, 0, validate.stderr);
  assertNothingRaw(validate);
  assert.match(validate.stdout, /w\\x1b\[2J\.lua: workflow 'w' is valid/);
});

/**
 * `--json` on the commands that run nothing (plan, list, config), on `run`
 * (hwfe's version, each step's output, its wait) and on a usage error: a
 * program reading hwfe's JSON never parses prose.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { hwfe, writeWorkflow } from "./_helpers.ts";

const parse = (text: string, what: string) => {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON:\n${text}`);
  }
};

Deno.test("plan --json gives the levels and each step's language, level and dependencies", async () => {
  const file = await writeWorkflow("planned", {
    a: { language: "lua", code: "function run() return 1 end" },
    b: { language: "javascript", depends_on: ["a"], code: "function run() { return 2 }" },
    c: { language: "shell", depends_on: ["a", "b"], code: "echo 3" },
  });
  const result = await hwfe(["plan", "--json", file]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(parse(result.stdout, "stdout"), {
    workflow: "planned",
    file,
    description: null,
    params: {},
    levels: [["a"], ["b"], ["c"]],
    steps: {
      a: { language: "lua", level: 1, depends_on: [] },
      b: { language: "javascript", level: 2, depends_on: ["a"] },
      c: { language: "shell", level: 3, depends_on: ["a", "b"] },
    },
  });
});

Deno.test("list --json names every workflow, an invalid one with its error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-list-" });
  await Deno.mkdir(`${dir}/workflows`);
  await Deno.writeTextFile(
    `${dir}/workflows/good.lua`,
    `workflow = { name = "Good one", description = "does it", steps = {
      a = { code = "function run() return 1 end" } } }`,
  );
  await Deno.writeTextFile(`${dir}/workflows/bad.lua`, `workflow = {`);
  const result = await hwfe(["list", "--json"], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const { directory, workflows } = parse(result.stdout, "stdout");
  assert.equal(directory, "workflows");
  assert.deepEqual(workflows.map((w: { file: string }) => w.file), ["bad.lua", "good.lua"]);
  assert.equal(workflows[0].valid, false);
  assert.match(workflows[0].error, /bad\.lua/);
  assert.deepEqual(workflows[1], {
    file: "good.lua",
    path: "workflows/good.lua",
    name: "Good one",
    description: "does it",
    steps: 1,
    valid: true,
  });
});

Deno.test("config --json gives each setting's value and where it came from", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-config-" });
  await Deno.writeTextFile(`${dir}/config.toml`, `[execution]\nmode = "parallel"\n`);
  const result = await hwfe(["config", "--json"], {
    cwd: dir,
    env: { HWFE_MAX_PARALLEL_STEPS: "3" },
  });
  assert.equal(result.code, 0, result.stderr);
  const document = parse(result.stdout, "stdout");
  assert.match(document.file, /config\.toml$/);
  assert.equal(typeof document.cpus, "number");
  assert.deepEqual(document.settings["execution.mode"].value, "parallel");
  assert.match(document.settings["execution.mode"].source, /config\.toml/);
  assert.deepEqual(document.settings["execution.max_parallel_steps"], {
    value: 3,
    source: "environment HWFE_MAX_PARALLEL_STEPS",
  });
  assert.equal(document.settings["execution.strategy"].source, "default");
});

Deno.test("run --json has hwfe's version, each step's output in order and its wait", async () => {
  const file = await writeWorkflow("talks", {
    a: { language: "lua", code: `function run() print("one") print("two") return 1 end` },
    b: {
      language: "javascript",
      depends_on: ["a"],
      code: `function run() { console.error("oops"); console.log("\\x1b[2J"); return 2 }`,
    },
  });
  const result = await hwfe(["run", "--json", file]);
  assert.equal(result.code, 0, result.stderr);
  const document = parse(result.stdout, "stdout");
  assert.equal(document.hwfe_version, denoJson.version);
  // The run's id in the history: `hwfe show <run_id>` finds it again.
  assert.ok(Number.isInteger(document.run_id), `run_id ${document.run_id}`);
  const shown = await hwfe(["show", String(document.run_id), "--json"]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /"talks"/);
  assert.deepEqual(document.steps.a.output, [
    { stream: "stdout", line: "one" },
    { stream: "stdout", line: "two" },
  ]);
  // The escape travels as data, escaped in the text: nothing a terminal acts on.
  assert.deepEqual(document.steps.b.output, [
    { stream: "stderr", line: "oops" },
    { stream: "stdout", line: "\x1b[2J" },
  ]);
  assert.ok(!result.stdout.includes("\x1b"));
  assert.equal(typeof document.steps.a.waited, "number");
});

Deno.test("run --json keeps 64 KiB of a step's output and counts the rest", async () => {
  const file = await writeWorkflow("chatty", {
    a: {
      language: "lua",
      code: `function run() for i = 1, 2000 do print(("x"):rep(99)) end return 1 end`,
    },
  });
  const result = await hwfe(["run", "--json", file]);
  assert.equal(result.code, 0, result.stderr);
  const step = parse(result.stdout, "stdout").steps.a;
  const kept = step.output.reduce((n: number, o: { line: string }) => n + o.line.length, 0);
  assert.ok(kept <= 64 * 1024, `${kept} characters kept`);
  assert.equal(kept + step.output_dropped_chars, 2000 * 99);
});

Deno.test("usage errors under --json are one JSON document on stderr", async () => {
  const file = await writeWorkflow("fine", { a: { language: "lua", code: "function run() end" } });
  const cases: [string[], RegExp][] = [
    [
      ["run", "--json", "--mod", "parallel", file],
      /unknown option '--mod'\n\(Did you mean --mode\?\)/,
    ],
    [["plan", "--json", "/no/such/flow.lua"], /Workflow '\/no\/such\/flow\.lua' not found/],
    [["run", "--json", "-j", "0x", file], /"0x" is not a whole number/],
  ];
  for (const [args, message] of cases) {
    const result = await hwfe(args);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    const { error } = parse(result.stderr, `stderr of hwfe ${args.join(" ")}`);
    assert.equal(error.exit_code, 2);
    assert.match(error.message, message);
    assert.deepEqual(error.problems, [error.message]);
  }
});

/**
 * Resume and partial runs end to end (issue 19, part 3): `--resume` keeps
 * the unchanged successes of a run, `--from` and `--only` run part of a
 * workflow with the rest taken from history, and `cache = true` reuses a
 * result of any earlier run until the step or the files it reads change.
 * Which steps ran and which were reused is read back from the run store
 * (`hwfe show --json`), not from the terminal.
 */

import assert from "node:assert/strict";
import { type CliResult, hwfe } from "./_helpers.ts";

/** A fresh data directory and a workflow file in it, written from `source`. */
async function setup(source: string) {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-resume-" });
  const file = `${dir}/flow.lua`;
  await Deno.writeTextFile(file, source);
  const env = { HWFE_DATA_DIR: `${dir}/data` };
  const runWith = (extra: Record<string, string>, ...flags: string[]) =>
    hwfe(["run", file, ...flags], { cwd: dir, env: { ...env, ...extra } });
  const run = (...flags: string[]) => runWith({}, ...flags);
  /** Each step of a recorded run: the run it reused its result from, or "ran", or its status. */
  const steps = async (id: number | "last") => {
    const shown = await hwfe(["show", String(id), "--json"], { env });
    assert.equal(shown.code, 0, shown.stderr);
    const record = JSON.parse(shown.stdout) as {
      resumed_from: number | null;
      steps: Record<string, { status: string; reused_from?: number; result?: unknown }>;
    };
    const outcome = Object.fromEntries(
      Object.entries(record.steps).map(([name, s]) => [
        name,
        s.reused_from !== undefined ? s.reused_from : s.status === "succeeded" ? "ran" : s.status,
      ]),
    );
    return { outcome, resumedFrom: record.resumed_from, record };
  };
  return { dir, file, env, run, runWith, steps };
}

function ok(result: CliResult, code = 0): CliResult {
  assert.equal(result.code, code, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

const CHAIN = `
workflow = {
  name = "chain",
  steps = {
    a = { code = [[function run() return 1 end]] },
    b = { depends_on = { "a" }, language = "js", code = [[function run(i) { return i.a + 1 }]] },
    c = { depends_on = { "b" }, language = "shell", code = [[test -f ready || exit 3; echo '{"c": 3}']] },
    d = { depends_on = { "c" }, code = [[function run(i) return i.c.c + 1 end]] },
    x = { code = [[function run() return "x" end]] },
  },
}
`;

Deno.test("--resume after a failure runs only the failed step and those downstream; the rest keep their results", async () => {
  const { dir, env, run, steps } = await setup(CHAIN);
  ok(await run("--allow-run"), 1);
  assert.deepEqual((await steps(1)).outcome, {
    a: "ran",
    b: "ran",
    c: "failed",
    d: "skipped",
    x: "ran",
  });
  await Deno.writeTextFile(`${dir}/ready`, "");
  const resumed = ok(await run("--allow-run", "--resume", "last"));
  assert.match(resumed.stdout, /↺ a reused from run 1/);
  assert.match(resumed.stdout, /3 of 5 steps reused from history/);
  const second = await steps(2);
  assert.deepEqual(second.outcome, { a: 1, b: 1, c: "ran", d: "ran", x: 1 });
  assert.equal(second.resumedFrom, 1);
  assert.deepEqual(second.record.steps.d.result, 4, "reused results flow into the steps that run");
  const logs = await hwfe(["logs", "2", "a"], { env });
  assert.match(logs.stderr, /step 'a' took its result from run 1 and wrote nothing in run 2/);
  // Resuming a run that reused results points at the run that computed them.
  ok(await run("--allow-run", "--resume", "2"));
  assert.deepEqual((await steps(3)).outcome, { a: 1, b: 1, c: 2, d: 2, x: 1 });
});

Deno.test("a changed step runs again with exactly its dependents, even when its result is the same", async () => {
  const { file, run, steps } = await setup(CHAIN.replace("test -f ready || exit 3; ", ""));
  ok(await run("--allow-run"));
  const source = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, source.replace("return i.a + 1", "return 1 + i.a"));
  ok(await run("--allow-run", "--resume", "last"));
  assert.deepEqual((await steps(2)).outcome, { a: 1, b: "ran", c: "ran", d: "ran", x: 1 });
  // A parameter is part of every step's hash.
  await Deno.writeTextFile(
    file,
    source.replace(`name = "chain",`, `name = "chain", params = { n = 1 },`),
  );
  ok(await run("--allow-run", "--resume", "last"));
  assert.deepEqual((await steps(3)).outcome, { a: "ran", b: "ran", c: "ran", d: "ran", x: "ran" });
});

Deno.test("--from runs a step and what is downstream; --only runs just the steps named", async () => {
  const { run, steps } = await setup(CHAIN.replace("test -f ready || exit 3; ", ""));
  ok(await run("--allow-run"));
  ok(await run("--allow-run", "--from", "c"));
  assert.deepEqual((await steps(2)).outcome, { b: 1, c: "ran", d: "ran" });
  ok(await run("--allow-run", "--only", "b,x"));
  assert.deepEqual((await steps(3)).outcome, { a: 1, b: "ran", x: "ran" });
  const only = ok(await run("--only", "d", "--json"));
  assert.deepEqual(JSON.parse(only.stdout).steps.c.reused_from, 2);
  const unknown = ok(await run("--only", "dd"), 2);
  assert.match(unknown.stderr, /--only: no step 'dd' in workflow 'chain' \(did you mean 'd'\?\)/);
  const both = ok(await run("--only", "d", "--from", "c"), 2);
  assert.match(both.stderr, /--from and --only choose steps in two ways: give one of them/);
});

Deno.test("--only and --resume say clearly when history has nothing to take", async () => {
  const { run } = await setup(CHAIN);
  const only = ok(await run("--only", "d"), 2);
  assert.match(
    only.stderr,
    /--only: step 'c', which 'd' depends on, has no result in hwfe's history to take; run it too/,
  );
  const resume = ok(await run("--resume", "last"), 2);
  assert.match(resume.stderr, /--resume last: hwfe's history has no run of .*flow\.lua to resume/);
  const missing = ok(await run("--resume", "99"), 2);
  assert.match(missing.stderr, /--resume 99: hwfe's history has no run 99; `hwfe runs` lists/);
  const bad = ok(await run("--resume", "yesterday"), 2);
  assert.match(bad.stderr, /'yesterday' is not a run/);
  const off = ok(await run("--resume", "last", "--no-history"), 2);
  assert.match(off.stderr, /--resume takes results from hwfe's history, which --no-history/);
});

Deno.test("--resume refuses a run of another workflow", async () => {
  const { dir, run, env } = await setup(CHAIN);
  ok(await run("--allow-run"), 1);
  const other = `${dir}/other.lua`;
  await Deno.writeTextFile(other, `workflow = { name = "other", steps = { a = { code = "" } } }`);
  const refused = await hwfe(["run", other, "--resume", "1"], { env, cwd: dir });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /run 1 is of workflow 'chain' .* not of 'other'/);
});

Deno.test("cache = true reuses a result from any earlier run until a file it reads changes", async () => {
  const { dir, run, steps } = await setup(`
workflow = {
  name = "cached",
  steps = {
    count = { language = "js", cache = true, permissions = { read = { "input.txt" } },
      code = [[function run() { return hwfe.readTextFile("input.txt").length }]] },
    plain = { code = [[function run() return 0 end]] },
    twice = { depends_on = { "count" }, cache = true, code = [[function run(i) return i.count.value * 2 end]] },
  },
}
`);
  await Deno.writeTextFile(`${dir}/input.txt`, "abc");
  ok(await run("--allow-read=input.txt"));
  ok(await run("--allow-read=input.txt"));
  assert.deepEqual((await steps(2)).outcome, { count: 1, plain: "ran", twice: 1 });
  await Deno.writeTextFile(`${dir}/input.txt`, "abcd");
  ok(await run("--allow-read=input.txt"));
  const third = await steps(3);
  assert.deepEqual(third.outcome, { count: "ran", plain: "ran", twice: "ran" });
  assert.equal(third.record.steps.twice.result, 8);
  // --cache treats every step as cached; --no-history with it is refused.
  ok(await run("--allow-read=input.txt", "--cache"));
  assert.deepEqual((await steps(4)).outcome, { count: 3, plain: 3, twice: 3 });
  ok(await run("--cache", "--no-history"), 2);
});

Deno.test("a result holding a secret is never reused: the stored one is masked", async () => {
  const { runWith, steps } = await setup(`
workflow = {
  name = "secret",
  steps = {
    leak = { language = "js", cache = true, permissions = { env = { "API_TOKEN" } },
      code = [[function run() { return hwfe.env.API_TOKEN }]] },
    after = { depends_on = { "leak" }, cache = true, code = [[function run(i) return #i.leak.value end]] },
  },
}
`);
  const secret = { API_TOKEN: "s3cr3t-value" };
  ok(await runWith(secret, "--allow-env=API_TOKEN"));
  ok(await runWith(secret, "--allow-env=API_TOKEN"));
  const second = await steps(2);
  assert.deepEqual(second.outcome, { leak: "ran", after: 1 });
  assert.deepEqual(second.record.steps.leak.result, { value: "***" });
  assert.equal(second.record.steps.after.result, 12, "the step after got the real value");
});

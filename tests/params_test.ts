/**
 * Workflow parameters end to end (issue 19, part 4): `workflow.params`
 * declares them, `--param name=value` gives values typed by the defaults,
 * steps read them in every language, the workflow file shapes its DAG with
 * them, and the run's record keeps them.
 */

import assert from "node:assert/strict";
import { hwfe, runFile, runJson } from "./_helpers.ts";

async function writeFile(name: string, text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-params-" });
  const file = `${dir}/${name}.lua`;
  await Deno.writeTextFile(file, text);
  return file;
}

const EVERY_LANGUAGE = `
workflow = {
  name = "every_language",
  params = { region = "us", n = 3, loud = false, ratio = 0.5 },
  steps = {
    lua = { language = "lua", code = [[
      function run()
        local changed = pcall(function() params.n = 1 end)
        return { region = params.region, n = params.n, loud = params.loud,
                 ratio = params.ratio, read_only = not changed }
      end
    ]] },
    python = { language = "python", code = [[
def run():
    try:
        params["n"] = 1
        read_only = False
    except TypeError:
        read_only = True
    return {"region": params["region"], "n": params["n"], "loud": params["loud"],
            "ratio": params["ratio"], "read_only": read_only}
]] },
    js = { language = "javascript", code = [[
      function run() {
        return { region: params.region, n: params.n, loud: params.loud, ratio: params.ratio,
                 read_only: Object.isFrozen(params) };
      }
    ]] },
    ts = { language = "typescript", code = [[
      declare const params: { region: string; n: number; loud: boolean; ratio: number };
      function run(): Record<string, unknown> {
        return { region: params.region, n: params.n + 0, loud: params.loud, ratio: params.ratio };
      }
    ]] },
    sh = { language = "shell", code = [[
      echo "{\\"region\\":\\"$PARAM_REGION\\",\\"n\\":$PARAM_N,\\"loud\\":$PARAM_LOUD,\\"ratio\\":$PARAM_RATIO}"
    ]] },
  },
}
`;

Deno.test("steps read params in Lua, Python, JavaScript, TypeScript and shell; the run's record keeps them", async () => {
  const file = await writeFile("every_language", EVERY_LANGUAGE);
  const { result, run } = await runFile(
    file,
    "--allow-run",
    "--param",
    "region=eu",
    "--param=n=5",
    "--param",
    "loud=yes",
  );
  assert.equal(result.code, 0, result.stderr);
  const given = { region: "eu", n: 5, loud: true, ratio: 0.5 };
  const results = Object.fromEntries(
    Object.entries(run.steps).map(([name, step]) => [name, step.result]),
  );
  assert.deepEqual(results, {
    lua: { ...given, read_only: true },
    python: { ...given, read_only: true },
    js: { ...given, read_only: true },
    ts: given,
    sh: given,
  });
  const runId = (JSON.parse(result.stdout) as { run_id: number }).run_id;
  const shown = await hwfe(["show", String(runId), "--json"]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout).params, {
    loud: true,
    n: 5,
    ratio: 0.5,
    region: "eu",
  });
  const text = await hwfe(["show", String(runId)]);
  assert.match(text.stdout, /params\s+loud=true, n=5, ratio=0\.5, region=eu/);
});

const FAN_OUT = `
workflow = { name = "fan_out", params = { n = 3, prefix = "part" }, steps = {} }
for i = 1, params.n do
  workflow.steps[params.prefix .. i] = { code = "function run() return " .. i .. " end" }
end
workflow.steps.total = { depends_on = {}, code = [[
  function run(inputs)
    local sum = 0
    for _, v in pairs(inputs) do sum = sum + v end
    return sum
  end
]] }
for name in pairs(workflow.steps) do
  if name ~= "total" then table.insert(workflow.steps.total.depends_on, name) end
end
`;

Deno.test("the workflow file reads params while evaluated: a parameter shapes the DAG", async () => {
  const file = await writeFile("fan_out", FAN_OUT);
  const plain = await hwfe(["plan", "--json", file]);
  assert.equal(plain.code, 0, plain.stderr);
  const planned = JSON.parse(plain.stdout);
  assert.deepEqual(planned.levels, [["part1", "part2", "part3"], ["total"]]);
  assert.deepEqual(planned.params, { n: 3, prefix: "part" });

  const wider = await hwfe(["plan", "--json", "--param", "n=2", "--param", "n=4", file]);
  assert.equal(wider.code, 0, wider.stderr);
  assert.deepEqual(
    JSON.parse(wider.stdout).levels,
    [["part1", "part2", "part3", "part4"], ["total"]],
    "the later of two values wins",
  );

  const graph = await hwfe(["graph", "--format", "text", "--param", "prefix=p", file]);
  assert.equal(graph.code, 0, graph.stderr);
  assert.match(graph.stdout, /p3/);
  assert.doesNotMatch(graph.stdout, /part/);

  const valid = await hwfe(["validate", "--param", "n=1", file]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stdout, /\(2 steps in 2 levels\)/);

  const { result, run } = await runFile(file, "--param", "n=10");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(run.steps.total.result, 55);
});

Deno.test("a parameter's mistakes are usage errors that say what to write", async () => {
  const file = await writeFile("fan_out", FAN_OUT);
  const cases: [string[], RegExp][] = [
    [
      ["--param", "n=abc"],
      /--param n=abc: parameter 'n' takes a number \(its default is 3\), got 'abc'/,
    ],
    [
      ["--param", "prefx=p"],
      /has no parameter 'prefx' \(did you mean 'prefix'\?\); its parameters: n, prefix/,
    ],
    [["--param", "n"], /--param n: give a value, as --param n=VALUE/],
    [["--param", "1n=2"], /'1n' is not a parameter name/],
  ];
  for (const [flags, message] of cases) {
    const result = await hwfe(["plan", ...flags, file]);
    assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  const none = await writeFile(
    "none",
    `workflow = { steps = { a = { code = "function run() end" } } }`,
  );
  const undeclared = await hwfe(["run", "--param", "x=1", none]);
  assert.equal(undeclared.code, 2);
  assert.match(undeclared.stderr, /workflow 'none' declares no parameters/);

  const early = await writeFile(
    "early",
    `local n = params.n\nworkflow = { params = { n = 1 }, steps = { a = { code = "function run() end" } } }`,
  );
  const read = await hwfe(["plan", early]);
  assert.equal(read.code, 2);
  assert.match(read.stderr, /early\.lua:1: params\.n is read before workflow\.params declares it/);

  const all = await hwfe(["run", "--all", "--param", "n=1"]);
  assert.equal(all.code, 2);
  assert.match(all.stderr, /--param gives values to one workflow's parameters, not with --all/);
});

Deno.test("run --json of a workflow with parameters gives each step the typed values", async () => {
  const file = await writeFile(
    "flag",
    `workflow = { params = { on = true }, steps = {
      a = { language = "js", code = "function run() { return params.on === false }" } } }`,
  );
  const result = await hwfe(["run", "--json", "--param", "on=no", file]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(runJson(result).steps.a.result, { value: true });
});

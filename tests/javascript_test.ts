/**
 * JavaScript and TypeScript steps end to end through the real CLI.
 */

import assert from "node:assert/strict";
import { hwfe, runFile, runJson, writeWorkflow } from "./_helpers.ts";

/** The line of `file` on which `step`'s code starts, in a file writeWorkflow wrote. */
async function codeLine(file: string, step: string): Promise<number> {
  const lines = (await Deno.readTextFile(file)).split("\n");
  const at = lines.indexOf(`    ${step} = {`);
  return lines.findIndex((line, i) => i > at && line.includes("code = [")) + 2;
}

Deno.test("JavaScript: Node-style code, inputs as objects, results as JSON.stringify makes them, async run", async () => {
  const file = await writeWorkflow("js", {
    seed: {
      language: "lua",
      code: "function run() return { scores = { 3, 1, 2 }, who = 'Zoë' } end",
    },
    report: {
      language: "javascript",
      depends_on: ["seed"],
      code: `function run(inputs) {
  const { scores, who } = inputs.seed;
  const sorted = [...scores].sort((a, b) => b - a);
  const mean = (scores.reduce((s, x) => s + x, 0) / scores.length).toFixed(2);
  console.log("report for", who, { sorted, mean });
  console.warn(\`\${sorted.length} scores\`);
  return { top: sorted[0], mean, when: new Date(0).toISOString(), missing: undefined,
           holes: [undefined, 1], stamp: new Date(0) };
}`,
    },
    later: {
      language: "js",
      depends_on: ["report"],
      code: "const run = async (inputs) => {\n  await Promise.resolve();\n" +
        "  return Object.keys(inputs.report).sort();\n};\n",
    },
  });
  const { result, run, lines } = await runFile(file);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(run.steps.report.result, {
    top: 3,
    mean: "2.00",
    when: "1970-01-01T00:00:00.000Z",
    holes: [null, 1],
    stamp: "1970-01-01T00:00:00.000Z",
  });
  assert.deepEqual(lines.report, [
    'report for Zoë { sorted: [ 3, 2, 1 ], mean: "2.00" }',
    "3 scores",
  ]);
  assert.deepEqual(run.steps.later.result, ["holes", "mean", "stamp", "top", "when"]);
});

Deno.test("JavaScript: errors name the step, with the step's own line numbers", async () => {
  const file = await writeWorkflow("js_errors", {
    thrown: {
      language: "js",
      code:
        "function helper(x) {\n  return x.y.z;\n}\n\nfunction run() {\n  return helper({});\n}\n",
    },
    // A syntax error is refused before the run starts: tests/mistakes_test.ts.
    no_run: { language: "js", code: "const x = 1;\n" },
    a_bigint: { language: "js", code: "function run() {\n  return [1n];\n}\n" },
    a_cycle: {
      language: "js",
      code: "function run() {\n  const a = {};\n  a.self = a;\n  return a;\n}\n",
    },
    a_string: { language: "js", code: "function run() {\n  throw 'plain string';\n}\n" },
    never: { language: "js", code: "async function run() {\n  await new Promise(() => {});\n}\n" },
  });
  const { result, run } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  const e = Object.fromEntries(Object.entries(run.steps).map(([k, v]) => [k, v.error]));
  // Lines of the step, and of the workflow file.
  const first = await codeLine(file, "thrown");
  assert.equal(
    e.thrown,
    "step 'thrown' (javascript): TypeError: cannot read property 'z' of undefined\n" +
      `    at helper (<step thrown> line 2 (${file}:${first + 1}), column 13)\n` +
      `    at run (<step thrown> line 6 (${file}:${first + 5}), column 3)`,
  );
  assert.equal(e.no_run, "step 'no_run' (javascript): no run() function defined");
  assert.match(e.a_bigint!, /^step 'a_bigint' returned a BigInt \(1n\) at result\[0\],/);
  assert.match(e.a_cycle!, /^step 'a_cycle' returned a value that contains itself at result\.self/);
  assert.equal(e.a_string, "step 'a_string' (javascript): Uncaught \"plain string\"");
  assert.match(e.never!, /never settles/);
});

Deno.test("JavaScript: no host access, runaway code, memory bombs and deep recursion fail alone", async () => {
  const file = await writeWorkflow("js_limits", {
    host: {
      language: "js",
      code:
        "function run() {\n  return [typeof Deno, typeof process, typeof fetch, typeof require,\n" +
        "          typeof setTimeout, typeof XMLHttpRequest, typeof WebAssembly];\n}\n",
    },
    loop: {
      language: "js",
      timeout: 0.5,
      code:
        "function run() {\n  for (;;) {\n    try {\n      while (true) {}\n    } catch (e) {}\n  }\n}\n",
    },
    bomb: {
      language: "js",
      code:
        "function run() {\n  const all = [];\n  for (;;) all.push(new Array(1e6).fill(7));\n}\n",
    },
    deep: {
      language: "js",
      code: "function f(n) {\n  return f(n + 1) + 1;\n}\nfunction run() {\n  return f(0);\n}\n",
    },
    ts_loop: {
      language: "ts",
      timeout: 0.5,
      code: "function run(): number {\n  while (true) {}\n}\n",
    },
    after: {
      language: "js",
      depends_on: ["bomb", "deep"],
      code: "function run(inputs) {\n  return 'still here';\n}\n",
    },
    independent: { language: "js", code: "function run() {\n  return 'ok';\n}\n" },
  });
  const { result, run } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  assert.deepEqual(run.steps.host.result, Array(7).fill("undefined"));
  assert.equal(run.steps.loop.error, "step 'loop' timed out after 0.5s");
  assert.equal(run.steps.ts_loop.error, "step 'ts_loop' timed out after 0.5s");
  assert.match(run.steps.bomb.error!, /^step 'bomb' \(javascript\): InternalError: out of memory/);
  assert.match(run.steps.deep.error!, /^step 'deep' \(javascript\): InternalError: stack overflow/);
  assert.match(run.steps.deep.error!, /\[previous frame repeated \d+ more times\]/);
  assert.equal(run.steps.after.status, "skipped");
  assert.deepEqual(run.steps.independent.result, { value: "ok" });
});

Deno.test("TypeScript: transpiled by esbuild, types unchecked, errors at the step's own lines", async () => {
  const file = await writeWorkflow("ts", {
    typed: {
      language: "typescript",
      code: `interface Order { qty: number; price: number }

const total = (orders: Order[]): number =>
  orders.reduce((sum, o) => sum + o.qty * o.price, 0);

function run(inputs: Record<string, unknown>): { total: number; enumValue: string } {
  enum Colour { Red = "red" }
  return { total: total([{ qty: 2, price: 1.5 }, { qty: 1, price: 4 }]), enumValue: Colour.Red };
}
`,
    },
    wrong_types: {
      language: "ts",
      code:
        "function run(): number {\n  const s: number = 'not a number' as unknown as number;\n  return s;\n}\n",
    },
    thrown: {
      language: "ts",
      code:
        "type Id = string;\n\nfunction run(): Id {\n  const id: Id = 'x';\n  throw new RangeError(`bad ${id}`);\n}\n",
    },
    // A syntax error is refused before the run starts: tests/mistakes_test.ts.
  });
  const { result, run } = await runFile(file, "--keep-going");
  assert.equal(result.code, 1);
  assert.deepEqual(run.steps.typed.result, { total: 7, enumValue: "red" });
  assert.deepEqual(run.steps.wrong_types.result, { value: "not a number" });
  const first = await codeLine(file, "thrown");
  assert.equal(
    run.steps.thrown.error,
    "step 'thrown' (typescript): RangeError: bad x\n" +
      `    at run (<step thrown> line 5 (${file}:${first + 4}), column 13)`,
  );
});

Deno.test("TypeScript: transpiled steps are cached per workflow, and a change or a corrupt file is noticed", async () => {
  const cache = await Deno.makeTempDir({ prefix: "hwfe-ts-cache-" });
  const dir = await Deno.makeTempDir({ prefix: "hwfe-ts-" });
  const file = `${dir}/ts.lua`;
  const write = (value: number) =>
    Deno.writeTextFile(
      file,
      `workflow = { name = "ts", steps = { s = { language = "typescript", ` +
        `code = "function run(): number { return ${value}; }" } } }\n`,
    );
  const run = async () => {
    const result = await hwfe(["run", "--json", "-q", file], { env: { HWFE_CACHE_DIR: cache } });
    assert.equal(result.code, 0, result.stderr);
    return (runJson(result).steps.s.result as { value: number }).value;
  };
  const cached = () => [...Deno.readDirSync(`${cache}/typescript`)].map((e) => e.name);
  await write(1);
  assert.equal(await run(), 1);
  assert.equal(cached().length, 1);
  assert.equal(await run(), 1, "from the cache");
  await write(2);
  assert.equal(await run(), 2, "a changed source is transpiled again");
  assert.equal(cached().length, 1, "the stale entry is gone");
  const [name] = cached();
  const bytes = await Deno.readFile(`${cache}/typescript/${name}`);
  bytes[bytes.length - 5] ^= 0xff;
  await Deno.writeFile(`${cache}/typescript/${name}`, bytes);
  assert.equal(await run(), 2, "a corrupt entry is ignored");
});

Deno.test("JavaScript and TypeScript: a path ending in '/' that names a file fails as POSIX says (ENOTDIR)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-js-slash-" });
  await Deno.writeTextFile(`${dir}/a.txt`, "kept");
  await Deno.mkdir(`${dir}/empty`);
  await Deno.mkdir(`${dir}/out`);
  await Deno.writeTextFile(`${dir}/out/f.txt`, "kept too");
  // Each call's error as `Name: message`, or what it returned.
  const attempt = `const attempt = (call) => {
  try {
    return String(call());
  } catch (e) {
    return e.name + ": " + e.message;
  }
};`;
  const file = await writeWorkflow("js_slash", {
    js: {
      language: "javascript",
      permissions: { read: [dir], write: [dir] },
      code: `${attempt}
function run() {
  const d = ${JSON.stringify(dir)};
  return {
    read: attempt(() => hwfe.readTextFile(d + "/a.txt/")),
    read_dot: attempt(() => hwfe.readTextFile(d + "/a.txt/.")),
    write: attempt(() => hwfe.writeTextFile(d + "/a.txt/", "lost")),
    append: attempt(() => hwfe.writeTextFile(d + "/a.txt/", "lost", { append: true })),
    remove: attempt(() => hwfe.remove(d + "/a.txt/")),
    create: attempt(() => hwfe.writeTextFile(d + "/new.txt/", "lost")),
    read_dir: attempt(() => hwfe.readTextFile(d + "/empty/")).split(":")[0],
    remove_dir: attempt(() => hwfe.remove(d + "/empty/")),
    still: attempt(() => hwfe.readTextFile(d + "/a.txt")),
  };
}`,
    },
    ts: {
      language: "typescript",
      permissions: { read: [dir], write: [dir] },
      code: `${attempt}
function run(): string {
  return attempt(() => hwfe.readTextFile(${JSON.stringify(`${dir}/a.txt/`)}));
}`,
    },
    // Cannot read out/, so cannot tell a file from a directory there.
    write_only: {
      language: "javascript",
      permissions: { write: [`${dir}/out`] },
      code: `${attempt}
function run() {
  const f = ${JSON.stringify(`${dir}/out/f.txt/`)};
  return [attempt(() => hwfe.writeTextFile(f, "lost")), attempt(() => hwfe.remove(f))];
}`,
    },
  });
  const { result, run } = await runFile(file, `--allow-read=${dir}`, `--allow-write=${dir}`);
  assert.equal(result.code, 0, result.stderr);
  const notADirectory = (call: string, path: string) =>
    `NotADirectory: ${call} ${dir}/${path}: not a directory ` +
    `(the path ends in '/', but ${dir}/a.txt is not one)`;
  assert.deepEqual(run.steps.js.result, {
    read: notADirectory("read", "a.txt/"),
    read_dot: notADirectory("read", "a.txt/."),
    write: notADirectory("write", "a.txt/"),
    append: notADirectory("append", "a.txt/"),
    remove: notADirectory("remove", "a.txt/"),
    create: `IsADirectory: write ${dir}/new.txt/: a path ending in '/' names a directory, ` +
      "so no file can be written there",
    read_dir: "IsADirectory",
    remove_dir: "undefined",
    still: "kept",
  });
  assert.deepEqual(run.steps.ts.result, { value: notADirectory("read", "a.txt/") });
  assert.deepEqual(run.steps.write_only.result, [
    `IsADirectory: write ${dir}/out/f.txt/: a path ending in '/' names a directory, ` +
    "so no file can be written there",
    `PermissionDenied: remove ${dir}/out/f.txt/: a path ending in '/' must name a directory, ` +
    `and this step cannot read ${dir}/out/f.txt to check (declare it in permissions.read, ` +
    "or drop the '/')",
  ]);
  assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "kept");
  assert.equal(await Deno.readTextFile(`${dir}/out/f.txt`), "kept too");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.txt", "out"]);
});

/**
 * `hwfe graph` end to end: Mermaid by default, DOT that Graphviz's `dot`
 * draws (where installed: Debian's graphviz), the text tree, and a clear
 * usage error for another format.
 */

import assert from "node:assert/strict";
import { hwfe } from "./_helpers.ts";

const DEMO = new URL("../workflows/parallel_demo.lua", import.meta.url).pathname;
const STEPS = ["init", "task_a", "task_b", "task_c", "task_d", "merge_results", "finalize"];

async function installed(command: string): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args: ["-V"], stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

Deno.test("hwfe graph prints Mermaid by default: a subgraph per level, every step and edge", async () => {
  const result = await hwfe(["graph", DEMO]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "flowchart TD");
  assert.equal(lines.filter((l) => l.startsWith("  subgraph level")).length, 4);
  for (const step of STEPS) assert.match(result.stdout, new RegExp(`\\["${step}<br/>`));
  assert.equal(lines.filter((l) => l.includes(" --> ")).length, 9);
});

Deno.test({
  name: "hwfe graph --format dot is drawn by Graphviz's dot, levels as ranks",
  ignore: !(await installed("dot")),
  fn: async () => {
    const file = `${await Deno.makeTempDir({ prefix: "hwfe-test-" })}/quotes.lua`;
    await Deno.writeTextFile(
      file,
      `workflow = { name = "quotes", steps = {
  ['say "hi"'] = { language = "shell", code = "echo hi" },
  ["back\\\\slash"] = { language = "lua", depends_on = { 'say "hi"' }, code = "" },
} }`,
    );
    for (const workflow of [DEMO, file]) {
      const result = await hwfe(["graph", "--format", "dot", workflow]);
      assert.equal(result.code, 0, result.stderr);
      const child = new Deno.Command("dot", {
        args: ["-Tsvg"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(result.stdout));
      await writer.close();
      const drawn = await child.output();
      const stderr = new TextDecoder().decode(drawn.stderr);
      assert.ok(drawn.success, stderr);
      assert.equal(stderr, "", "dot had nothing to complain about");
      const svg = new TextDecoder().decode(drawn.stdout);
      const names = workflow === DEMO ? STEPS : ["say &quot;hi&quot;", "back\\slash"];
      for (const name of names) assert.ok(svg.includes(`>${name}</text>`), `${name} is drawn`);
    }
  },
});

Deno.test("hwfe graph --format text prints the tree; another format is a usage error", async () => {
  const text = await hwfe(["graph", "--format", "text", DEMO]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^parallel_demo: 7 steps in 4 levels\nlevel 1\n {2}init +lua\n/);
  assert.match(text.stdout, /\n {2}merge_results +lua +← task_a, task_b, task_c, task_d\n/);
  const bad = await hwfe(["graph", "--format", "svg", DEMO]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /argument 'svg' is invalid\. Allowed choices are mermaid, dot, text/);
});

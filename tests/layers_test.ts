/**
 * The shape of the source tree (docs/ARCHITECTURE.md): each folder is a
 * layer, imports point down only and never in a circle; files and
 * functions stay small enough to read. Reads the real import graph from
 * `deno info --json`, so type-only and dynamic imports count too.
 */

import assert from "node:assert/strict";
import { ROOT, SOURCE_DIRS } from "./_helpers.ts";
import { WORKER_SOURCE_FOLDERS } from "../host/child_process.ts";

/** The layers, lowest first: a file may import its own layer and those before it. */
const LAYERS = [
  "_util",
  "lua",
  "workflow",
  "engine",
  "host",
  "runners",
  "store",
  "api",
  "server",
  "cli",
];
/** Entry points above every layer. */
const ENTRIES = ["mod.ts", "cli.ts"];
const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 120;

const isTestOnly = (path: string) => /(_test|_bench)\.ts$|\/testdata\//.test(path);

/** Every source file (not tests, benches or test data), relative to the root. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (path.endsWith(".ts") && !isTestOnly(path)) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return [...ENTRIES, ...files].sort();
}

/** Local imports of every source file, from `deno info --json` over one module importing them all. */
async function importGraph(files: string[]): Promise<Map<string, Set<string>>> {
  const dir = await Deno.makeTempDir();
  try {
    const entry = `${dir}/all.ts`;
    const urls = files.map((file) => new URL(file, ROOT).href);
    await Deno.writeTextFile(entry, urls.map((url) => `import ${JSON.stringify(url)};\n`).join(""));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: new URL(".", ROOT).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    const root = ROOT.href;
    const local = (url: string | undefined) =>
      url?.startsWith(root) ? url.slice(root.length) : undefined;
    const graph = new Map<string, Set<string>>();
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (!from || !files.includes(from)) continue;
      const to = new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          const path = local(target);
          if (path?.endsWith(".ts")) to.add(path);
        }
      }
      graph.set(from, to);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function layerOf(path: string): number {
  if (ENTRIES.includes(path)) return LAYERS.length;
  const index = LAYERS.indexOf(path.split("/")[0]);
  assert.ok(index >= 0, `${path} is in no layer: add its folder to LAYERS and ARCHITECTURE.md`);
  return index;
}

/** Strongly connected components with more than one file (Tarjan), or a file importing itself. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

Deno.test("imports point down the layers, never up or in a circle", async () => {
  const files = sourceFiles();
  const graph = await importGraph(files);
  assert.equal(graph.size, files.length, "deno info saw every source file");
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (layerOf(to) > layerOf(from)) upward.push(`${from} imports ${to}`);
    }
  }
  assert.deepEqual(upward, [], "a lower layer imports a higher one");
  assert.deepEqual(cycles(graph), [], "import cycles");
});

Deno.test("a step child may read every layer a worker module may import, and no higher one", () => {
  assert.deepEqual(WORKER_SOURCE_FOLDERS, LAYERS.slice(0, LAYERS.indexOf("runners") + 1));
  assert.deepEqual(SOURCE_DIRS.toSorted(), LAYERS.toSorted(), "deno.json publishes every layer");
});

Deno.test("each layer's README says what it is and which layers it may import", async () => {
  for (const [index, layer] of LAYERS.entries()) {
    const text = await Deno.readTextFile(new URL(`${layer}/README.md`, ROOT));
    assert.match(text, new RegExp(`^# ${layer}/: `), `${layer}/README.md: its heading`);
    const line = /^May import: (.*)$/m.exec(text)?.[1];
    const below = LAYERS.slice(0, index).reverse();
    const expected = below.length ? below.join(", ") : "nothing but Deno and node: builtins";
    assert.equal(line, expected, `${layer}/README.md: its 'May import:' line`);
  }
});

Deno.test("cycles() finds a circle through three files and a self-import", () => {
  const graph = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a", "d"])],
    ["d", new Set(["d"])],
    ["e", new Set(["a"])],
  ]);
  assert.deepEqual(cycles(graph), [["d"], ["a", "b", "c"]]);
});

/**
 * Functions longer than `max` lines, with their first line. Relies on
 * `deno fmt`: a function's body ends at the first later line that closes a
 * brace at the indentation the function started at.
 */
export function longFunctions(text: string, max: number): { line: number; lines: number }[] {
  const lines = text.split("\n");
  const starts =
    /^(\s*)(export\s+)?(default\s+)?(async\s+)?(function\*?\s*[\w$]*\s*[(<]|(static\s+|private\s+|get\s+|set\s+|async\s+|\*)*[\w$#]+\s*(<[^>]*>)?\(.*\)\s*(:\s*[^=]+)?\{$|.*=>\s*\{$)/;
  const long: { line: number; lines: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = starts.exec(lines[i]);
    if (!match || /^\s*(if|for|while|switch|catch|return|else)\b/.test(lines[i])) continue;
    const indent = match[1];
    for (let j = i + 1; j < lines.length; j++) {
      if (lines[j].startsWith(`${indent}}`)) {
        if (j - i + 1 > max) long.push({ line: i + 1, lines: j - i + 1 });
        break;
      }
    }
  }
  return long;
}

Deno.test("longFunctions() measures functions, methods and arrow functions", () => {
  const body = (n: number) => Array.from({ length: n }, () => "    x();").join("\n");
  const text = [
    "export async function big(a: number): Promise<void> {",
    body(5),
    "}",
    "class C {",
    "  method(x: string) {",
    body(2),
    "  }",
    "}",
    "const f = (y: number) => {",
    body(4),
    "};",
  ].join("\n");
  assert.deepEqual(longFunctions(text, 4), [{ line: 1, lines: 7 }, { line: 14, lines: 6 }]);
  assert.deepEqual(longFunctions(text, 10), []);
});

Deno.test(`source files stay under ${MAX_FILE_LINES} lines and functions under ${MAX_FUNCTION_LINES}`, async () => {
  const problems: string[] = [];
  for (const file of sourceFiles()) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    const count = text.split("\n").length - 1;
    // A file may be longer when its opening comment says why.
    if (count > MAX_FILE_LINES && !/Longer than 500 lines because/.test(text.slice(0, 3000))) {
      problems.push(`${file}: ${count} lines`);
    }
    for (const { line, lines } of longFunctions(text, MAX_FUNCTION_LINES)) {
      problems.push(`${file}:${line}: a function of ${lines} lines`);
    }
  }
  assert.deepEqual(problems, []);
});

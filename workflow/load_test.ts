import assert from "node:assert/strict";
import { CacheEntry } from "../_util/cache.ts";
import { parseWorkflowSource } from "./load.ts";

Deno.test("parseWorkflowSource() names the file and line of a Lua error and a non-table step", async () => {
  await assert.rejects(
    parseWorkflowSource(
      "workflow = {\n steps = { a = { code = 'x' } },\n}\nerror('nope')",
      "f.lua",
    ),
    /f\.lua: error while evaluating the workflow file: f\.lua:4: nope/,
  );
  await assert.rejects(
    parseWorkflowSource("workflow = { steps = { a = { code = function() end } } }", "f.lua"),
    /f\.lua: step 'a': code must be a string, got a function/,
  );
});

Deno.test("parseWorkflowSource() stops a workflow file that loops forever", async () => {
  // The default limit is 10 s; a pcall loop must not escape it either.
  await assert.rejects(
    parseWorkflowSource("while true do pcall(function() while true do end end) end", "loop.lua", {
      timeoutMs: 200,
    }),
    /loop\.lua: evaluating the workflow file took more than 0\.2s; does it loop forever\?/,
  );
});

Deno.test("parseWorkflowSource() caches an evaluation that depended on the text alone", async () => {
  const cacheDir = await Deno.makeTempDir();
  const source =
    `workflow = { name = "c", steps = { a = { code = "function run() return 1 end" } } }`;
  const first = await parseWorkflowSource(source, "c.lua", { cacheDir });
  assert.equal(first.workflow.name, "c");
  const files = () => [...Deno.readDirSync(`${cacheDir}/workflows`)].map((e) => e.name);
  assert.equal(files().length, 1);
  // Proof that the cache is used: an entry written for this text is what loads.
  const [name] = files(); // <key>.<path hash>.evaluated
  const [key, ...kind] = name.split(".");
  const entry = new CacheEntry(`${cacheDir}/workflows`, kind.join("."), key);
  await entry.write(
    new TextEncoder().encode(`{"name":"from the cache","steps":{"a":{"code":"x"}}}`),
  );
  assert.equal(
    (await parseWorkflowSource(source, "c.lua", { cacheDir })).workflow.name,
    "from the cache",
  );
  // Another text is evaluated again, and replaces the entry.
  const changed = source.replace('"c"', '"changed"');
  assert.equal(
    (await parseWorkflowSource(changed, "c.lua", { cacheDir })).workflow.name,
    "changed",
  );
  assert.equal(files().length, 1);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("parseWorkflowSource() does not cache a file that read the clock, randomness or addresses", async () => {
  for (
    const expression of [
      "os.time()",
      "math.random(10)",
      "tostring({})",
      'string.format("%p", "x")',
      "os.date()",
    ]
  ) {
    const cacheDir = await Deno.makeTempDir();
    await parseWorkflowSource(
      `local v = ${expression}\nworkflow = { name = "n", steps = { a = { code = "x" } } }`,
      "n.lua",
      { cacheDir },
    );
    const cached = [...(function* () {
      try {
        yield* Deno.readDirSync(`${cacheDir}/workflows`);
      } catch { /* no directory: nothing cached */ }
    })()];
    assert.equal(cached.length, 0, expression);
    await Deno.remove(cacheDir, { recursive: true });
  }
});

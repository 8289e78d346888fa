/**
 * The library as a program of its own uses it: started without what hwfe
 * needs from Deno, it gets an HwfeError that names the flags to add (never
 * a NotCapable stack trace or a dead process), and its errors speak the
 * library's words (`grants: { run: true }`), not the command's flags.
 */

import assert from "node:assert/strict";
import { deno, ROOT } from "./_helpers.ts";

const SCRIPT = `
import { defineWorkflow, HwfeError, runWorkflow } from "${new URL("mod.ts", ROOT).href}";
const { workflow } = defineWorkflow({
  steps: {
    lua: { code: "function run() return 1 end" },
    sh: { language: "shell", depends_on: ["lua"], code: "echo hi" },
  },
});
try {
  const result = await runWorkflow(workflow, { grants: JSON.parse(Deno.args[0]), cacheDir: false });
  console.log(result.status);
} catch (error) {
  console.log(error instanceof HwfeError ? \`\${error.name}: \${error.message}\` : \`not an HwfeError: \${error}\`);
}
`;

async function runScript(flags: string[], grants: object = { run: true }) {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-library-" });
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, SCRIPT);
    return await deno([
      "run",
      "--quiet",
      "--no-prompt",
      ...flags,
      "main.ts",
      JSON.stringify(grants),
    ], {
      cwd: dir,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a program without --unstable-worker-options gets an HwfeError naming it", async () => {
  const result = await runScript(["--allow-all"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "HwfeError: hwfe runs each step in a worker with only the permissions it was granted, which " +
      "needs Deno's --unstable-worker-options: start your program with deno run " +
      '--unstable-worker-options, or add "unstable": ["worker-options"] to its deno.json\n',
  );
});

Deno.test("a program without --allow-read gets an HwfeError naming it", async () => {
  const result = await runScript(["--unstable-worker-options", "--allow-env", "--allow-run"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^HwfeError: hwfe reads its runtimes' files \(such as \/.+\) from Deno's cache, which needs read access: start your program with deno run --allow-read \(and --unstable-worker-options\)\n$/,
  );
});

Deno.test("a missing grant is named in the library's words, and the run works once given", async () => {
  const flags = ["--allow-all", "--unstable-worker-options"];
  const refused = await runScript(flags, {});
  assert.equal(refused.code, 0, refused.stderr);
  assert.equal(refused.stdout, "PermissionError: step 'sh' (shell) needs grants: { run: true }\n");
  const ran = await runScript(flags, { run: true });
  assert.equal(ran.stdout, "succeeded\n", ran.stderr);
});

Deno.test("every export of mod.ts has documentation with an example", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", new URL("mod.ts", ROOT).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  const doc = JSON.parse(new TextDecoder().decode(output.stdout));
  const module = Object.values(doc.nodes)[0] as {
    symbols: { name: string; declarations: { jsDoc?: { tags?: { kind: string }[] } }[] }[];
  };
  const missing = module.symbols
    .filter((symbol) =>
      !symbol.declarations.some((d) => d.jsDoc?.tags?.some((tag) => tag.kind === "example"))
    )
    .map((symbol) => symbol.name);
  assert.deepEqual(missing, [], "exports without an @example");
  assert(module.symbols.length >= 20, `only ${module.symbols.length} exports found`);
});

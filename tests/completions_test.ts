/**
 * `hwfe completions bash|zsh|fish`, loaded into the real shells: commands,
 * flags, flag values and workflow names (from the workflows directory of
 * the directory the user is in) complete. zsh has no way to ask for
 * completions without a terminal, so its script is only parsed.
 */

import assert from "node:assert/strict";
import { hwfe, hwfeCommandLine, SUITE_CACHE } from "./_helpers.ts";
import { shellQuote } from "../_util/quote.ts";

/** A folder with two workflows and an `hwfe` on PATH that runs this source. */
async function userFolder(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-completions-" });
  await Deno.mkdir(`${dir}/workflows`);
  await Deno.mkdir(`${dir}/bin`);
  for (const name of ["alpha", "alps", "beta"]) {
    await Deno.writeTextFile(
      `${dir}/workflows/${name}.lua`,
      `workflow = { name = "${name}", steps = { a = { code = "function run() end" } } }`,
    );
  }
  const bin = `${dir}/bin/hwfe`;
  await Deno.writeTextFile(
    bin,
    `#!/bin/sh\nexec ${hwfeCommandLine().map(shellQuote).join(" ")} "$@"\n`,
  );
  await Deno.chmod(bin, 0o755);
  return {
    dir,
    env: { PATH: `${dir}/bin:${Deno.env.get("PATH")}`, HWFE_CACHE_DIR: SUITE_CACHE, NO_COLOR: "1" },
  };
}

async function shell(program: string, args: string[], cwd: string, env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args,
    cwd,
    env,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, `${program} ${args.join(" ")}:\n${text.decode(stderr)}`);
  return text.decode(stdout);
}

const installed = (program: string) => {
  try {
    return Deno.statSync(`/usr/bin/${program}`).isFile;
  } catch {
    return false;
  }
};

Deno.test("bash completes commands, flags, their values and workflow names", async () => {
  const { dir, env } = await userFolder();
  // What bash's completion would offer for each command line (the last word being typed).
  const cases: [string[], string[]][] = [
    [["hwfe", "r"], ["run", "runs"]],
    [["hwfe", "c"], ["completions", "config"]],
    [["hwfe", "run", "--mo"], ["--mode"]],
    [["hwfe", "run", "--mode", ""], ["parallel", "sequential"]],
    [["hwfe", "run", "-j", "4", "--on-failure", "k"], ["keep-going", "keep_going"]],
    [["hwfe", "run", "--allow-run", "al"], ["alpha", "alps"]],
    [["hwfe", "graph", "--format", ""], ["dot", "mermaid", "text"]],
    [["hwfe", "graph", "be"], ["beta"]],
    [["hwfe", "completions", ""], ["bash", "fish", "zsh"]],
    [["hwfe", "list", "--"], ["--config", "--help", "--json", "--names"]],
  ];
  const script = [
    `source <(hwfe completions bash)`,
    `complete -p hwfe >/dev/null`,
    ...cases.map(([words]) =>
      `COMP_WORDS=(${words.map(shellQuote).join(" ")}); COMP_CWORD=${words.length - 1}; ` +
      `COMPREPLY=(); _hwfe; printf '%s\\n' "$(printf '%s\\n' "\${COMPREPLY[@]}" | sort | paste -sd' ')"`
    ),
  ].join("\n");
  const lines = (await shell("bash", ["-c", script], dir, env)).trimEnd().split("\n");
  assert.deepEqual(
    lines.map((line, i) => [cases[i][0].join(" "), line]),
    cases.map(([words, expected]) => [words.join(" "), expected.join(" ")]),
  );
});

Deno.test("fish completes commands, flags, their values and workflow names", {
  ignore: !installed("fish"),
}, async () => {
  const { dir, env } = await userFolder();
  const complete = async (line: string) => {
    const text = await shell(
      "fish",
      ["--no-config", "-c", `hwfe completions fish | source; complete -C ${shellQuote(line)}`],
      dir,
      env,
    );
    return text.trimEnd().split("\n").map((entry) => entry.split("\t")[0]).sort();
  };
  assert.deepEqual(await complete("hwfe r"), ["run", "runs"]);
  assert.deepEqual(await complete("hwfe run --mo"), ["--mode"]);
  assert.deepEqual(await complete("hwfe run --mode "), ["parallel", "sequential"]);
  assert.deepEqual(await complete("hwfe run al"), ["alpha", "alps"]);
  assert.deepEqual(await complete("hwfe completions "), ["bash", "fish", "zsh"]);
});

Deno.test("zsh parses its completion script", { ignore: !installed("zsh") }, async () => {
  const { dir, env } = await userFolder();
  const script = (await hwfe(["completions", "zsh"])).stdout;
  await Deno.writeTextFile(`${dir}/_hwfe`, script);
  await shell("zsh", ["-n", `${dir}/_hwfe`], dir, env);
  assert.match(script, /^#compdef hwfe\n/);
  assert.match(script, /--mode'\[execution mode\]:value:\(sequential parallel\)'/);
  assert.match(script, /'\*:workflow:_hwfe_workflows'/);
});

Deno.test("completions for an unknown shell is a usage error naming the choices", async () => {
  const result = await hwfe(["completions", "powershell"]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /value 'powershell' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/,
  );
});

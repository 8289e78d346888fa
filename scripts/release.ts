/**
 * Builds hwfe's single binaries with `deno compile`, and writes their
 * SHA-256 sums.
 *
 *   deno task compile       dist/hwfe, for this machine
 *   deno task compile:all   dist/hwfe-<target>[.exe] for every target in
 *                           TARGETS, then dist/SHA256SUMS
 *
 * `deno compile` downloads the runtime it embeds for each target (once,
 * into DENO_DIR), so a release needs a machine that can reach
 * dl.deno.land. `DENORT_BIN` makes it use a local runtime instead.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { v8FlagsArg } from "../_util/v8_flags.ts";

const ROOT = new URL("../", import.meta.url);

/** The targets of a release (`deno compile --target`). */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/**
 * The Deno permissions compiled into the binary: what hwfe itself needs.
 * Steps get none of them unless the user grants them with hwfe's own
 * `--allow-*` flags; the engine narrows each step's worker to its grants.
 */
export const BAKED_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
];

/**
 * Modules that `deno compile` cannot find by following imports: the worker
 * modules (started with `new Worker(url)`) and the step child's entry.
 * Every `*_worker.ts` in runners/ is one, so a new runtime's worker is
 * included without anyone remembering to add it here.
 */
export function workerModules(): string[] {
  const runners = [...Deno.readDirSync(new URL("runners/", ROOT))]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith("_worker.ts"))
    .sort()
    .map((name) => `runners/${name}`);
  return [...runners, "host/worker_entry.ts", "host/child_entry.ts"];
}

/** Files read at run time rather than imported: the server's page (server/app.ts). */
export const INCLUDED_FILES = ["server/page/"];

/** The arguments of `deno compile` for one binary (`target` undefined: this machine). */
export function compileArgs(output: string, target?: string): string[] {
  return [
    "compile",
    ...BAKED_PERMISSIONS,
    "--unstable-worker-options",
    v8FlagsArg(),
    ...[...workerModules(), ...INCLUDED_FILES].flatMap((path) => [
      "--include",
      new URL(path, ROOT).pathname,
    ]),
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    new URL("cli.ts", ROOT).pathname,
  ];
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function compile(output: string, target?: string): Promise<string | undefined> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(output, target),
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (result.success) return undefined;
  // deno compile's error: its first line, then the most specific of its causes.
  const text = new TextDecoder().decode(result.stderr);
  const error = text.slice(text.indexOf("error:")).split("Stack backtrace:")[0];
  const [first, ...causes] = error.split("\n").map((line) => line.replace(/^\s*\d+:\s*/, "").trim())
    .filter((line) => line && line !== "Caused by:");
  const cause = causes.sort((a, b) => b.length - a.length)[0];
  return `${first ?? "deno compile failed"}${cause ? `: ${cause}` : ""}`;
}

async function main(args: string[]): Promise<number> {
  let values: { current?: boolean; out: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { current: { type: "boolean" }, out: { type: "string", default: "dist" } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: scripts/release.ts [--current] [--out DIR]`);
    return 2;
  }
  const dir = values.out;
  await Deno.mkdir(dir, { recursive: true });
  if (values.current) {
    const output = `${dir}/hwfe${Deno.build.os === "windows" ? ".exe" : ""}`;
    const failure = await compile(output);
    if (failure) {
      console.error(`deno compile failed: ${failure}`);
      return 1;
    }
    console.log(`built ${output}`);
    return 0;
  }
  const sums: string[] = [];
  const failures: string[] = [];
  for (const target of TARGETS) {
    const name = `hwfe-${target}${target.includes("windows") ? ".exe" : ""}`;
    const failure = await compile(`${dir}/${name}`, target);
    if (failure) {
      failures.push(`${target}: ${failure}`);
      console.error(`failed ${target}: ${failure}`);
      continue;
    }
    sums.push(`${await sha256(`${dir}/${name}`)}  ${name}`);
    console.log(`built ${dir}/${name}`);
  }
  if (failures.length) {
    console.error(
      `${failures.length} of ${TARGETS.length} targets failed; no SHA256SUMS written. ` +
        `deno compile needs to download each target's runtime from dl.deno.land.`,
    );
    return 1;
  }
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, sums.join("\n") + "\n");
  console.log(`wrote ${dir}/SHA256SUMS`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

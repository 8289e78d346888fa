/** Helpers for end-to-end tests that run the real CLI in a subprocess. */

import denoJson from "../deno.json" with { type: "json" };
import { v8FlagsArg } from "../_util/v8_flags.ts";

export const ROOT = new URL("../", import.meta.url);
export const CLI = new URL("cli.ts", ROOT).pathname;
/** hwfe's source folders: those deno.json publishes. */
export const SOURCE_DIRS: string[] = denoJson.publish.include
  .filter((path) => path.endsWith("/"))
  .map((path) => path.slice(0, -1));
export const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

/**
 * The suite's own cache directory (Python's start-up snapshot), so tests do
 * not depend on, or write to, the user's cache.
 */
export const SUITE_CACHE = new URL(".hwfe-cache/tests", ROOT).pathname;

/** The suite's own data directory (the run history), so tests never write the user's. */
export const SUITE_DATA = new URL(".hwfe-cache/tests-data", ROOT).pathname;

/** The Deno permissions the `hwfe` task gives the CLI. */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** What hwfe reads on its stdin (none when absent). */
  stdin?: string;
}

/** The command line that runs the CLI from source, as the `hwfe` task does: program, then arguments. */
export function hwfeCommandLine(): [string, ...string[]] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--unstable-worker-options",
    v8FlagsArg(),
    ...PERMISSIONS,
    CLI,
  ];
}

function command(args: string[], options: CliOptions): Deno.Command {
  const [program, ...head] = hwfeCommandLine();
  return new Deno.Command(program, {
    args: [...head, ...args],
    cwd: options.cwd ?? ROOT.pathname,
    env: { NO_COLOR: "1", HWFE_CACHE_DIR: SUITE_CACHE, HWFE_DATA_DIR: SUITE_DATA, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `hwfe <args>` to completion. */
export async function hwfe(args: string[], options: CliOptions = {}): Promise<CliResult> {
  let output: Deno.CommandOutput;
  if (options.stdin === undefined) {
    output = await command(args, options).output();
  } else {
    const child = command(args, options).spawn();
    const writer = child.stdin.getWriter();
    // hwfe may never read it: a closed pipe is no failure here.
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
    output = await child.output();
  }
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs `deno <args>` to completion, without colours: for runs that the
 * `hwfe` helper does not cover (other permissions, another copy of hwfe,
 * a script of a library user).
 */
export async function deno(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Starts `hwfe <args>` and returns the child to drive (signals, streams). */
export function spawnHwfe(args: string[], options: CliOptions = {}): Deno.ChildProcess {
  return command(args, options).spawn();
}

/**
 * Copies a testdata workflow into a fresh temporary directory, replacing
 * `MARKER` with a random number so that the processes it starts can be
 * found afterwards (`sleep 30.MARKER`).
 */
export async function workflowCopy(
  name: string,
): Promise<{ dir: string; file: string; marker: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-test-" });
  const marker = String(Math.floor(Math.random() * 1e9));
  const text = await Deno.readTextFile(`${TESTDATA}${name}`);
  const file = `${dir}/${name}`;
  await Deno.writeTextFile(file, text.replaceAll("MARKER", marker));
  return { dir, file, marker };
}

/**
 * Live processes of the process group `pgid` (pgrep -g); zombies, which a
 * container's init may never reap, are not running and not counted.
 */
export async function processesInGroup(pgid: number): Promise<string> {
  const output = await new Deno.Command("pgrep", {
    args: ["-a", "-g", String(pgid)],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).split("\n")
    .filter((line) => line.trim() && !line.endsWith("<defunct>")).join("\n");
}

/** The pids of `parent`'s child processes whose command line contains `pattern`. */
export async function childrenMatching(parent: number, pattern: string): Promise<number[]> {
  const output = await new Deno.Command("pgrep", {
    args: ["-P", String(parent), "-f", pattern],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).split("\n").filter(Boolean).map(Number);
}

/** Processes whose command line contains `pattern` (pgrep -f). */
export async function processesMatching(pattern: string): Promise<string> {
  const output = await new Deno.Command("pgrep", { args: ["-af", pattern], stdout: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).trim();
}

/** Parses the `--json` output of a run. */
export function runJson(result: CliResult): {
  status: string;
  mode: string;
  strategy: string;
  duration: number;
  levels: string[][];
  steps: Record<
    string,
    {
      status: string;
      start: number;
      duration: number;
      /** Seconds waited for a runtime before the step's code ran. */
      waited: number | null;
      result?: unknown;
      error?: string;
      level: number;
    }
  >;
} {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not JSON:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Reads a stream until `needle` appears; returns everything read. */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  needle: string,
): Promise<{ text: string; rest: ReadableStreamDefaultReader<string> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before '${needle}':\n${text}`);
    text += value;
  }
  return { text, rest: reader };
}

/** A step for {@link writeWorkflow}. */
export interface TestStep {
  language?: string;
  code: string;
  depends_on?: string[];
  timeout?: number;
  retries?: number;
  retry_delay?: number;
  continue_on_error?: boolean;
  memory_mb?: number;
  /** Shell: how stdout becomes the result ("object" or "json"). */
  result?: string;
  permissions?: { read?: string[]; write?: string[]; net?: string[]; env?: string[] };
}

/** Writes a workflow file with these steps into a fresh temporary directory. */
export async function writeWorkflow(
  name: string,
  steps: Record<string, TestStep>,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-test-" });
  const long = (text: string) => {
    let eq = "=";
    while (text.includes(`]${eq}]`)) eq += "=";
    return `[${eq}[\n${text}]${eq}]`;
  };
  const body = Object.entries(steps).map(([step, s]) =>
    `    ${step} = {\n` +
    `      language = "${s.language ?? "python"}",\n` +
    (s.depends_on
      ? `      depends_on = { ${s.depends_on.map((d) => `"${d}"`).join(", ")} },\n`
      : "") +
    (["timeout", "retries", "retry_delay", "continue_on_error", "memory_mb"] as const)
      .filter((field) => s[field] !== undefined)
      .map((field) => `      ${field} = ${s[field]},\n`).join("") +
    (s.result === undefined ? "" : `      result = ${JSON.stringify(s.result)},\n`) +
    (s.permissions
      ? `      permissions = { ${
        Object.entries(s.permissions).map(([kind, list]) =>
          `${kind} = { ${list.map((item) => JSON.stringify(item)).join(", ")} }`
        ).join(", ")
      } },\n`
      : "") +
    `      code = ${long(s.code)},\n    },`
  ).join("\n");
  const file = `${dir}/${name}.lua`;
  await Deno.writeTextFile(
    file,
    `workflow = {\n  name = "${name}",\n  steps = {\n${body}\n  }\n}\n`,
  );
  return file;
}

/** The `[step] line` output lines of a human-readable run, by step. */
export function outputLines(stdout: string): Record<string, string[]> {
  const lines: Record<string, string[]> = {};
  for (const match of stdout.matchAll(/^\[([\w-]+)\] (.*)$/gm)) {
    (lines[match[1]] ??= []).push(match[2]);
  }
  return lines;
}

/** `hwfe run --json <flags> <file>`: the process result, its JSON, and step output by step. */
export async function runFileWith(options: CliOptions, file: string, ...flags: string[]) {
  const result = await hwfe(["run", "--json", ...flags, file], options);
  return { result, run: runJson(result), lines: outputLines(result.stderr) };
}

/** {@link runFileWith} with no options. */
export function runFile(file: string, ...flags: string[]) {
  return runFileWith({}, file, ...flags);
}

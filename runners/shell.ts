/**
 * Shell steps, compatible with the reference engine: bash with `set -e`,
 * each dependency's result as compact JSON in `INPUT_<NAME>`, a
 * `parse_input <step>` helper, and `run` called when the code defines it.
 *
 * Inputs go through the environment, never into the script text, so any
 * bytes arrive intact. The step ends when bash exits, or at its timeout or
 * cancellation; then everything it started is stopped, including processes
 * that left its process group (host/orphans.ts), and its process group is
 * killed. A process still holding the step's output after that does not
 * hold up the step.
 *
 * @module
 */

import { StepError } from "../_util/errors.ts";
import { compactJson, type JsonText, stringifyJson } from "../_util/json.ts";
import { closeReaper, trackStepProcesses } from "../host/orphans.ts";
import { shellQuote } from "../_util/quote.ts";
import type { StepChecks, StepContext } from "../engine/runner.ts";
import { stepLine } from "../workflow/code_lines.ts";
import { paramVariable } from "../workflow/params.ts";
import type { Workflow } from "../workflow/model.ts";
import { LINE_TRAPS, MarkerFilter, shellSyntax } from "./_shell_lines.ts";
import type { CheckingRunner } from "./syntax.ts";

/**
 * What runs before the step's code, on the code's first line so that
 * bash's line numbers are the step's own: `set -e` (with `-E`, so that the
 * ERR trap that notes a failing command's line reaches functions and
 * subshells), the line traps (_shell_lines.ts) and `parse_input`.
 */
const PRELUDE = `set -eE; ${LINE_TRAPS}parse_input() { local __hwfe_name="\${1^^}"; ` +
  `__hwfe_name="INPUT_\${__hwfe_name//[^A-Z0-9_]/_}"; ` +
  `if [ -n "\${!__hwfe_name+set}" ]; then printf '%s\\n' "\${!__hwfe_name}"; ` +
  `elif __hwfe_name="\${__hwfe_name}_FILE"; [ -n "\${!__hwfe_name+set}" ]; then ` +
  `cat -- "\${!__hwfe_name}" && echo; ` +
  // Empty, as in the reference engine, but said.
  `else echo "warning: parse_input: '$1' is not a direct dependency of this step, so it reads ` +
  `as empty (direct dependencies: \${__hwfe_dependencies:-none})" >&2; fi; }; `;
const EPILOGUE = `
if declare -F run >/dev/null; then run; fi
`;
/** Linux caps one environment string at 128 KiB (MAX_ARG_STRLEN). */
const MAX_ENV_BYTES = 128 * 1024 - 1;
/**
 * Most bytes of inputs passed in the environment, all together: Linux caps
 * arguments and environment at a quarter of the stack limit (2 MiB with the
 * usual 8 MiB), and the script is an argument too.
 */
const MAX_ENV_TOTAL_BYTES = 1024 * 1024;
const STDERR_TAIL_LINES = 5;

/** The environment variable that carries a dependency's result. */
export function inputVariable(stepName: string): string {
  return `INPUT_${stepName.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
}

/**
 * A shell step's result from its output, as the reference engine makes it:
 * the whole stdout if it is a JSON object (a heredoc over several lines,
 * say), else the first stdout line that is a JSON object, else `{stdout,
 * stderr, exit_code}` with both streams trimmed. With `result = "json"`
 * the whole stdout may be any JSON value (`42`, a list).
 */
export function shellResult(
  stdout: string,
  stderr: string,
  exitCode: number,
  mode: "object" | "json" = "object",
): JsonText {
  const whole = stdout.trim();
  if (whole) {
    if (mode === "json" || (whole.startsWith("{") && whole.endsWith("}"))) {
      try {
        return compactJson(whole);
      } catch { /* not JSON as a whole */ }
    }
    for (const line of whole.split("\n")) {
      const text = line.trim();
      if (!text.startsWith("{") || !text.endsWith("}")) continue;
      try {
        return compactJson(text);
      } catch { /* not a JSON object */ }
    }
  }
  return stringifyJson({ stdout: whole, stderr: stderr.trim(), exit_code: exitCode });
}

/** Most output kept for the result; the engine stops a step that writes more. */
const MAX_KEPT_CHARS = 256 * 1024 * 1024;

/**
 * How long the step's pipes may stay open once bash and everything marked
 * as the step's are gone: only a process that shed the mark (`env -i`)
 * can hold them then, and the step does not wait for it.
 */
const PIPES_GRACE_MS = 1000;

/**
 * A pipe's text so far, read until it closes or `cancel()` is called;
 * with `markers`, the line traps' marker is taken out and its line kept.
 */
function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
  markers = false,
): { text: Promise<string>; cancel(): void; line(): number | undefined } {
  const reader = stream.getReader();
  const chunks: string[] = [];
  let kept = 0;
  // A decoder of our own rather than a TextDecoderStream: one stream fewer
  // per pipe, which measured about 0.2 ms a step (500 trivial steps).
  const decoder = new TextDecoder();
  const keep = (text: string) => {
    if (!text) return;
    if (kept < MAX_KEPT_CHARS) {
      chunks.push(text);
      kept += text.length;
    }
    onText(text);
  };
  const marker = markers ? new MarkerFilter(keep) : undefined;
  const take = (text: string) => marker ? marker.push(text) : keep(text);
  const text = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        take(decoder.decode(value, { stream: true }));
      }
    } catch { /* the pipe failed: keep what was read */ }
    take(decoder.decode());
    marker?.end();
    return chunks.join("");
  })();
  return {
    text,
    cancel: () => void reader.cancel().catch(() => {}),
    line: () => marker?.line,
  };
}

function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // The group is gone, or was never made: a step stopped before `setsid`
    // made it. Its own process goes then (the reaper takes what it started).
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
}

/**
 * How a step's bash gets a session (and process group) of its own.
 * Deno's `detached: true` does it in a hook between fork and exec, which
 * makes Deno fork its whole address space instead of using posix_spawn:
 * 300 spawns of `bash -c true`, 4 at once, took 2.3-5.4 s detached and
 * 1.1-1.5 s plain (docs/BENCHMARKS.md). util-linux's `setsid`, started
 * plainly, calls setsid() and execs bash in the same process (no fork: it
 * is not a group leader): 1.7-2.3 s. It is used where a probe shows that
 * it exists and may be started (Linux; not macOS, nor a library user whose
 * `--allow-run` names bash only); elsewhere, `detached`.
 */
let sessionLauncher: Promise<"setsid" | "detached"> | undefined;

/** Which way this process starts a shell step in its own session. */
export function shellLauncher(): Promise<"setsid" | "detached"> {
  return sessionLauncher ??= (async () => {
    try {
      // Never a permission prompt for a program the user did not name.
      if (Deno.permissions.querySync({ name: "run", command: "setsid" }).state !== "granted") {
        return "detached";
      }
      // Field 6 of /proc/<pid>/stat is the session: bash must lead its own.
      const probe = await new Deno.Command("setsid", {
        args: ["bash", "-c", "read -ra f < /proc/$$/stat && (( f[5] == $$ ))"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      return probe.success ? "setsid" : "detached";
    } catch {
      return "detached";
    }
  })();
}

/** Starts bash in a session of its own, with piped output and the environment `env`. */
async function spawnBash(args: string[], env: Record<string, string>): Promise<Deno.ChildProcess> {
  const how = await shellLauncher();
  const io = { env, stdin: "null", stdout: "piped", stderr: "piped" } as const;
  return how === "setsid"
    ? new Deno.Command("setsid", { args: ["bash", ...args], ...io }).spawn()
    : new Deno.Command("bash", { args, ...io, detached: true }).spawn();
}

/** Resolves when `signal` aborts; `dispose` removes the listener. */
function abortOf(signal: AbortSignal): { aborted: Promise<void>; dispose(): void } {
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => (onAbort = resolve));
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return { aborted, dispose: () => signal.removeEventListener("abort", onAbort) };
}

/** Resolves after `ms`, or at once when `until` settles first. */
async function waitAtMost(ms: number, until: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([until, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function runShell(ctx: StepContext): Promise<JsonText> {
  const { step } = ctx;
  const { env, files } = await inputEnvironment(step.name, ctx.inputsByName);
  try {
    return await runBash(ctx, { ...paramEnvironment(ctx.workflow), ...env });
  } finally {
    if (files) await Deno.remove(files, { recursive: true }).catch(() => {});
  }
}

/**
 * The workflow's parameters as `PARAM_<NAME>` (upper-cased): text as it
 * is, numbers and booleans as JSON writes them (`5`, `2.5`, `true`).
 */
export function paramEnvironment(workflow: Workflow): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(workflow.params ?? {})) {
    env[paramVariable(name)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return env;
}

/**
 * The environment that carries a step's inputs: `INPUT_<STEP>` holds a
 * result that fits (Linux caps one variable at 128 KiB), else
 * `INPUT_<STEP>_FILE` names a file holding it, in a directory of the
 * step's own (`files`, removed when the step ends). The largest go to
 * files first, until all that stay fit together.
 */
export async function inputEnvironment(
  stepName: string,
  inputsByName: ReadonlyMap<string, JsonText>,
): Promise<{ env: Record<string, string>; files?: string }> {
  const encoder = new TextEncoder();
  const sized = [...inputsByName].map(([dep, json]) => {
    const name = inputVariable(dep);
    return {
      dep,
      json,
      name,
      bytes: encoder.encode(name).length + 1 + encoder.encode(json).length,
    };
  }).sort((a, b) => a.bytes - b.bytes);
  const names = new Map(sized.map((input) => [input.name, input.dep]));
  const env: Record<string, string> = {};
  let files: string | undefined;
  let total = 0;
  for (const input of sized) {
    if (input.bytes <= MAX_ENV_BYTES && total + input.bytes <= MAX_ENV_TOTAL_BYTES) {
      total += input.bytes;
      env[input.name] = input.json;
      continue;
    }
    const fileVariable = `${input.name}_FILE`;
    const clash = names.get(fileVariable);
    if (clash !== undefined) {
      throw new StepError(
        `step '${stepName}' (shell): the result of '${input.dep}' is too large for ` +
          `${input.name} and goes to a file named by ${fileVariable}, but that is also ` +
          `the variable of its dependency '${clash}'; rename one of the two steps`,
      );
    }
    files ??= await Deno.makeTempDir({ prefix: "hwfe-inputs-" });
    const path = `${files}/${input.name}.json`;
    await Deno.writeTextFile(path, input.json, { mode: 0o600 });
    env[fileVariable] = path;
  }
  return { env, files };
}

async function runBash(ctx: StepContext, env: Record<string, string>): Promise<JsonText> {
  const { step } = ctx;
  // A memory limit, when the step or the run sets one: RLIMIT_DATA caps what
  // bash and its commands allocate (not address space they only reserve).
  const limit = ctx.memoryMb === undefined
    ? ""
    : `ulimit -d ${Math.floor(ctx.memoryMb * 1024)} || exit 125; `;
  const dependencies = `__hwfe_dependencies=${
    shellQuote([...ctx.inputsByName.keys()].join(", "))
  }; `;
  const script = limit + dependencies + PRELUDE + (step.code ?? "") + EPILOGUE;
  const processes = trackStepProcesses();
  let child: Deno.ChildProcess;
  try {
    // A session and process group of its own, killed as a whole.
    child = await spawnBash(["-c", script, `hwfe:${step.name}`], { ...env, ...processes.env });
  } catch (error) {
    await processes.stop(undefined);
    throw new StepError(
      `step '${step.name}' (shell): cannot start bash: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  const abort = abortOf(ctx.signal);
  const stdout = collect(child.stdout, (text) => ctx.write("stdout", text));
  const stderr = collect(child.stderr, (text) => ctx.write("stderr", text), true);
  try {
    // The step ends when bash exits or the step is stopped, whoever holds
    // its pipes: a background process may keep them open for hours.
    const status = await Promise.race([child.status, abort.aborted.then(() => undefined)]);
    // Whatever the step started goes now, whichever group or session it
    // moved to; bash too, when stopped. That also closes the pipes they held.
    await processes.stop(child.pid);
    killGroup(child.pid);
    const pipes = Promise.all([stdout.text, stderr.text]);
    if (status !== undefined && !ctx.signal.aborted) {
      await waitAtMost(PIPES_GRACE_MS, Promise.race([pipes, abort.aborted]));
    }
    stdout.cancel();
    stderr.cancel();
    const [out, err] = await pipes;
    if (status === undefined || ctx.signal.aborted) {
      await child.status; // killed above
      throw new StepError(`step '${step.name}' was interrupted`);
    }
    if (!status.success) {
      const tail = err.trim().split("\n").slice(-STDERR_TAIL_LINES).join("\n");
      const how = status.signal
        ? `was killed by ${status.signal}`
        : `exited with code ${status.code}`;
      // The line of the command that failed, when it is one of the step's (not the epilogue's).
      const line = stderr.line();
      const where = line !== undefined && line <= (step.code ?? "").split("\n").length
        ? ` at ${stepLine(step, ctx.workflow, line)}`
        : "";
      throw new StepError(
        `step '${step.name}' (shell) ${how}${where}${tail ? `:\n${tail}` : ""}`,
      );
    }
    return shellResult(out, err, status.code, step.result);
  } finally {
    abort.dispose();
  }
}

/** What a shell step needs: `--allow-run`, since a shell can do anything the user can. */
export const shellChecks: StepChecks = {
  needs: () => [{ grant: "run", flag: "--allow-run" }],
};

/** The shell runner. */
export const shellRunner: CheckingRunner = {
  ...shellChecks,
  language: "shell",
  checkSyntax: (steps) => shellSyntax(steps),
  run: runShell,
  close: closeReaper,
};

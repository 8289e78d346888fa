/**
 * Lines of shell steps: parsing them with `bash -n` (which reads a script
 * and runs none of it), and the line a failing step's command was on,
 * which bash reports through an ERR trap (`set -E` makes functions and
 * subshells inherit it) and an EXIT trap that writes it to stderr behind a
 * marker; the marker's line is taken out of the step's output.
 *
 * @module
 */

import type { Step } from "../workflow/model.ts";
import type { SyntaxProblem } from "./syntax.ts";

/** What the EXIT trap writes before the line of the command that failed. */
export const LINE_MARKER = "__hwfe_failed_at_line=";

/**
 * The traps, as part of the one line before the step's code: the ERR trap
 * notes the line of each command that fails, and the EXIT trap writes the
 * last one noted when bash exits with a failure.
 */
export const LINE_TRAPS = `__hwfe_line=; trap '__hwfe_line=$LINENO' ERR; ` +
  `trap '__hwfe_status=$?; if [ "$__hwfe_status" -ne 0 ] && [ -n "$__hwfe_line" ]; then ` +
  `printf "%s%s\\n" "${LINE_MARKER}" "$__hwfe_line" >&2; fi' EXIT; `;

/**
 * Takes the marker's line out of a stream of text and keeps the line it
 * names; passes the rest on. A marker split across chunks is held back
 * until it is whole.
 */
export class MarkerFilter {
  /** The line the last marker named. */
  line?: number;
  #held = "";
  constructor(readonly forward: (text: string) => void) {}

  push(text: string): void {
    let all = this.#held + text;
    this.#held = "";
    for (let at = all.indexOf(LINE_MARKER); at >= 0; at = all.indexOf(LINE_MARKER)) {
      const end = all.indexOf("\n", at);
      if (end < 0) {
        this.#send(all.slice(0, at));
        this.#held = all.slice(at);
        return;
      }
      const named = all.slice(at + LINE_MARKER.length, end);
      if (/^\d{1,9}$/.test(named)) this.line = Number(named);
      this.#send(all.slice(0, at));
      all = all.slice(end + 1);
    }
    // The end may be the start of a marker still on its way.
    let keep = Math.min(all.length, LINE_MARKER.length - 1);
    while (keep > 0 && !LINE_MARKER.startsWith(all.slice(all.length - keep))) keep--;
    this.#send(all.slice(0, all.length - keep));
    this.#held = all.slice(all.length - keep);
  }

  /** Passes on what was held back: it was no marker after all. */
  end(): void {
    this.#send(this.#held);
    this.#held = "";
  }

  #send(text: string): void {
    if (text) this.forward(text);
  }
}

/** Runs `bash -n` over `script`; the first problem it reports, or undefined. */
async function bashSyntax(script: string): Promise<Omit<SyntaxProblem, "step"> | undefined> {
  const output = await new Deno.Command("bash", {
    args: ["-n", "-c", script, "hwfe"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (output.success) return undefined;
  const lines = new TextDecoder().decode(output.stderr).split("\n");
  const first = lines.findIndex((line) => /line \d+: /.test(line));
  if (first < 0) return { message: lines.join(" ").trim() || `bash -n exited with ${output.code}` };
  const [, line, message] = /line (\d+): (.*)$/.exec(lines[first])!;
  // bash quotes the line it stopped at: `fi fi'
  const quoted = /line \d+: `(.*)'$/.exec(lines[first + 1] ?? "");
  return {
    line: Number(line),
    message,
    ...(quoted ? { context: `    ${quoted[1]}` } : {}),
  };
}

/**
 * Parses shell steps with `bash -n`, running none of their code: all of
 * them in one bash first (one process, the common case of no mistake),
 * and only when that finds one, each alone, to tell which. Nothing when
 * hwfe may not start bash (a library user without `--allow-run`).
 */
export async function shellSyntax(steps: Step[]): Promise<SyntaxProblem[]> {
  const withCode = steps.filter((step) => step.code);
  if (withCode.length === 0) return [];
  try {
    if (Deno.permissions.querySync({ name: "run", command: "bash" }).state !== "granted") {
      return [];
    }
    if (withCode.length > 1) {
      const all = withCode.map((step) => step.code!.endsWith("\n") ? step.code : `${step.code}\n`);
      if (await bashSyntax(all.join("")) === undefined) return [];
    }
    const problems: SyntaxProblem[] = [];
    for (let i = 0; i < withCode.length; i += 8) {
      const batch = withCode.slice(i, i + 8);
      const found = await Promise.all(batch.map((step) => bashSyntax(step.code!)));
      found.forEach((problem, j) => problem && problems.push({ step: batch[j].name, ...problem }));
    }
    return problems;
  } catch {
    return []; // no bash here: the steps cannot run either, and say so when they do
  }
}

/**
 * Parsing steps' code without running it: what each language's runner
 * offers besides running (`checkSyntax`), and how a syntax error reads,
 * wherever it is found (before a run, or by the runtime as the step
 * runs): `syntax error at <step fetch> line 6 (flow.lua:16): ...`.
 *
 * Each runner parses with the runtime it runs on: Lua with the sandbox's
 * loader, JavaScript with QuickJS (compile only), TypeScript with esbuild
 * (the run's own transpiling), WebAssembly text with wabt, shell with
 * `bash -n`, Python with `compile()` on a Python worker (only when asked:
 * Python takes a while to start).
 *
 * @module
 */

import type { Runner } from "../engine/runner.ts";
import type { Step, Workflow } from "../workflow/model.ts";
import { stepLine } from "../workflow/code_lines.ts";

/** A step's code that does not parse. */
export interface SyntaxProblem {
  step: string;
  /** The line of the step's code (1-based), when the parser names one. */
  line?: number;
  /** The column (1-based), when the parser names one. */
  column?: number;
  /** What is wrong, in the parser's words, without the step or the line. */
  message: string;
  /** The code around the error, as the parser shows it (Python's caret). */
  context?: string;
}

/** What {@link CheckingRunner.checkSyntax} is told. */
export interface SyntaxOptions {
  /** Compile Python steps too, starting Python when it is not running. */
  python?: boolean;
  /** The run's memory limit for steps: the check takes the run's own workers. */
  memoryMb?: number;
  /** Stops the check (its problems are then incomplete). */
  signal?: AbortSignal;
  /** Told of each step the check left to its run (its parser took too long). */
  onUnchecked?(step: string): void;
  /**
   * The longest a slow parser (esbuild) is waited for before its steps are
   * left unchecked; a run waits a little (3 s), `hwfe validate` long.
   */
  waitMs?: number;
}

/** A runner that can also parse its steps' code without running it. */
export interface CheckingRunner extends Runner {
  /**
   * Parses `steps` (all of this runner's language) without running any;
   * resolves to those that do not parse. A step the parser cannot judge
   * (one that breaks the parser itself) is left for its run to report.
   */
  checkSyntax?(
    steps: Step[],
    workflow: Workflow,
    options: SyntaxOptions,
  ): Promise<SyntaxProblem[]>;
}

/** What a check job on a worker carries (in `WorkerJob.extra`). */
export interface CheckJob {
  check: { step: string; code: string }[];
}

/** Whether a job's extra asks for a syntax check. */
export function isCheckJob(extra: unknown): extra is CheckJob {
  return typeof extra === "object" && extra !== null &&
    Array.isArray((extra as { check?: unknown }).check);
}

/**
 * How a syntax error reads after the step's name and language:
 * `syntax error at <step a> line 2 (flow.lua:8), column 5: message`, with
 * the parser's context on the lines below.
 */
export function syntaxError(problem: SyntaxProblem, step: Step, workflow: Workflow): string {
  const at = problem.line === undefined
    ? ""
    : ` at ${stepLine(step, workflow, problem.line)}${
      problem.column === undefined ? "" : `, column ${problem.column}`
    }`;
  return `syntax error${at}: ${problem.message}${problem.context ? `\n${problem.context}` : ""}`;
}

/** The same for a worker's message, which knows no workflow file: `syntax error at <step a> line 2`. */
export function syntaxErrorText(problem: Omit<SyntaxProblem, "step">, stepName: string): string {
  const at = problem.line === undefined
    ? ""
    : ` at <step ${stepName}> line ${problem.line}${
      problem.column === undefined ? "" : `, column ${problem.column}`
    }`;
  return `syntax error${at}: ${problem.message}${problem.context ? `\n${problem.context}` : ""}`;
}

/**
 * A runtime's syntax error sent as JSON of its line, message and context
 * (Python's prelude), as messages show it; text that is not such JSON is
 * shown as it is.
 */
export function syntaxErrorFromJson(body: string, stepName: string): string {
  try {
    const { line, message, context } = JSON.parse(body);
    if (typeof message === "string") {
      return syntaxErrorText({
        message,
        ...(Number.isInteger(line) && line > 0 ? { line } : {}),
        ...(typeof context === "string" ? { context } : {}),
      }, stepName);
    }
  } catch { /* not such JSON */ }
  return `syntax error: ${body}`;
}

/**
 * A worker's answer to a check job, checked (workers are not trusted):
 * problems about the steps asked for only, each field of its type.
 */
export function checkedProblems(json: string, asked: Set<string>): SyntaxProblem[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error("the syntax check returned malformed JSON");
  }
  if (!Array.isArray(value)) throw new Error("the syntax check did not return a list");
  const whole = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n > 0;
  return value.map((item) => {
    const p = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    if (
      typeof p.step !== "string" || !asked.has(p.step) || typeof p.message !== "string" ||
      (p.line !== undefined && !whole(p.line)) || (p.column !== undefined && !whole(p.column)) ||
      (p.context !== undefined && typeof p.context !== "string")
    ) {
      throw new Error("the syntax check returned a malformed problem");
    }
    return {
      step: p.step,
      message: p.message.slice(0, 4096),
      ...(p.line !== undefined ? { line: p.line as number } : {}),
      ...(p.column !== undefined ? { column: p.column as number } : {}),
      ...(p.context !== undefined ? { context: (p.context as string).slice(0, 4096) } : {}),
    };
  });
}

/**
 * Checking a workflow without running it: whether every step can run as
 * declared (and with which grants), whether every step's code parses in
 * its language (runners/syntax.ts), and its plan.
 *
 * @module
 */

import { resolve } from "node:path";
import { CacheEntry, sha256OfText } from "../_util/cache.ts";
import { errorText, WorkflowError } from "../_util/errors.ts";
import type { Grants } from "../engine/grants.ts";
import { type Plan, planLevels } from "../workflow/plan.ts";
import { checkRunnable } from "../engine/scheduler.ts";
import type { Language, Step, Workflow } from "../workflow/model.ts";
import { fileLineOf } from "../workflow/code_lines.ts";
import { type Problem, problemsOf } from "../workflow/problems.ts";
import { StepHost } from "../host/pool.ts";
import { type CheckingRegistry, createRunners, stepChecks } from "../runners/mod.ts";
import { syntaxError, type SyntaxProblem } from "../runners/syntax.ts";

/**
 * Options of {@link validateWorkflow}.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type ValidateOptions, validateWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { a: { language: "shell", code: "true" } } });
 * const options: ValidateOptions = { grants: { run: true } };
 * validateWorkflow(workflow, options);
 * ```
 */
export interface ValidateOptions {
  /**
   * Also check that these grants cover every step (what {@link runWorkflow}
   * checks before it starts); without them only the languages are checked.
   */
  grants?: Partial<Grants>;
  /** The largest wasm module file a step may name, in bytes; default 256 MiB. */
  maxModuleBytes?: number;
}

/**
 * Checks, without running anything, that every step's language can run as
 * declared and, given `grants`, that the grants cover every step. Returns
 * the plan. Throws {@link WorkflowError} listing every step that cannot run,
 * or {@link PermissionError} naming the missing grants.
 *
 * @example Validate before running
 * ```ts
 * import { defineWorkflow, validateWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   name: "check",
 *   steps: { list: { language: "shell", code: "ls" } },
 * });
 * validateWorkflow(workflow); // the languages are fine
 * try {
 *   validateWorkflow(workflow, { grants: {} }); // but shell steps need `run`
 * } catch (error) {
 *   console.log((error as Error).message); // step 'list' (shell) needs grants: { run: true }
 * }
 * ```
 */
export function validateWorkflow(workflow: Workflow, options: ValidateOptions = {}): Plan {
  checkRunnable(
    workflow,
    stepChecks({ maxModuleBytes: options.maxModuleBytes }),
    options.grants && { run: false, ...options.grants },
  );
  return planWorkflow(workflow);
}

/**
 * The workflow's dependency levels: level 1 holds the steps without
 * dependencies, and each other step is one level below its deepest
 * dependency. Names are sorted inside each level.
 *
 * @example
 * ```ts
 * import { defineWorkflow, planWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: {
 *     fetch: { code: "function run() return 1 end" },
 *     parse: { code: "function run() return 2 end" },
 *     report: { depends_on: ["fetch", "parse"], code: "function run() return 3 end" },
 *   },
 * });
 * console.log(planWorkflow(workflow).levels); // [["fetch", "parse"], ["report"]]
 * ```
 */
export function planWorkflow(workflow: Workflow): Plan {
  return planLevels(workflow.steps.values());
}

/** Options of {@link checkCode} and {@link checkStepCode}. */
export interface CodeCheckOptions {
  /** Compile Python steps too, starting Python (hwfe validate --deep). */
  deep?: boolean;
  /**
   * hwfe's cache directory: which steps' code parsed is remembered there
   * (by its hash), so that unchanged code is not parsed again; undefined:
   * every step is parsed every time.
   */
  cacheDir?: string;
  /** The run's memory limit for steps: the check takes the run's own workers. */
  memoryMb?: number;
  /** Stops the check. */
  signal?: AbortSignal;
  /**
   * The longest a slow parser is waited for before its steps are left
   * unchecked: a run waits 3 s by default and says nothing, since each
   * step's run finds its errors anyway; given (`hwfe validate` waits
   * long), a warning names each step left unchecked.
   */
  waitMs?: number;
}

/** What {@link checkCode} found. */
export interface CodeCheck {
  /** Steps whose code does not parse, in the workflow's order of steps. */
  problems: Problem[];
  /** Checks that could not be made (a runtime that did not start), as sentences. */
  warnings: string[];
  /** Remembering the code that parsed: settles once written (never rejects). */
  saved: Promise<void>;
}

/** How long `hwfe validate` waits for a slow parser (esbuild on a busy machine). */
const VALIDATE_WAIT_MS = 60_000;

/** Most hashes of parsed code remembered per workflow file (about 35 bytes each). */
const MAX_REMEMBERED = 50_000;

/** The hash by which parsed code is remembered. */
function codeHash(step: Step): string {
  return sha256OfText(`${step.language}\0${step.code}`).slice(0, 32);
}

/** The cache entry that remembers which code of `workflow` parsed. */
function parsedEntry(workflow: Workflow, cacheDir: string): CacheEntry {
  const id = workflow.file ? resolve(workflow.file) : `workflow ${workflow.name}`;
  return new CacheEntry(`${cacheDir}/checks`, `${sha256OfText(id).slice(0, 16)}.parsed`, "v1");
}

async function rememberedHashes(entry: CacheEntry | undefined): Promise<string[]> {
  const blob = await entry?.read();
  if (!blob) return [];
  try {
    const list = JSON.parse(new TextDecoder().decode(blob.bytes));
    return Array.isArray(list) ? list.filter((h) => typeof h === "string") : [];
  } catch {
    return [];
  }
}

/**
 * The steps whose code is to be parsed, by language: one for each code
 * (steps made in a loop share theirs), none whose code parsed before.
 * `sameCode` gives, by hash, every step with that code.
 */
function toParse(workflow: Workflow, known: Set<string>, deep: boolean | undefined) {
  const byLanguage = new Map<Language, Step[]>();
  const sameCode = new Map<string, Step[]>();
  for (const step of workflow.steps.values()) {
    if (!step.code || (step.language === "python" && !deep)) continue;
    const hash = codeHash(step);
    if (known.has(hash)) continue;
    const same = sameCode.get(hash);
    if (same) {
      same.push(step);
      continue;
    }
    sameCode.set(hash, [step]);
    const steps = byLanguage.get(step.language);
    if (steps) steps.push(step);
    else byLanguage.set(step.language, [step]);
  }
  return { byLanguage, sameCode };
}

/**
 * Parses every step's code in its language with `runners`, running none
 * of it, in parallel across languages; Python only with `deep`. Code that
 * parsed before (remembered in `cacheDir`) is not parsed again, nor is
 * code that another step has too.
 */
export async function checkCode(
  workflow: Workflow,
  runners: CheckingRegistry,
  options: CodeCheckOptions = {},
): Promise<CodeCheck> {
  const entry = options.cacheDir === undefined
    ? undefined
    : parsedEntry(workflow, options.cacheDir);
  const remembered = await rememberedHashes(entry);
  const { byLanguage, sameCode } = toParse(workflow, new Set(remembered), options.deep);
  const hashOf = new Map([...sameCode].map(([hash, steps]) => [steps[0].name, hash]));
  const parsed = new Set(sameCode.keys());
  const warnings: string[] = [];
  const found = await Promise.all([...byLanguage].map(async ([language, steps]) => {
    try {
      return await runners.get(language)?.checkSyntax?.(steps, workflow, {
        python: options.deep,
        memoryMb: options.memoryMb,
        signal: options.signal,
        waitMs: options.waitMs,
        onUnchecked: (step) => {
          parsed.delete(hashOf.get(step)!);
          // A run goes on quietly: each step's run reports its own syntax error.
          if (options.signal?.aborted || options.waitMs === undefined) return;
          warnings.push(
            `step '${step}' (${language}): its code was not parsed (its parser took over ` +
              `${options.waitMs / 1000} s or failed); running it will report any syntax error`,
          );
        },
      }) ?? [];
    } catch (error) {
      warnings.push(`the ${language} code was not parsed: ${errorText(error)}`);
      for (const step of steps) parsed.delete(hashOf.get(step.name)!);
      return [];
    }
  }));
  // A problem of one step's code is that of every step with the same code.
  const problems = found.flat().flatMap((problem) => {
    const hash = hashOf.get(problem.step)!;
    parsed.delete(hash);
    return sameCode.get(hash)!.map((step) => ({ ...problem, step: step.name }));
  });
  const saved = entry && parsed.size && !options.signal?.aborted && entry.writable()
    ? entry.write(
      new TextEncoder().encode(
        JSON.stringify([...parsed, ...remembered].slice(0, MAX_REMEMBERED)),
      ),
    ).catch(() => {}) // best effort: the next run parses again
    : Promise.resolve();
  const order = new Map([...workflow.steps.keys()].map((name, i) => [name, i]));
  problems.sort((a, b) => order.get(a.step)! - order.get(b.step)!);
  return { problems: problems.map((p) => syntaxProblem(workflow, p)), warnings, saved };
}

/** A syntax problem as the workflow's problems say it: file, step, language, line. */
function syntaxProblem(workflow: Workflow, problem: SyntaxProblem): Problem {
  const step = workflow.steps.get(problem.step)!;
  const where = workflow.file ? `${workflow.file}: ` : "";
  const fileLine = problem.line === undefined ? undefined : fileLineOf(step, problem.line);
  return {
    message: `${where}step '${step.name}' (${step.language}): ${
      syntaxError(problem, step, workflow)
    }`,
    step: step.name,
    field: "code",
    ...(problem.line !== undefined ? { line: problem.line } : {}),
    ...(fileLine !== undefined ? { fileLine } : {}),
  };
}

/** What {@link checkWorkflow} found. */
export interface WorkflowCheck {
  /** The plan (the levels). */
  plan: Plan;
  /** Every problem: steps that cannot run as declared, code that does not parse. */
  problems: Problem[];
  /** Checks that could not be made. */
  warnings: string[];
}

/**
 * Everything `hwfe validate` checks of a loaded workflow: that every step
 * can run as declared ({@link validateWorkflow}) and that every step's
 * code parses (Python's only with `deep`), starting what runtimes the
 * parsing needs and stopping them after.
 */
export async function checkWorkflow(
  workflow: Workflow,
  options: ValidateOptions & CodeCheckOptions = {},
): Promise<WorkflowCheck> {
  const problems: Problem[] = [];
  try {
    validateWorkflow(workflow, options);
  } catch (error) {
    if (!(error instanceof WorkflowError)) throw error;
    problems.push(...problemsOf(error));
  }
  // Nothing else waits on validate: a slow parser is given its time.
  const code = await checkStepCode(workflow, { waitMs: VALIDATE_WAIT_MS, ...options });
  return {
    plan: planWorkflow(workflow),
    problems: [...problems, ...code.problems],
    warnings: code.warnings,
  };
}

/**
 * Parses every step's code without running it, on runtimes of its own
 * (stopped once done): {@link checkCode} for a workflow that is not being
 * run. Resolves once what parsed is remembered.
 */
export async function checkStepCode(
  workflow: Workflow,
  options: CodeCheckOptions = {},
): Promise<CodeCheck> {
  const host = new StepHost(1);
  const runners = createRunners(host, { cacheDir: options.cacheDir });
  try {
    const check = await checkCode(workflow, runners, options);
    await check.saved;
    return check;
  } finally {
    host.dispose();
    await Promise.all([...runners.values()].map((runner) => runner.close?.()));
  }
}

/**
 * The commands that run nothing: plan, graph, validate, list and config.
 *
 * @module
 */

import { type ResolvedConfig, SETTING_KEYS } from "../api/config.ts";
import { ExitCode, WorkflowError } from "../_util/errors.ts";
import { defaultCacheDir } from "../_util/cache.ts";
import { type Problem, problemsOf } from "../workflow/problems.ts";
import { formatPlan } from "../workflow/plan.ts";
import { graph, type GraphFormat } from "../workflow/graph.ts";
import { checkWorkflow, planWorkflow } from "../api/check.ts";
import { escapeTerminal } from "../_util/terminal_text.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import { out, p, warn, writeAll } from "./output.ts";
import { escapeJsonText } from "../_util/terminal_text.ts";
import { type CommonOptions, type JsonOptions, type ParamOptions, settingsFor } from "./flags.ts";

/** `hwfe validate`'s options. */
export interface ValidateOptions extends JsonOptions, ParamOptions {
  /** Compile Python steps too, starting Python when it is not warm. */
  deep?: boolean;
}
import { findWorkflow, load, workflowFiles } from "./workflows.ts";

export async function planCommand(
  arg: string,
  flags: JsonOptions & ParamOptions,
): Promise<number> {
  const { workflow } = await load(arg, await settingsFor(flags), flags.param);
  const plan = planWorkflow(workflow);
  if (!flags.json) {
    out(formatPlan(plan));
    return ExitCode.ok;
  }
  // fromEntries defines keys: a step named "__proto__" stays a step.
  const steps = Object.fromEntries(
    plan.levels.flat().map((name) => {
      const step = workflow.steps.get(name)!;
      return [name, {
        language: step.language,
        level: plan.levelOf.get(name),
        depends_on: step.dependsOn,
      }];
    }),
  );
  printJson({
    workflow: workflow.name,
    file: workflow.file ?? null,
    description: workflow.description ?? null,
    params: workflow.params ?? {},
    levels: plan.levels,
    steps,
  });
  return ExitCode.ok;
}

/** One JSON document on stdout; characters a terminal acts on are escaped. */
function printJson(value: unknown): void {
  writeAll(Deno.stdout, escapeJsonText(JSON.stringify(value, null, 2)) + "\n");
}

/** `hwfe graph`: the DAG as Mermaid, Graphviz DOT or a text tree. */
export async function graphCommand(
  arg: string,
  flags: CommonOptions & ParamOptions & { format: GraphFormat },
): Promise<number> {
  const { workflow } = await load(arg, await settingsFor(flags), flags.param);
  const text = graph(workflow, planWorkflow(workflow), flags.format);
  // Mermaid and DOT escape names for themselves; the tree goes to a terminal.
  out(
    flags.format === "text"
      ? text.split("\n").map((line) => escapeTerminal(line)).join("\n")
      : text,
  );
  return ExitCode.ok;
}

/**
 * `hwfe validate`: loads the workflow, checks that every step can run as
 * declared and that its code parses (Python's with --deep). Text: a line
 * when valid, else every problem as an error (exit 2). --json: one
 * document on stdout either way, exit 0 when valid and 2 when not.
 */
export async function validateCommand(arg: string, flags: ValidateOptions): Promise<number> {
  const config = await settingsFor(flags);
  const file = await findWorkflow(arg, config);
  const report = {
    file,
    workflow: null as string | null,
    valid: false,
    steps: 0,
    levels: [] as string[][],
    problems: [] as Problem[],
    warnings: [] as string[],
  };
  let pythonSteps = 0;
  try {
    const cacheDir = defaultCacheDir();
    const { workflow, warnings } = await loadWorkflowFile(file, { cacheDir, params: flags.param });
    report.workflow = workflow.name;
    report.steps = workflow.steps.size;
    report.warnings.push(...warnings);
    // Grants are checked by `run`; here whether every language can run its steps as written.
    const check = await checkWorkflow(workflow, {
      maxModuleBytes: config.settings.maxModuleMb * 1024 * 1024,
      deep: flags.deep,
      cacheDir,
    });
    report.levels = check.plan.levels;
    report.problems.push(...check.problems);
    report.warnings.push(...check.warnings);
    pythonSteps = [...workflow.steps.values()].filter((s) => s.language === "python").length;
  } catch (error) {
    if (!(error instanceof WorkflowError)) throw error;
    report.problems.push(...problemsOf(error));
  }
  report.valid = report.problems.length === 0;
  if (flags.json) {
    printJson({
      ...report,
      // In the order of the fields that say what a problem is about, then what it is.
      problems: report.problems.map(({ step, field, line, fileLine, message }) => ({
        ...(step !== undefined ? { step } : {}),
        ...(field !== undefined ? { field } : {}),
        ...(line !== undefined ? { line } : {}),
        ...(fileLine !== undefined ? { file_line: fileLine } : {}),
        message,
      })),
    });
    return report.valid ? ExitCode.ok : ExitCode.usage;
  }
  for (const warning of report.warnings) warn(warning);
  if (!report.valid) throw new WorkflowError(report.problems.map((problem) => problem.message));
  out(
    `${p.green("✓")} ${escapeTerminal(file)}: ` +
      `workflow '${escapeTerminal(report.workflow ?? "")}' is valid ` +
      `(${counted(report.steps, "step")} in ${counted(report.levels.length, "level")})`,
  );
  if (pythonSteps > 0 && !flags.deep) {
    out(p.dim("  Python steps' code not compiled: --deep compiles it (starting Python)"));
  }
  return ExitCode.ok;
}

/** `1 step`, `2 steps`. */
function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

export async function listCommand(
  flags: JsonOptions & { names?: boolean },
): Promise<number> {
  const config = await settingsFor(flags);
  const dir = config.settings.workflowsDirectory;
  const files = await workflowFiles(config);
  if (flags.names) {
    // Names as `hwfe run <name>` takes them; none is loaded, so completion stays quick.
    for (const name of files) out(escapeTerminal(name.replace(/\.lua$/, "")));
    return ExitCode.ok;
  }
  if (flags.json) {
    const entries = [];
    for (const name of files) {
      const path = `${dir}/${name}`;
      try {
        const { workflow } = await loadWorkflowFile(path);
        entries.push({
          file: name,
          path,
          name: workflow.name,
          description: workflow.description ?? null,
          steps: workflow.steps.size,
          valid: true,
        });
      } catch (error) {
        entries.push({ file: name, path, valid: false, error: (error as Error).message });
      }
    }
    printJson({ directory: dir, workflows: entries });
    return ExitCode.ok;
  }
  if (files.length === 0) {
    out(`No workflows (*.lua) in '${escapeTerminal(dir)}'`);
    return ExitCode.ok;
  }
  const rows: [string, string][] = [];
  for (const name of files) {
    try {
      const { workflow } = await loadWorkflowFile(`${dir}/${name}`);
      rows.push([escapeTerminal(name), escapeTerminal(workflow.description ?? "")]);
    } catch (error) {
      const why = escapeTerminal((error as Error).message.split("\n")[0]);
      rows.push([escapeTerminal(name), p.red(`invalid: ${why}`)]);
    }
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, description] of rows) out(`${name.padEnd(width)}  ${description}`.trimEnd());
  return ExitCode.ok;
}

export async function configCommand(flags: JsonOptions): Promise<number> {
  const config = await settingsFor(flags);
  if (flags.json) {
    const settings = Object.fromEntries(
      Object.entries(SETTING_KEYS).map(([setting, key]) => [key, {
        value: config.settings[setting as keyof ResolvedConfig["settings"]],
        source: config.sources[setting as keyof ResolvedConfig["sources"]],
      }]),
    );
    printJson({ file: config.file ?? null, cpus: navigator.hardwareConcurrency, settings });
    return ExitCode.ok;
  }
  out(`Configuration file: ${escapeTerminal(config.file ?? "none (defaults apply)")}`);
  const rows = Object.entries(SETTING_KEYS).map(([setting, key]) => {
    const value = config.settings[setting as keyof ResolvedConfig["settings"]];
    let shown = String(value);
    if (setting === "maxParallelSteps" && value === 0) {
      shown = `0 (= ${navigator.hardwareConcurrency} CPUs)`;
    }
    const source = config.sources[setting as keyof ResolvedConfig["sources"]];
    return [key, escapeTerminal(shown), escapeTerminal(source)];
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [key, value, source] of rows) {
    out(`${key.padEnd(w0)}  ${value.padEnd(w1)}  ${p.dim(`(${source})`)}`);
  }
  return ExitCode.ok;
}

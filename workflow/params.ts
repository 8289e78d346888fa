/**
 * A workflow's parameters: `workflow.params = { region = "us", n = 3 }`
 * declares them with their defaults, `--param name=value` gives a value
 * as text, typed by the default's type (number, boolean or string). The
 * workflow file reads them as `params` while it is evaluated
 * (lua/_params.ts asks {@link paramLookup}), and every step gets the
 * resolved values ({@link Workflow.params}).
 *
 * @module
 */

import { didYouMean } from "../_util/errors.ts";
import type { Findings } from "./_check_step.ts";
import { sink } from "./_check_step.ts";
import { isTable, shown, typeName } from "./_values.ts";
import type { ParamValue } from "./model.ts";

/**
 * Parameter values as given on the command line (`--param name=value`):
 * text, typed by each parameter's default when the workflow is loaded.
 *
 * @example
 * ```ts
 * import { type GivenParams, parseWorkflowSource } from "../mod.ts";
 *
 * const given: GivenParams = { n: "2" };
 * const { workflow } = await parseWorkflowSource(
 *   "workflow = { params = { n = 1 }, steps = { a = { code = 'function run() end' } } }",
 *   "p.lua",
 *   { params: given },
 * );
 * console.log(workflow.params); // { n: 2 }
 * ```
 */
export type GivenParams = Readonly<Record<string, string>>;

/** What a parameter may be named: a Lua, Python and JavaScript identifier. */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The environment variable a shell step reads a parameter from. */
export function paramVariable(name: string): string {
  return `PARAM_${name.toUpperCase()}`;
}

const TRUE = ["true", "1", "yes", "on"];
const FALSE = ["false", "0", "no", "off"];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** What a default's type is called in messages. */
function kind(value: ParamValue): string {
  return typeof value === "number" ? "a number" : typeof value === "boolean" ? "a boolean" : "text";
}

/**
 * `text` as a value of the type of `fallback` (the parameter's default);
 * throws an Error naming the parameter, the value and the type expected.
 */
export function typedParam(name: string, text: string, fallback: ParamValue): ParamValue {
  if (typeof fallback === "string") return text;
  const trimmed = text.trim();
  if (typeof fallback === "number") {
    const value = Number(trimmed);
    if (NUMBER.test(trimmed) && Number.isFinite(value)) return value;
  } else {
    const lower = trimmed.toLowerCase();
    if (TRUE.includes(lower)) return true;
    if (FALSE.includes(lower)) return false;
  }
  const hint = typeof fallback === "number"
    ? "a number such as 3 or 2.5"
    : "true or false (or yes/no, on/off, 1/0)";
  throw new Error(
    `--param ${name}=${shown(text)}: parameter '${name}' takes ${kind(fallback)} ` +
      `(its default is ${JSON.stringify(fallback)}), got '${shown(text)}'; give ${hint}`,
  );
}

/**
 * Parses one `--param name=value` argument, adding it to those given
 * before; a parameter given twice takes the later value (so a script may
 * pass defaults of its own and a user override them).
 */
export function addParamArg(arg: string, previous: GivenParams = {}): GivenParams {
  const at = arg.indexOf("=");
  if (at < 0) {
    throw new Error(`--param ${shown(arg)}: give a value, as --param ${shown(arg)}=VALUE`);
  }
  const name = arg.slice(0, at);
  if (!PARAM_NAME.test(name)) {
    throw new Error(
      `--param ${shown(arg)}: '${shown(name)}' is not a parameter name ` +
        `(letters, digits and _, not starting with a digit)`,
    );
  }
  return { ...previous, [name]: arg.slice(at + 1) };
}

/** The problem with a given parameter `name` the workflow does not declare. */
function unknownParam(name: string, given: string, declared: string[], workflow: string): string {
  if (declared.length === 0) {
    return `--param ${name}=${shown(given)}: workflow '${shown(workflow)}' declares no ` +
      `parameters (declare one with workflow.params = { ${name} = <default> })`;
  }
  return `--param ${name}=${shown(given)}: workflow '${shown(workflow)}' has no parameter ` +
    `'${name}'${didYouMean(name, declared)}; its parameters: ${declared.join(", ")}`;
}

/**
 * The value of parameter `name` while the workflow file is evaluated, as
 * JSON text, given the declarations as they stand (`declaredJson`, the
 * JSON of `workflow.params`, or undefined before the file set one).
 * Answers "V<json>", or "E<message>" for the file to raise.
 */
export function paramLookup(
  given: GivenParams,
): (name: string, declaredJson?: string) => string {
  return (name, declaredJson) => {
    const declared = declaredJson === undefined ? undefined : JSON.parse(declaredJson);
    if (!isTable(declared)) {
      return `Eparams.${shown(name)} is read before workflow.params declares it: set ` +
        `workflow = { params = { ... }, ... } first, then build the steps that use it`;
    }
    if (!Object.hasOwn(declared, name)) {
      return `Eparams.${shown(name)}: workflow.params declares no '${shown(name)}'${
        didYouMean(name, Object.keys(declared))
      }`;
    }
    const fallback = declared[name] as ParamValue;
    if (!Object.hasOwn(given, name) || !isParamValue(fallback)) {
      return `V${JSON.stringify(fallback ?? null)}`;
    }
    try {
      return `V${JSON.stringify(typedParam(name, given[name], fallback))}`;
    } catch (error) {
      return `E${(error as Error).message}`;
    }
  };
}

function isParamValue(value: unknown): value is ParamValue {
  return typeof value === "string" || typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value));
}

/**
 * Checks `workflow.params` (names and default values) and resolves the
 * values: each given one typed by its default, the rest the defaults.
 * Problems go to `found`; returns undefined when the workflow declares
 * none and none was given.
 */
export function checkParams(
  raw: unknown,
  given: GivenParams,
  workflowName: string,
  found: Findings,
): Record<string, ParamValue> | undefined {
  const { where } = found;
  const problems = sink(found, undefined, "params");
  // `params = {}` arrives as an empty list.
  const declared = Array.isArray(raw) && raw.length === 0 ? {} : raw;
  if (declared !== undefined && !isTable(declared)) {
    problems.push(
      `${where}workflow.params must be a table of name = default, got ${typeName(raw)}`,
    );
    return undefined;
  }
  const values: Record<string, ParamValue> = {};
  const variables = new Map<string, string>();
  for (const [name, value] of Object.entries(declared ?? {})) {
    const at = `${where}workflow.params.${shown(name)}`;
    if (!PARAM_NAME.test(name)) {
      problems.push(
        `${where}workflow.params: '${shown(name)}' is not a parameter name ` +
          `(letters, digits and _, not starting with a digit)`,
      );
      continue;
    }
    if (!isParamValue(value)) {
      problems.push(
        `${at}: a default must be a number, a boolean or a string, got ${typeName(value)}`,
      );
      continue;
    }
    if (typeof value === "string" && value.includes("\0")) {
      problems.push(`${at}: the default holds a NUL character, which shell steps cannot be given`);
      continue;
    }
    const variable = paramVariable(name);
    const clash = variables.get(variable);
    if (clash !== undefined) {
      problems.push(
        `${where}workflow.params: '${clash}' and '${name}' are both ${variable} in shell ` +
          `steps; rename one of them`,
      );
    }
    variables.set(variable, name);
    values[name] = value;
  }
  const names = Object.keys(values).sort();
  for (const [name, text] of Object.entries(given)) {
    if (!Object.hasOwn(values, name)) {
      const known = declared !== undefined && Object.hasOwn(declared, name);
      if (!known) problems.push(where + unknownParam(name, text, names, workflowName));
      continue;
    }
    try {
      values[name] = typedParam(name, text, values[name]);
    } catch (error) {
      problems.push(where + (error as Error).message);
    }
  }
  return declared === undefined && names.length === 0 ? undefined : sorted(values);
}

/** The values by name, in name order. */
function sorted(values: Record<string, ParamValue>): Record<string, ParamValue> {
  return Object.fromEntries(Object.keys(values).sort().map((name) => [name, values[name]]));
}

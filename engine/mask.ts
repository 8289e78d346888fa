/**
 * Secrets are masked: the values of secret environment variables a run's
 * steps can read appear as `***` in every text the run reports, so that
 * the terminal, the live view, `--json`, the HTML report and the history
 * (all made from the run's events) never show them.
 *
 * Which values: a variable is a secret when its name holds TOKEN, SECRET,
 * PASSWORD, PASSWD, KEY or CREDENTIAL (in any case) or is named in
 * `RunOptions.secrets` (`--secret NAME`). A keyword-named variable is
 * masked when a step can read it: the run grants it (`--allow-env`, not
 * `--deny-env`) and a step declares it, or the run allows shell steps
 * (`--allow-run`), which inherit hwfe's whole environment. A variable named
 * in `secrets` is masked whether granted or not. The values are read once,
 * when the run starts, from hwfe's environment: the same values steps get.
 *
 * What is masked: each line of a step's output, once whole (a secret
 * written in two pieces is masked; one that spans two lines is not), and a
 * last line without a newline; every error of a step; and the strings (and
 * keys) inside a step's result, the JSON staying valid. A dependent step
 * still gets the real result: masking is for what people see. A value
 * holding newlines is masked line by line, each line of it a secret.
 * Values shorter than {@link MIN_SECRET_LENGTH} characters are not masked
 * (they would hide common text); the run warns about each one named or
 * declared by a step.
 *
 * Masking stops accidents, not a hostile step: a step granted a secret can
 * print it reversed, encoded or a character at a time.
 *
 * @module
 */

import { isRawJson, type JsonText, parseJsonExact } from "../_util/json.ts";
import { covers, type Grants } from "./grants.ts";
import type { Workflow } from "../workflow/model.ts";

/** What a secret's value becomes. */
export const MASK = "***";

/** Shortest value masked: shorter ones would hide common text. */
export const MIN_SECRET_LENGTH = 4;

/** Names of variables that are secrets by name. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/i;

/** Whether an environment variable's name marks it as a secret (TOKEN, KEY, ...). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Reads one variable; undefined when unset or not readable by hwfe. */
function readVariable(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** hwfe's whole environment, or undefined without permission to read it all. */
function readEnvironment(): Record<string, string> | undefined {
  try {
    return Deno.env.toObject();
  } catch {
    return undefined;
  }
}

/** A run's secrets: the values to mask, and the secret variables too short to be. */
export interface Secrets {
  /** Values to mask (each line of a multi-line value), distinct, longest first. */
  values: string[];
  /**
   * Names of secret variables named or declared by a step whose value (or
   * a line of it) is too short to mask; not those only shell steps inherit.
   */
  short: string[];
}

/**
 * The secrets of a run (see the module's doc): `named` are the names given
 * as secrets (`--secret`); `read` reads a variable, `readAll` the whole
 * environment (undefined when not allowed), injectable for tests.
 */
export function runSecrets(
  workflow: Workflow,
  grants: Grants,
  named: readonly string[] = [],
  read: (name: string) => string | undefined = readVariable,
  readAll: () => Record<string, string> | undefined = readEnvironment,
): Secrets {
  // Named or declared: the run warns when one is too short to mask.
  const declared = new Set(named);
  const granted = (name: string) =>
    covers(grants.env?.allow, name) && !covers(grants.env?.deny, name);
  for (const step of workflow.steps.values()) {
    for (const name of step.permissions.env) {
      if (isSecretName(name) && granted(name)) declared.add(name);
    }
  }
  // Shell steps inherit the whole environment.
  const whole = grants.run ? readAll() : undefined;
  const names = new Set(declared);
  for (const name of Object.keys(whole ?? {})) if (isSecretName(name)) names.add(name);
  const values = new Set<string>();
  const short: string[] = [];
  for (const name of [...names].sort()) {
    const value = whole?.[name] ?? read(name);
    if (!value) continue;
    const lines = value.split(/\r?\n/).filter((line) => line.length > 0);
    const tooShort = lines.some((line) => line.length < MIN_SECRET_LENGTH);
    if (tooShort && declared.has(name)) short.push(name);
    for (const line of lines) if (line.length >= MIN_SECRET_LENGTH) values.add(line);
  }
  return { values: [...values].sort((a, b) => b.length - a.length), short };
}

/**
 * Replaces secret values in text with `***`.
 *
 * Every character that belongs to an occurrence of any value is hidden,
 * so overlapping secrets leave no piece of either; a run of hidden
 * characters becomes one `***`.
 */
export class Masker {
  readonly #values: readonly string[];
  /** Each value as it appears inside a JSON string. */
  readonly #escaped: readonly string[];

  constructor(values: readonly string[]) {
    this.#values = values.filter((value) => value.length > 0);
    this.#escaped = this.#values.map((value) => JSON.stringify(value).slice(1, -1));
  }

  /** Whether there is anything to mask. */
  get active(): boolean {
    return this.#values.length > 0;
  }

  /** `text` with every secret value replaced by `***`. */
  text(text: string): string {
    if (!this.#values.length) return text;
    let hidden: [number, number][] | undefined;
    for (const value of this.#values) {
      for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
        (hidden ??= []).push([at, at + value.length]);
      }
    }
    if (!hidden) return text;
    hidden.sort((a, b) => a[0] - b[0]);
    let out = "";
    let runEnd = -1; // the end of the run of hidden characters so far
    for (const [start, end] of hidden) {
      if (runEnd >= 0 && start <= runEnd) {
        runEnd = Math.max(runEnd, end);
      } else {
        out += text.slice(Math.max(runEnd, 0), start) + MASK;
        runEnd = end;
      }
    }
    return out + text.slice(runEnd);
  }

  /**
   * JSON text (as `JSON.stringify` writes it) with every secret in its
   * strings and keys replaced by `***`: still valid JSON, its numbers
   * exact. Two keys of an object that become the same keep the last.
   */
  json(text: JsonText): JsonText {
    if (!this.#escaped.some((value) => text.includes(value))) return text;
    return JSON.stringify(this.#value(parseJsonExact(text)));
  }

  #value(value: unknown): unknown {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.#value(item));
    if (value === null || typeof value !== "object" || isRawJson(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [this.text(key), this.#value(item)]),
    );
  }
}

/**
 * Seeded mutation fuzzing of workflow and configuration files, shared by
 * tests/fuzz_test.ts (a fixed seed, in the suite) and scripts/fuzz.ts (long
 * runs). A mutated input must either load or fail with hwfe's own error
 * (HwfeError: a clear message and exit 2), never anything else.
 */

import { resolveConfig } from "../api/config.ts";
import { HwfeError } from "../_util/errors.ts";
import { parseWorkflowSource } from "../workflow/load.ts";

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  "{",
  "}",
  "[[",
  "]]",
  "=",
  ",",
  '"',
  "'",
  "nil",
  "true",
  "false",
  "0",
  "-1",
  "1e309",
  "0/0",
  "9223372036854775807",
  "steps",
  "depends_on",
  "language",
  "code",
  "timeout",
  "retries",
  "retry_delay",
  "continue_on_error",
  "module",
  "func",
  "python",
  "wasm",
  "shell",
  "lua",
  "é",
  "\u0000",
  "\uFFFF",
  "--",
  "\n",
  "{ }",
  "{ 1, 2 }",
  "function() end",
  "setmetatable({}, {})",
  "workflow",
  "name",
  "local x = ",
  "return",
  "string.rep('x', 10)",
  "memory_mb",
  "permissions",
  "permissions = { read = { 'data' } }",
  "permissions = { net = { 'a.com:99999' }, write = { '' } }",
  "env = { 'HOME' }",
  "read",
  "net",
  "'../..'",
];

/** One random edit of `text`. */
export function mutate(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  const span = Math.floor(random() * 12);
  const token = TOKENS[Math.floor(random() * TOKENS.length)];
  switch (Math.floor(random() * 7)) {
    case 0: // delete a span
      return text.slice(0, at) + text.slice(at + span);
    case 1: // insert a token
      return text.slice(0, at) + token + text.slice(at);
    case 2: // replace a span with a token
      return text.slice(0, at) + token + text.slice(at + span);
    case 3: { // duplicate a line
      const lines = text.split("\n");
      const i = Math.floor(random() * lines.length);
      lines.splice(i, 0, lines[i]);
      return lines.join("\n");
    }
    case 4: { // drop a line
      const lines = text.split("\n");
      lines.splice(Math.floor(random() * lines.length), 1);
      return lines.join("\n");
    }
    case 5: // a random character
      return text.slice(0, at) + String.fromCharCode(Math.floor(random() * 0x3000)) +
        text.slice(at + 1);
    default: // truncate
      return text.slice(0, at);
  }
}

/** `text` after 1 to `most` random edits. */
export function mutated(text: string, random: () => number, most = 4): string {
  let out = text;
  for (let i = 1 + Math.floor(random() * most); i > 0; i--) out = mutate(out, random);
  return out;
}

/** What one fuzz case came to: loaded, refused with hwfe's error, or a bug. */
export type FuzzOutcome = "loaded" | "refused" | { bug: string };

/** Loads a mutated workflow file. */
export async function fuzzWorkflow(source: string): Promise<FuzzOutcome> {
  try {
    await parseWorkflowSource(source, "fuzz.lua", { timeoutMs: 2000 });
    return "loaded";
  } catch (error) {
    if (error instanceof HwfeError && error.exitCode === 2 && error.message.includes("fuzz.lua")) {
      return "refused";
    }
    return { bug: `${error instanceof Error ? error.stack : error}` };
  }
}

/** Resolves a mutated configuration file of the given kind. */
export async function fuzzConfig(text: string, kind: "toml" | "json" | "yaml"): Promise<
  FuzzOutcome
> {
  const path = `config.${kind}`;
  try {
    await resolveConfig({
      configPath: path,
      env: {},
      flags: {},
      readTextFile: (p) => Promise.resolve(p === path ? text : undefined),
    });
    return "loaded";
  } catch (error) {
    if (error instanceof HwfeError && error.exitCode === 2 && error.message.includes(path)) {
      return "refused";
    }
    return { bug: `${error instanceof Error ? error.stack : error}` };
  }
}

/** Seed configuration files, one per format. */
export const CONFIG_SEEDS: Record<"toml" | "json" | "yaml", string> = {
  toml:
    `[execution]\nmode = "parallel"\nmax_parallel_steps = 4\nenable_step_parallelism = false\n` +
    `[workflows]\ndirectory = "workflows"\n`,
  json: `{"execution": {"mode": "parallel", "max_parallel_steps": 4}, ` +
    `"workflows": {"directory": "workflows"}}`,
  yaml: `execution:\n  mode: parallel\n  max_parallel_steps: 4\nworkflows:\n  directory: flows\n`,
};

/**
 * What a step child's stderr tells the user when the child dies: Deno's
 * own words in full (its first line is rarely the cause), and, when Deno's
 * cache lacked something the child had to load, what is missing and the
 * command that fills the cache.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { shellQuote } from "../_util/quote.ts";

/** Most lines of a child's stderr that a step's error quotes. */
const MAX_LINES = 20;
/** Longest line quoted, in characters. */
const MAX_LINE = 400;

/**
 * The meaningful lines of a child's stderr: without colour codes, blank
 * lines, repeats or a Rust backtrace, each trimmed, at most
 * {@link MAX_LINES} (the rest counted), joined by newlines.
 */
export function stderrCause(stderr: string): string {
  const lines: string[] = [];
  for (const raw of stripVTControlCharacters(stderr).split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "Stack backtrace:") break; // Deno's internals, never the cause
    if (!line || lines.includes(line)) continue;
    lines.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}...` : line);
  }
  const more = lines.length - MAX_LINES;
  return more > 0
    ? [...lines.slice(0, MAX_LINES), `... ${more} more line${more > 1 ? "s" : ""}`].join("\n")
    : lines.join("\n");
}

/** Where the child's Deno looked, for telling the user how to fill it. */
export interface ChildGraphSource {
  /** The program whose module graph the child loads (`Deno.mainModule`). */
  mainModule: string;
  /** The Deno configuration (whose lockfile the child reads) or lockfile of the child; none without. */
  lockfile?: string;
  /** `DENO_DIR`, when set. */
  denoDir?: string;
}

/**
 * When the child could not load what it needed from Deno's cache (it runs
 * with `--cached-only` and a frozen lockfile), what is missing and how to
 * fix it; otherwise undefined.
 */
export function missingFromCache(stderr: string, source: ChildGraphSource): string | undefined {
  const text = stripVTControlCharacters(stderr);
  const npm = /npm package not found in cache: "([^"]+)"/.exec(text);
  const module = /Specifier not found in cache: "([^"]+)"/.exec(text);
  const outdated = /The lockfile is out of date/.test(text);
  if (!npm && !module && !outdated) return undefined;
  const cache = source.denoDir ? `Deno's cache (DENO_DIR=${source.denoDir})` : "Deno's cache";
  const what = npm
    ? `the npm package '${npm[1]}' is not in ${cache}`
    : module
    ? `the module ${module[1]} is not in ${cache}`
    : `the lockfile (${source.lockfile}) does not list every package hwfe loads`;
  const main = source.mainModule.startsWith("file:")
    ? fileURLToPath(source.mainModule)
    : source.mainModule;
  const env = source.denoDir ? `DENO_DIR=${shellQuote(source.denoDir)} ` : "";
  return `${what}. hwfe's step processes never download anything: they load what the ` +
    `program that started them loaded, from the same cache and ${
      source.lockfile ? `lockfile (${source.lockfile})` : "registry data"
    }. Fill the cache (and the lockfile) with network access: ${env}deno cache ${shellQuote(main)}`;
}

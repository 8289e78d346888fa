/**
 * Where the run store lives: `HWFE_DATA_DIR`, else the platform's user
 * data directory plus `hwfe`; the database is `history.db` in it.
 *
 * @module
 */

import { envVar } from "../_util/env.ts";

/** The database's file name in the data directory. */
export const HISTORY_FILE = "history.db";

/**
 * The data directory: `HWFE_DATA_DIR`, else `$XDG_DATA_HOME/hwfe` (default
 * `~/.local/share/hwfe`) on Linux and other Unixes, `~/Library/Application
 * Support/hwfe` on macOS, `%APPDATA%\hwfe` on Windows. Undefined when none
 * can be found (no home directory).
 */
export function defaultDataDir(
  env: (name: string) => string | undefined = envVar,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  const explicit = env("HWFE_DATA_DIR");
  if (explicit) return explicit;
  if (os === "windows") {
    const appData = env("APPDATA");
    return appData ? `${appData}\\hwfe` : undefined;
  }
  const home = env("HOME");
  if (os === "darwin") return home ? `${home}/Library/Application Support/hwfe` : undefined;
  const xdg = env("XDG_DATA_HOME");
  if (xdg) return `${xdg}/hwfe`;
  return home ? `${home}/.local/share/hwfe` : undefined;
}

/** The database file in data directory `dir`. */
export function historyPath(dir: string): string {
  return `${dir}${dir.endsWith("/") || dir.endsWith("\\") ? "" : "/"}${HISTORY_FILE}`;
}

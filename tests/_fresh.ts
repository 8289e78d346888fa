/**
 * A fresh machine for tests about a first run: a copy of the repository
 * (the files a clone holds: tracked ones and new ones not ignored, so
 * uncommitted work is tested too), and empty Deno, hwfe and user caches.
 * A warm cache hides exactly the failures these tests look for, so they
 * never use the suite's own.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { ROOT } from "./_helpers.ts";

const decoder = new TextDecoder();

/** A copy of the repository and the environment that points every cache at an empty folder. */
export interface FreshMachine {
  /** Holds the copy (`hwfe/`) and the caches; removed by {@link FreshMachine.remove}. */
  root: string;
  /** The repository's copy. */
  repo: string;
  env: Record<string, string>;
  remove(): Promise<void>;
}

/** Copies the files a clone of the repository would hold into `dir`. */
async function copyRepository(dir: string): Promise<void> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT.pathname,
    stdout: "piped",
  }).output();
  assert.ok(listed.success, "git ls-files failed: the tests run from a git checkout");
  for (const file of decoder.decode(listed.stdout).split("\0").filter((f) => f)) {
    try {
      await Deno.mkdir(`${dir}/${dirname(file)}`, { recursive: true });
      await Deno.copyFile(new URL(file, ROOT), `${dir}/${file}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not yet committed
    }
  }
}

export async function freshMachine(): Promise<FreshMachine> {
  const root = await Deno.makeTempDir({ prefix: "hwfe-fresh-" });
  const repo = `${root}/hwfe`;
  await copyRepository(repo);
  return {
    root,
    repo,
    env: {
      NO_COLOR: "1",
      DENO_DIR: `${root}/deno`,
      HWFE_CACHE_DIR: `${root}/hwfe-cache`,
      XDG_CACHE_HOME: `${root}/xdg-cache`,
      HWFE_DATA_DIR: `${root}/hwfe-data`,
    },
    remove: () => Deno.remove(root, { recursive: true }),
  };
}

/** A loopback port with nothing listening on it: connections to it are refused. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Variables that send every network attempt of Deno to a closed port. */
export function offline(): Record<string, string> {
  const proxy = `http://127.0.0.1:${closedPort()}`;
  return {
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    NO_PROXY: "",
    no_proxy: "",
  };
}

/** Runs `command args` on the machine, in `cwd` (default: the repository's copy). */
export async function runOn(
  machine: FreshMachine,
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  // As from a shell: INIT_CWD (set when the suite runs under `deno task`)
  // would tell a nested `deno task` where "here" is.
  const { INIT_CWD: _, ...inherited } = Deno.env.toObject();
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? machine.repo,
    clearEnv: true,
    env: { ...inherited, ...machine.env, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  return { code: output.code, stdout, stderr, all: `${stdout}\n${stderr}` };
}

/** Asserts that Deno itself cannot reach the network with {@link offline}'s variables. */
export async function assertOffline(machine: FreshMachine, env: Record<string, string>) {
  const control = await runOn(machine, Deno.execPath(), [
    "eval",
    "await fetch('http://example.com/')",
  ], { env });
  assert.notEqual(control.code, 0, `a fetch got through the closed proxy:\n${control.all}`);
}

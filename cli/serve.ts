/**
 * `hwfe serve`: starts the server (server/app.ts) and stops it on SIGINT
 * or SIGTERM, once its runs are cancelled and recorded.
 *
 * @module
 */

import { ConfigError, ExitCode } from "../_util/errors.ts";
import { defaultCacheDir } from "../_util/cache.ts";
import denoJson from "../deno.json" with { type: "json" };
import { startServer } from "../server/app.ts";
import { StoreError } from "../store/store_error.ts";
import { dataDir } from "./history.ts";
import { grantsFrom, type RunFlags, settingsFor } from "./flags.ts";
import { err } from "./output.ts";

/** `hwfe serve`'s flags. */
export interface ServeFlags extends RunFlags {
  port?: number;
  host?: string;
  token?: string;
  maxRuns?: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export async function serveCommand(flags: ServeFlags): Promise<number> {
  const hostname = flags.host ?? "127.0.0.1";
  const token = flags.token ?? Deno.env.get("HWFE_TOKEN") ?? undefined;
  if (token !== undefined && token.length < 16) {
    throw new ConfigError(
      "serve: the token must be at least 16 characters (openssl rand -hex 16 makes one)",
    );
  }
  if (!LOOPBACK.test(hostname) && token === undefined) {
    throw new ConfigError(
      `serve: --host ${hostname} lets other machines in: give --token (or HWFE_TOKEN), which ` +
        `every API call must then carry`,
    );
  }
  const config = await settingsFor(flags);
  let server;
  try {
    server = await startServer({
      hostname,
      port: flags.port ?? 3000,
      token,
      maxRuns: flags.maxRuns ?? navigator.hardwareConcurrency,
      dataDir: dataDir(),
      workflowsDir: config.settings.workflowsDirectory,
      settings: config.settings,
      grants: grantsFrom(flags),
      secrets: flags.secret,
      version: denoJson.version,
      cacheDir: defaultCacheDir(),
      onWarning: (message) => err(`hwfe serve: ${message}`),
    });
  } catch (error) {
    if (error instanceof StoreError) throw new ConfigError(`serve: ${error.message}`);
    if (error instanceof Deno.errors.AddrInUse) {
      throw new ConfigError(`serve: port ${flags.port ?? 3000} is in use: give another --port`);
    }
    throw error;
  }
  err(`hwfe serve: listening on ${server.url}`);
  let code: number = ExitCode.ok;
  const stop = (signal: number) => () => {
    code = signal;
    err("hwfe serve: stopping: cancelling its runs");
    server.shutdown();
  };
  const onInt = stop(ExitCode.interrupted);
  const onTerm = stop(ExitCode.terminated);
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    await server.finished;
    await server.shutdown();
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
  err("hwfe serve: stopped");
  return code === ExitCode.interrupted || code === ExitCode.terminated ? ExitCode.ok : code;
}

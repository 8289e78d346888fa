/**
 * The runner registry: an explicit map from language to runner.
 * A language of the workflow format without an entry here cannot run yet.
 *
 * @module
 */

import type { StepHost } from "../lib/step_host.ts";
import type { Language } from "../lib/workflow.ts";
import { luaRunner } from "./lua.ts";
import { shellRunner } from "./shell.ts";
import type { Runner, RunnerRegistry } from "./types.ts";

export type { GrantNeed, Grants, Runner, RunnerRegistry, StepContext } from "./types.ts";

/** Creates the runners of every language this build supports. */
export function createRunners(host: StepHost): RunnerRegistry {
  return new Map<Language, Runner>([
    ["lua", luaRunner(host)],
    ["shell", shellRunner],
  ]);
}

/**
 * Grants: what a run allows (Deno-style `--allow-*` / `--deny-*` flags),
 * what a step declares (`permissions = { read, write, net, env }`), and
 * what the step gets: the intersection, never more.
 *
 * This module only decides (checking before a run: grant_check.ts).
 * Enforcement is by Deno: the worker (or child process) a step runs in
 * gets exactly its access as Deno permissions (host/pool.ts).
 *
 * Paths, in flags and in workflows, are relative to the directory hwfe runs
 * in, as Deno's own flags are. Hosts are `name` or `name:port`.
 *
 * @module
 */

import { isAbsolute, relative, resolve } from "node:path";
import type { Step } from "../workflow/model.ts";
import { hostWithin } from "../workflow/net_hosts.ts";

/**
 * A grant flag's value: "all" for the bare flag, else its list.
 *
 * @example
 * ```ts
 * import type { GrantList } from "../mod.ts";
 *
 * const hosts: GrantList = ["api.example.com", "127.0.0.1:8080"];
 * const everything: GrantList = "all";
 * ```
 */
export type GrantList = "all" | string[];

/**
 * An allow flag and the deny flag that wins over it.
 *
 * @example
 * ```ts
 * import type { GrantPair } from "../mod.ts";
 *
 * // like --allow-read=data --deny-read=data/secrets
 * const read: GrantPair = { allow: ["data"], deny: ["data/secrets"] };
 * ```
 */
export interface GrantPair {
  /** What is granted: "all", or names, paths or hosts. */
  allow: GrantList;
  /** What is refused even inside `allow` ([] for nothing). */
  deny: GrantList;
}

/**
 * What the run grants to steps. Nothing is granted by default, and a step
 * gets only the part of a grant it declares in `permissions`.
 *
 * @example
 * ```ts
 * import { defineWorkflow, type Grants, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({
 *   steps: {
 *     home: {
 *       language: "js",
 *       permissions: { env: ["HOME"] },
 *       code: "function run() { return typeof hwfe.env.HOME; }",
 *     },
 *   },
 * });
 * const grants: Grants = { run: false, env: { allow: ["HOME"], deny: [] } };
 * console.log((await runWorkflow(workflow, { grants })).steps[0].result); // "\"string\""
 * ```
 */
export interface Grants {
  /** `--allow-run`: shell steps may start processes. */
  run: boolean;
  /** `--allow-env[=VARS]`, `--deny-env[=VARS]`. */
  env?: GrantPair;
  /** `--allow-read[=PATHS]`, `--deny-read[=PATHS]`. */
  read?: GrantPair;
  /** `--allow-write[=PATHS]`, `--deny-write[=PATHS]`. */
  write?: GrantPair;
  /** `--allow-net[=HOSTS]`, `--deny-net[=HOSTS]`. */
  net?: GrantPair;
}

/**
 * `-A/--allow-all`: every grant. Steps still get only what they declare.
 *
 * @example
 * ```ts
 * import { ALL_GRANTS, defineWorkflow, runWorkflow } from "../mod.ts";
 *
 * const { workflow } = defineWorkflow({ steps: { sh: { language: "shell", code: "echo hi" } } });
 * console.log((await runWorkflow(workflow, { grants: ALL_GRANTS })).status); // "succeeded"
 * ```
 */
export const ALL_GRANTS: Grants = {
  run: true,
  env: { allow: "all", deny: [] },
  read: { allow: "all", deny: [] },
  write: { allow: "all", deny: [] },
  net: { allow: "all", deny: [] },
};

/** The resource kinds a step declares in `permissions`. */
export type ResourceKind = "read" | "write" | "net";
export const RESOURCE_KINDS: readonly ResourceKind[] = ["read", "write", "net"];

/**
 * What one step may reach on the host besides its environment variables:
 * absolute paths and hosts, plus the run's deny rules that fall inside
 * them (only a child process's `deno run` flags can express those).
 */
export interface StepAccess {
  read: string[];
  write: string[];
  net: string[];
  denyRead: string[];
  denyWrite: string[];
  denyNet: string[];
}

/** Whether a grant list covers the environment variable `name`. */
export function covers(list: GrantList | undefined, name: string): boolean {
  return list === "all" || (list?.includes(name) ?? false);
}

/** An absolute, normalized path (relative ones against hwfe's working directory). */
export function absolutePath(path: string): string {
  return resolve(path);
}

/** Whether `path` is `root` or inside it (both absolute). */
export function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Whether `item` is `rule` or inside it: a path in a directory, a host a rule covers. */
export function inside(kind: ResourceKind, item: string, rule: string): boolean {
  return kind === "net" ? hostWithin(item, rule) : within(item, rule);
}

/** An item as rules are compared: an absolute path, a host in lower case. */
export function normalize(kind: ResourceKind, item: string): string {
  return kind === "net" ? item.toLowerCase() : absolutePath(item);
}

function ruleList(kind: ResourceKind, list: GrantList | undefined): GrantList {
  if (list === undefined) return [];
  return list === "all" ? "all" : list.map((item) => normalize(kind, item));
}

/** The step's access under the run's grants; undefined when it declares no resources. */
export function stepAccess(step: Step, grants: Grants): StepAccess | undefined {
  const { read, write, net } = step.permissions;
  if (read.length + write.length + net.length === 0) return undefined;
  const access: StepAccess = {
    read: [],
    write: [],
    net: [],
    denyRead: [],
    denyWrite: [],
    denyNet: [],
  };
  const denyKey = { read: "denyRead", write: "denyWrite", net: "denyNet" } as const;
  for (const kind of RESOURCE_KINDS) {
    const allow = ruleList(kind, grants[kind]?.allow);
    const deny = ruleList(kind, grants[kind]?.deny);
    for (const declared of step.permissions[kind]) {
      const item = normalize(kind, declared);
      const allowed = allow === "all" || allow.some((rule) => inside(kind, item, rule));
      const denied = deny === "all" || deny.some((rule) => inside(kind, item, rule));
      if (!allowed || denied) continue;
      if (!access[kind].includes(item)) access[kind].push(item);
      for (const rule of deny as string[]) {
        // A deny rule inside what the step gets: enforced as a deny flag.
        if (inside(kind, rule, item) && !access[denyKey[kind]].includes(rule)) {
          access[denyKey[kind]].push(rule);
        }
      }
    }
  }
  for (const list of Object.values(access)) list.sort();
  return access;
}

/** The granted environment variables a step declared, with their values (unset ones absent). */
export function stepEnv(step: Step, grants: Grants): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of step.permissions.env) {
    if (!covers(grants.env?.allow, name) || covers(grants.env?.deny, name)) continue;
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A key that is equal for equal access (pools of workers are kept per key). */
export function accessKey(access: StepAccess | undefined): string {
  return access ? JSON.stringify(access) : "";
}

/** Whether the access needs deny rules, which only a child process can enforce. */
export function needsDenyRules(access: StepAccess): boolean {
  return access.denyRead.length + access.denyWrite.length + access.denyNet.length > 0;
}

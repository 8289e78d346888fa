/**
 * Checking grants before a run starts: a step that declares what the run
 * does not allow is refused with the flags that would allow it, and what
 * the run denies, what hwfe itself was not given, deny rules it cannot
 * enforce and symbolic links that lead out of a grant are refused outright.
 *
 * @module
 */

import { dirname, relative, resolve } from "node:path";
import { PermissionError } from "../_util/errors.ts";
import type { Workflow } from "../workflow/model.ts";
import {
  absolutePath,
  type GrantList,
  type Grants,
  inside,
  needsDenyRules,
  normalize,
  RESOURCE_KINDS,
  type ResourceKind,
  type StepAccess,
  stepAccess,
  within,
} from "./grants.ts";

/** Most directory entries the symlink check walks in one run. */
const MAX_SCANNED_ENTRIES = 200_000;

/** How `checkGrants` learns about hwfe's own permissions and the file system. */
export interface GrantProbe {
  /** Whether hwfe's own process holds the Deno permission. */
  has(descriptor: Deno.PermissionDescriptor): boolean;
  /** Whether child processes can be started (to enforce deny rules). */
  canStartChildren(): boolean;
  /**
   * Whether this is a compiled `hwfe`, whose children cannot take Deno
   * flags, so deny rules cannot be enforced. Default false.
   */
  standalone?(): boolean;
}

const denoProbe: GrantProbe = {
  has(descriptor) {
    try {
      return Deno.permissions.querySync(descriptor).state === "granted";
    } catch {
      return false;
    }
  },
  canStartChildren() {
    return this.has({ name: "run", command: Deno.execPath() });
  },
  standalone: () => Deno.build.standalone,
};

const FLAG_NAMES = { read: "read", write: "write", net: "net", env: "env" } as const;
type GrantKind = keyof typeof FLAG_NAMES;
const NEEDS = {
  read: "needs to read",
  write: "needs to write to",
  net: "needs to reach",
  env: "needs the environment variable",
};
const MAY = { read: "read", write: "write to" };
const DENIED = {
  read: "reading",
  write: "writing to",
  net: "reaching",
  env: "the environment variable",
};

/**
 * A grant the run lacks, said both ways: library users read `RunOptions`
 * words (`grants: { run: true }`), users of the command read flags.
 */
export interface MissingGrant {
  /** The `hwfe run` flag that gives it, e.g. `--allow-read=data`. */
  flag: string;
  /** In the library's words, e.g. `step 'r' needs to read data (grants: { read: { allow: ["data"] } })`. */
  message: string;
  /** In the command's words, e.g. `step 'r' needs to read data`; the CLI adds the command to rerun. */
  cliMessage: string;
}

/**
 * Refuses, before anything starts, steps that declare what the run does
 * not grant, or that hwfe itself may not give (its own `deno run` flags).
 * Adds what would grant what is missing to `missing` (by flag). Throws
 * for what no grant of the run can fix.
 */
export function checkGrants(
  workflow: Workflow,
  grants: Grants,
  missing: Map<string, MissingGrant>,
  probe: GrantProbe = denoProbe,
): void {
  const where = workflow.file ? `${workflow.file}: ` : "";
  const refusals: Refusals = new Map();
  const hostLacks = new Map<string, Set<string>>(); // deno flag -> items
  for (const kind of ["env", ...RESOURCE_KINDS] as const) {
    const notAllowed = sortDeclared(workflow, grants, kind, probe, refusals, hostLacks);
    if (notAllowed.size) {
      const grant = missingGrant(kind, notAllowed, grants[kind]?.allow);
      missing.set(grant.flag, grant);
    }
  }
  if (refusals.size) throw refusalError(where, refusals);
  if (hostLacks.size) {
    const flags = [...hostLacks].map(([flag, items]) => `${flag}=${[...items].join(",")}`);
    throw new PermissionError(
      `hwfe itself was started without the Deno permissions these grants need: ` +
        `run it with deno run ${flags.join(" ")} (or a broader flag)`,
      [],
    );
  }
  if (missing.size) return;
  let budget = MAX_SCANNED_ENTRIES;
  for (const step of workflow.steps.values()) {
    const access = stepAccess(step, grants);
    if (!access) continue;
    const at = `${where}step '${step.name}'`;
    checkDenyRules(at, access, probe);
    budget = checkStepLinks(at, access, grants, budget);
  }
}

/** What is denied (`reading data/x`) -> its kind and the steps that need it. */
type Refusals = Map<string, { kind: GrantKind; steps: string[] }>;

/**
 * Sorts what the steps declare of `kind`: what the run denies goes to
 * `refusals`, what it grants but hwfe itself does not hold to `hostLacks`
 * (by `deno run` flag); returns what it does not allow, each item as
 * declared with the first step that needs it.
 */
function sortDeclared(
  workflow: Workflow,
  grants: Grants,
  kind: GrantKind,
  probe: GrantProbe,
  refusals: Refusals,
  hostLacks: Map<string, Set<string>>,
): Map<string, string> {
  const notAllowed = new Map<string, string>();
  for (const step of workflow.steps.values()) {
    for (const declared of step.permissions[kind]) {
      const item = kind === "env" ? declared : normalize(kind, declared);
      const test = (rule: string) =>
        kind === "env" ? rule === item : inside(kind, item, normalize(kind, rule));
      const allow = grants[kind]?.allow ?? [];
      const deny = grants[kind]?.deny ?? [];
      if (deny === "all" || deny.some(test)) {
        const what = `${DENIED[kind]} ${declared}`;
        const refusal = refusals.get(what) ?? { kind, steps: [] };
        refusal.steps.push(step.name);
        refusals.set(what, refusal);
      } else if (allow !== "all" && !allow.some(test)) {
        if (!notAllowed.has(declared)) notAllowed.set(declared, step.name);
      } else if (!probe.has(descriptor(kind, item))) {
        const flag = `--allow-${FLAG_NAMES[kind]}`;
        hostLacks.set(flag, new Set([...hostLacks.get(flag) ?? [], item]));
      }
    }
  }
  return notAllowed;
}

/** The grant that adds what steps need (item -> first step) to what the run allows. */
function missingGrant(
  kind: GrantKind,
  notAllowed: Map<string, string>,
  allow: GrantList | undefined,
): MissingGrant {
  const wanted = [...notAllowed.keys()];
  // The fewest items: one inside another (data/x.csv in data) is left out.
  const needed = kind === "env" ? wanted : wanted.filter((item, i) =>
    !wanted.some((other, j) => {
      if (j === i) return false;
      const [a, b] = [normalize(kind, item), normalize(kind, other)];
      return a === b ? j < i : inside(kind, a, b);
    })
  );
  const items = [...(Array.isArray(allow) ? allow : []), ...needed];
  const flag = `--allow-${FLAG_NAMES[kind]}=${items.join(",")}`;
  const reasons = [...notAllowed].map(([item, step]) => `step '${step}' ${NEEDS[kind]} ${item}`)
    .join("; ");
  return {
    flag,
    message: `${reasons} (grants: { ${kind}: { allow: [${
      items.map((item) => JSON.stringify(item)).join(", ")
    }] } })`,
    cliMessage: reasons,
  };
}

/** The error for what the run denies, in the library's words and the command's. */
function refusalError(where: string, refusals: Refusals): PermissionError {
  const say = (denier: (kind: GrantKind) => string) =>
    where + [...refusals].map(([what, { kind, steps }]) => {
      const needers = steps.map((s) => `'${s}'`).join(", ");
      return `${what} (needed by step${steps.length > 1 ? "s" : ""} ${needers}) is denied by ${
        denier(kind)
      }`;
    }).join("; ");
  return new PermissionError(say((kind) => `grants.${kind}.deny`), [], {
    cliMessage: say((kind) => `--deny-${FLAG_NAMES[kind]}`),
  });
}

/** Refuses deny rules inside a step's access that hwfe cannot enforce here. */
function checkDenyRules(at: string, access: StepAccess, probe: GrantProbe): void {
  if (!needsDenyRules(access)) return;
  const why = probe.standalone?.()
    ? `which this compiled hwfe cannot enforce (Deno takes deny rules only as flags ` +
      `of deno run); grant the step a path that leaves the denied one out, or run hwfe ` +
      `from source with deno run`
    : probe.canStartChildren()
    ? undefined
    : `which hwfe enforces by running the step in a child process; run hwfe with ` +
      `deno run --allow-run (or grant the step a narrower path)`;
  if (why === undefined) return;
  const denyInside = (rule: string) =>
    `${at}: ${rule} falls inside what the step is granted, ${why}`;
  throw new PermissionError(denyInside("a deny rule"), [], {
    cliMessage: denyInside("a --deny-* rule"),
  });
}

/**
 * Refuses symbolic links in the paths a step reads or writes that lead
 * out of what it may reach. Returns the walk budget left.
 */
function checkStepLinks(at: string, access: StepAccess, grants: Grants, budget: number): number {
  for (const kind of ["read", "write"] as const) {
    const deny = (kind === "read" ? access.denyRead : access.denyWrite).map(realPath);
    const allow = grants[kind]?.allow ?? [];
    const runAllows = allow === "all"
      ? undefined
      : allow.map((rule) => realPath(absolutePath(rule)));
    // Where the step's own paths really are: a granted path that is itself
    // a link must lead inside what the run allows.
    const roots = access[kind].map(realPath);
    const ok = (target: string) => !deny.some((d) => within(target, d));
    const escape = (link: string, target: string): never => {
      throw new PermissionError(
        `${at}: ${link} is a symbolic link to ${target}, outside what ` +
          `the step may ${MAY[kind]}; Deno would follow it, so hwfe refuses the grant. ` +
          `Remove the link, or declare and grant its target too`,
        [],
      );
    };
    for (const [i, root] of access[kind].entries()) {
      const rootOk = (target: string) =>
        ok(target) && (runAllows?.some((a) => within(target, a)) ?? true);
      const innerOk = (target: string) => ok(target) && roots.some((r) => within(target, r));
      if (!rootOk(roots[i])) escape(root, roots[i]);
      budget = checkLinks(root, innerOk, budget, escape, () => {
        throw new PermissionError(
          `${at}: ${root} holds more than ${MAX_SCANNED_ENTRIES} ` +
            `entries, too many to check for symbolic links leading out of it; grant a ` +
            `narrower path`,
          [],
        );
      });
    }
  }
  return budget;
}

function descriptor(kind: "env" | ResourceKind, item: string): Deno.PermissionDescriptor {
  switch (kind) {
    case "env":
      return { name: "env", variable: item };
    case "net":
      return { name: "net", host: item };
    default:
      return { name: kind, path: item };
  }
}

/** The real path of `path` (following links); for a path that does not exist, its parent's. */
function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : resolve(realPath(parent), relative(parent, path));
  }
}

/**
 * Walks `root` (not following links) for a symbolic link whose target is
 * not `ok`; calls `escape` for the first. Returns the walk budget left;
 * calls `tooLarge` when it runs out.
 */
function checkLinks(
  root: string,
  ok: (target: string) => boolean,
  budget: number,
  escape: (link: string, target: string) => never,
  tooLarge: () => never,
): number {
  const stack = [root];
  while (stack.length) {
    const path = stack.pop()!;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(path);
    } catch {
      continue; // not there (yet): nothing to follow
    }
    if (--budget < 0) tooLarge();
    if (info.isSymlink) {
      // The root itself was checked by the caller, against the run's grants.
      if (path === root) {
        stack.push(realPath(root));
        continue;
      }
      let link: string;
      try {
        link = Deno.readLinkSync(path);
      } catch {
        continue; // gone since the lstat above: nothing to follow
      }
      const target = realPath(resolve(dirname(path), link));
      if (!ok(target)) escape(path, target);
    } else if (info.isDirectory) {
      try {
        for (const entry of Deno.readDirSync(path)) stack.push(`${path}/${entry.name}`);
      } catch { /* unreadable: the step cannot read it either */ }
    }
  }
  return budget;
}

import assert from "node:assert/strict";
import { PermissionError } from "../_util/errors.ts";
import { checkGrants, type GrantProbe, type MissingGrant } from "./grant_check.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import type { StepPermissions, Workflow } from "../workflow/model.ts";

function workflowWith(permissions: Partial<StepPermissions>, name = "s"): Workflow {
  return defineWorkflow({
    name: "w",
    steps: { [name]: { language: "lua", code: "function run() end", permissions } },
  }).workflow;
}

const everything: GrantProbe = { has: () => true, canStartChildren: () => true };

Deno.test("checkGrants() names the grants and flags to add, keeping what was granted", () => {
  const missing = new Map<string, MissingGrant>();
  checkGrants(
    workflowWith({ read: ["data"], net: ["a.com"] }),
    { run: false, read: { allow: ["docs"], deny: [] } },
    missing,
    everything,
  );
  assert.deepEqual([...missing.keys()], ["--allow-read=docs,data", "--allow-net=a.com"]);
  assert.deepEqual(missing.get("--allow-read=docs,data"), {
    flag: "--allow-read=docs,data",
    message: `step 's' needs to read data (grants: { read: { allow: ["docs", "data"] } })`,
    cliMessage: "step 's' needs to read data",
  });
});

Deno.test("checkGrants() refuses denied resources without suggesting flags", () => {
  assert.throws(
    () =>
      checkGrants(
        workflowWith({ write: ["out/x"] }),
        { run: false, write: { allow: "all", deny: ["out"] } },
        new Map(),
        everything,
      ),
    (error: unknown) =>
      error instanceof PermissionError && error.missingFlags.length === 0 &&
      /writing to out\/x \(needed by step 's'\) is denied by grants\.write\.deny$/.test(
        error.message,
      ) &&
      /writing to out\/x \(needed by step 's'\) is denied by --deny-write$/.test(error.cliMessage),
  );
});

Deno.test("checkGrants() names the deno run flag hwfe itself lacks", () => {
  assert.throws(
    () =>
      checkGrants(
        workflowWith({ net: ["a.com"], read: ["data"] }),
        { run: false, net: { allow: "all", deny: [] }, read: { allow: "all", deny: [] } },
        new Map(),
        { has: (d) => d.name !== "net", canStartChildren: () => true },
      ),
    /hwfe itself was started without the Deno permissions these grants need: run it with deno run --allow-net=a\.com/,
  );
});

/** Checks a step granted `data` with `data/private` denied, under `probe`. */
const denyInside = (probe: GrantProbe) => () =>
  checkGrants(
    workflowWith({ read: ["data"] }),
    { run: false, read: { allow: "all", deny: ["data/private"] } },
    new Map(),
    probe,
  );

Deno.test("checkGrants() needs child processes for a deny rule inside a grant", () => {
  assert.throws(
    denyInside({ has: () => true, canStartChildren: () => false }),
    (error: unknown) =>
      error instanceof PermissionError &&
      /a deny rule falls inside what the step is granted.*deno run --allow-run/.test(
        error.message,
      ) &&
      /a --deny-\* rule falls inside what the step is granted/.test(error.cliMessage),
  );
});

Deno.test("checkGrants(): a compiled hwfe refuses a deny rule inside a grant", () => {
  assert.throws(
    denyInside({ has: () => true, canStartChildren: () => true, standalone: () => true }),
    /step 's': a deny rule falls inside .* this compiled hwfe cannot enforce/,
  );
});

Deno.test("checkGrants() refuses symbolic links that lead out of a grant, also dangling ones", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/data/deep`, { recursive: true });
  await Deno.writeTextFile(`${dir}/secret`, "s");
  const check = () =>
    checkGrants(
      workflowWith({ write: [`${dir}/data`] }),
      { run: false, write: { allow: [`${dir}/data`], deny: [] } },
      new Map(),
      everything,
    );
  check();
  await Deno.symlink(`${dir}/nothing-yet`, `${dir}/data/deep/dangling`);
  assert.throws(
    check,
    /data\/deep\/dangling is a symbolic link to .*nothing-yet, outside what the step may write to/,
  );
  await Deno.remove(`${dir}/data/deep/dangling`);
  await Deno.symlink("../deep", `${dir}/data/deep/up`);
  check(); // a link within the grant
  await Deno.symlink(`${dir}/secret`, `${dir}/data/deep/s`);
  assert.throws(check, /data\/deep\/s is a symbolic link to .*secret/);
  // A declared path that is itself a link is checked against the run's grants.
  assert.throws(
    () =>
      checkGrants(
        workflowWith({ read: [`${dir}/data/deep/s`] }),
        { run: false, read: { allow: [`${dir}/data`], deny: [] } },
        new Map(),
        everything,
      ),
    /data\/deep\/s is a symbolic link to .*secret, outside what the step may read/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkGrants() suggests the fewest paths: one inside another is left out", () => {
  const missing = new Map<string, MissingGrant>();
  checkGrants(
    workflowWith({ read: ["data/a.csv", "data", "data/b", "other"] }),
    { run: false },
    missing,
    everything,
  );
  assert.deepEqual([...missing.keys()], ["--allow-read=data,other"]);
});

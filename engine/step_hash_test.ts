import assert from "node:assert/strict";
import { join } from "node:path";
import { defineWorkflow } from "../workflow/validate.ts";
import type { WorkflowDefinition } from "../workflow/model.ts";
import { planLevels } from "../workflow/plan.ts";
import type { ReusedResult, StepReuse } from "./options.ts";
import type { RunnerRegistry } from "./runner.ts";
import { schedule } from "./scheduler.ts";
import { type HashInput, stepHash } from "./step_hash.ts";
import type { Grants } from "./grants.ts";

const NO_GRANTS: Grants = { run: false };

function hashInput(definition: WorkflowDefinition["steps"][string], grants = NO_GRANTS) {
  const { workflow } = defineWorkflow({ name: "t", steps: { a: definition } });
  return {
    workflow,
    step: workflow.steps.get("a")!,
    inputsByName: new Map(),
    dependencyHashes: new Map(),
    grants,
  } satisfies HashInput;
}

async function hashOf(input: HashInput): Promise<string> {
  const outcome = await stepHash(input);
  assert.ok("hash" in outcome, JSON.stringify(outcome));
  return outcome.hash;
}

Deno.test("stepHash() changes with the code, inputs, params and dependencies' hashes, not the name or timeout", async () => {
  const base = hashInput({ code: "function run() return 1 end" });
  const hash = await hashOf(base);
  assert.equal(await hashOf(hashInput({ code: "function run() return 1 end", timeout: 5 })), hash);
  assert.notEqual(await hashOf(hashInput({ code: "function run() return 2 end" })), hash);
  assert.notEqual(await hashOf({ ...base, inputsByName: new Map([["x", "1"]]) }), hash);
  assert.notEqual(await hashOf({ ...base, dependencyHashes: new Map([["x", "f00"]]) }), hash);
  assert.notEqual(
    await hashOf({ ...base, workflow: { ...base.workflow, params: { n: 1 } } }),
    hash,
  );
  const { workflow } = defineWorkflow({
    steps: { renamed: { code: "function run() return 1 end" } },
  });
  assert.equal(
    await hashOf({ ...base, workflow, step: workflow.steps.get("renamed")! }),
    hash,
  );
});

Deno.test("stepHash() reads the files of granted read paths, and none that are not granted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "data/sub"), { recursive: true });
    await Deno.writeTextFile(join(dir, "data/sub/x.csv"), "1,2\n");
    const step = { code: "function run() end", permissions: { read: [join(dir, "data")] } };
    const granted: Grants = { run: false, read: { allow: [dir], deny: [] } };
    const before = await hashOf(hashInput(step, granted));
    const ungranted = await hashOf(hashInput(step));
    await Deno.writeTextFile(join(dir, "data/sub/x.csv"), "1,3\n");
    assert.notEqual(await hashOf(hashInput(step, granted)), before);
    assert.equal(await hashOf(hashInput(step)), ungranted);
    await Deno.writeTextFile(join(dir, "data/new.csv"), "");
    const withNewFile = await hashOf(hashInput(step, granted));
    // A deny rule inside the grant keeps that part out of the hash.
    const denied: Grants = { ...granted, read: { allow: [dir], deny: [join(dir, "data/sub")] } };
    const withoutSub = await hashOf(hashInput(step, denied));
    await Deno.writeTextFile(join(dir, "data/sub/x.csv"), "9,9\n");
    assert.equal(await hashOf(hashInput(step, denied)), withoutSub);
    assert.notEqual(await hashOf(hashInput(step, granted)), withNewFile);
    // A link to a directory above it is named, not followed: no loop.
    await Deno.symlink(dir, join(dir, "data/loop"));
    await hashOf(hashInput(step, granted));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function reuseRun(steps: WorkflowDefinition["steps"], reuse: StepReuse, ran: string[]) {
  const { workflow } = defineWorkflow({ name: "t", steps });
  const runners: RunnerRegistry = new Map([["lua", {
    language: "lua",
    run: (ctx) => {
      ran.push(ctx.step.name);
      return Promise.resolve(ctx.step.code!);
    },
  }]]);
  return schedule(workflow, planLevels(workflow.steps.values()), runners, {
    mode: "parallel",
    maxParallel: 2,
    grants: NO_GRANTS,
    reuse,
  });
}

Deno.test("schedule() reuses a found result by hash, and a changed step invalidates itself and its dependents", async () => {
  const kept = new Map<string, ReusedResult>();
  const reuse: StepReuse = { find: (_step, hash) => kept.get(hash) };
  const steps = {
    a: { code: "1" },
    b: { code: "2", depends_on: "a" },
    c: { code: "3", depends_on: "b" },
    d: { code: "4" },
  };
  const ran: string[] = [];
  const first = await reuseRun(steps, reuse, ran);
  for (const report of first.steps) {
    assert.ok(report.hash, report.name);
    kept.set(report.hash, { result: report.result!, runId: 1, hash: report.hash });
  }
  ran.length = 0;
  const second = await reuseRun(steps, reuse, ran);
  assert.deepEqual(ran, []);
  assert.deepEqual(second.steps.map((s) => s.reusedFrom), [1, 1, 1, 1]);
  // b's code changes but not its result: c still runs again, a and d do not.
  const third = await reuseRun({ ...steps, b: { code: " 2", depends_on: "a" } }, reuse, ran);
  assert.deepEqual(ran.sort(), ["b", "c"]);
  assert.equal(third.status, "succeeded");
});

Deno.test("schedule() takes given results without running those steps", async () => {
  const ran: string[] = [];
  const result = await reuseRun(
    { a: { code: "1" }, b: { code: "2", depends_on: "a" } },
    { given: new Map([["a", { result: "10", runId: 3, hash: "ab" }]]) },
    ran,
  );
  assert.deepEqual(ran, ["b"]);
  assert.equal(result.steps[0].reusedFrom, 3);
  assert.equal(result.steps[0].result, "10");
  assert.ok(result.steps[1].hash);
});

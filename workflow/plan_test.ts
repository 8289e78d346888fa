import assert from "node:assert/strict";
import { CycleError, formatPlan, planLevels } from "./plan.ts";

const node = (name: string, ...dependsOn: string[]) => ({ name, dependsOn });

Deno.test("planLevels() puts roots in level 1 and others one above their highest dependency", () => {
  const plan = planLevels([
    node("finalize", "merge"),
    node("merge", "b", "a", "deep"),
    node("b", "init"),
    node("a", "init"),
    node("deep", "a"),
    node("init"),
  ]);
  assert.deepEqual(plan.levels, [["init"], ["a", "b"], ["deep"], ["merge"], ["finalize"]]);
  assert.equal(plan.levelOf.get("merge"), 4);
  assert.equal(
    formatPlan(plan),
    "Level 1: [init]\nLevel 2: [a, b]\nLevel 3: [deep]\nLevel 4: [merge]\nLevel 5: [finalize]",
  );
});

Deno.test("planLevels() orders names inside a level by code unit, whatever the input order", () => {
  const names = ["b", "B", "a", "_x", "a1"];
  const plan = planLevels(names.map((n) => node(n)));
  assert.deepEqual(plan.levels, [["B", "_x", "a", "a1", "b"]]);
});

Deno.test("planLevels() tolerates a dependency listed twice", () => {
  assert.deepEqual(planLevels([node("a"), node("b", "a", "a")]).levels, [["a"], ["b"]]);
});

Deno.test("planLevels() reports a cycle with its path", () => {
  try {
    planLevels([node("start"), node("step_a", "start", "step_b"), node("step_b", "step_a")]);
  } catch (e) {
    assert.ok(e instanceof CycleError);
    assert.deepEqual(e.cycle, ["step_a", "step_b", "step_a"]);
    assert.equal(
      e.message,
      "Circular dependency detected involving step 'step_a': step_a -> step_b -> step_a",
    );
    return;
  }
  assert.fail("expected a cycle");
});

Deno.test("planLevels() finds a cycle below an acyclic prefix, deterministically", () => {
  try {
    planLevels([node("z"), node("c", "d"), node("d", "e"), node("e", "c"), node("a", "z")]);
    assert.fail("expected a cycle");
  } catch (e) {
    assert.ok(e instanceof CycleError);
    assert.deepEqual(e.cycle, ["c", "d", "e", "c"]);
  }
});

Deno.test("planLevels() handles a 100,000-step chain without recursion limits", () => {
  const nodes = Array.from(
    { length: 100_000 },
    (_, i) => node(`s${i}`, ...(i ? [`s${i - 1}`] : [])),
  );
  const plan = planLevels(nodes);
  assert.equal(plan.levels.length, 100_000);
  nodes[0] = node("s0", "s99999");
  assert.throws(() => planLevels(nodes), CycleError);
});

Deno.test("planLevels() names the first 20 steps of a long cycle and its length", () => {
  const n = 100_000;
  const nodes = Array.from({ length: n }, (_, i) => node(`s${i}`, `s${(i + 1) % n}`));
  try {
    planLevels(nodes);
    assert.fail("expected a cycle");
  } catch (e) {
    assert.ok(e instanceof CycleError);
    assert.equal(e.cycle.length, n + 1);
    const first = Array.from({ length: 20 }, (_, i) => `s${i}`).join(" -> ");
    assert.equal(
      e.message,
      `Circular dependency detected involving step 's0': ${first} -> ... ` +
        `(a cycle of ${n} steps; the first 20 shown)`,
    );
  }
});

Deno.test("planLevels() names every step of a cycle of 20", () => {
  const nodes = Array.from({ length: 20 }, (_, i) => node(`s${i}`, `s${(i + 1) % 20}`));
  assert.throws(() => planLevels(nodes), (e: CycleError) => e.message.endsWith("s19 -> s0"));
});

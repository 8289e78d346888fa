import { planLevels, type PlanNode } from "./plan.ts";

// A 100,000-step DAG: 1,000 levels of 100 steps, each depending on two
// steps of the level above. Target (issue 2): well under a second.
const WIDTH = 100;
const DEPTH = 1000;
const nodes: PlanNode[] = [];
for (let level = 0; level < DEPTH; level++) {
  for (let i = 0; i < WIDTH; i++) {
    const dependsOn = level === 0 ? [] : [
      `s${level - 1}_${i}`,
      `s${level - 1}_${(i * 7 + 3) % WIDTH}`,
    ];
    nodes.push({ name: `s${level}_${i}`, dependsOn });
  }
}

Deno.bench("planLevels() of a 100,000-step DAG", () => {
  planLevels(nodes);
});

import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, flagLabel, parallelism, SETTINGS, settingSpec } from "./settings.ts";

Deno.test("parallelism(): one in sequential mode, the CPUs for 0, 4 when not given", () => {
  assert.equal(parallelism("sequential", 8, 2), 1);
  assert.equal(parallelism(undefined, 8, 2), 1);
  assert.equal(parallelism("parallel", 0, 2), 2);
  assert.equal(parallelism("parallel", 0, 0), 1);
  assert.equal(parallelism("parallel", 6, 2), 6);
  assert.equal(parallelism("parallel", undefined, 2), 4);
});

Deno.test("every setting is declared once, with a default and a way to set it", () => {
  const names = SETTINGS.map((spec) => spec.name);
  assert.deepEqual([...new Set(names)], names, "a setting declared twice");
  assert.deepEqual(names.toSorted(), Object.keys(DEFAULT_SETTINGS).toSorted());
  for (const spec of SETTINGS) {
    assert.ok(spec.flag || spec.configKey, `${spec.name}: neither a flag nor a config key`);
    assert.equal(
      Boolean(spec.configKey),
      Boolean(spec.env),
      `${spec.name}: a key needs a variable`,
    );
    assert.ok(spec.doc.length > 10, `${spec.name}: no help text`);
  }
  assert.equal(flagLabel(settingSpec("maxParallelSteps")), "-j/--max-parallel");
  assert.equal(flagLabel(settingSpec("mode")), "--mode");
  assert.equal(flagLabel(settingSpec("workflowsDirectory")), undefined);
});

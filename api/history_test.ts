import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { RunEvent } from "../engine/events.ts";
import { PermissionError } from "../_util/errors.ts";
import { sha256Hex } from "../_util/cache.ts";
import { loadWorkflowFile } from "../workflow/load.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import { historyPath } from "../store/location.ts";
import { SCHEMA_VERSION } from "../store/schema.ts";
import { type HistoryOptions, readHistory, runWithHistory } from "./history.ts";

const FLOW = `workflow = {
  name = "recorded",
  steps = {
    big = { language = "lua", code = "function run() print('hello') return 9007199254740993 end" },
    after = { language = "lua", depends_on = { "big" }, code = "function run(i) error('no') end" },
  },
}
`;

/** A workflow file and a data directory, fresh. */
async function setUp() {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-history-" });
  const file = `${dir}/recorded.lua`;
  await Deno.writeTextFile(file, FLOW);
  const { workflow } = await loadWorkflowFile(file);
  const warnings: string[] = [];
  const history: HistoryOptions = {
    dataDir: `${dir}/data`,
    version: "9.9.9",
    settings: { mode: "parallel", maxParallelSteps: 2 },
    params: { day: "monday" },
    onWarning: (message) => warnings.push(message),
  };
  return { dir, file, workflow, warnings, history };
}

Deno.test("runWithHistory records a run with every field, its steps and its output", async () => {
  const { file, workflow, warnings, history } = await setUp();
  const events: RunEvent[] = [];
  let recorded: number | undefined;
  const result = await runWithHistory(
    workflow,
    { mode: "parallel", maxParallel: 2, onEvent: (event) => events.push(event) },
    { ...history, onRecorded: (id) => recorded = id },
  );
  assert.equal(result.status, "failed");
  assert.deepEqual(warnings, []);
  assert.equal(events.at(-1)?.type, "run_finished", "the caller's onEvent still hears every event");
  assert.equal(recorded, 1);
  const store = readHistory(history.dataDir!)!;
  const run = store.getRun("last")!;
  assert.equal(run.id, 1);
  assert.equal(run.workflow, "recorded");
  assert.equal(run.file, file);
  assert.equal(run.fileSha256, await sha256Hex(await Deno.readFile(file)));
  assert.equal(run.settings, '{"mode":"parallel","maxParallelSteps":2}');
  assert.equal(run.params, '{"day":"monday"}');
  assert.equal(run.hwfeVersion, "9.9.9");
  assert.deepEqual([run.status, run.mode, run.maxParallel, run.levels], [
    "failed",
    "parallel",
    2,
    [["big"], ["after"]],
  ]);
  assert.equal(run.durationMs, Math.round(result.durationMs));
  assert.equal(run.pid, Deno.pid);
  const [big, after] = store.steps(run.id);
  assert.equal(big.result, "9007199254740993", "exact, as the engine gave it");
  assert.equal(big.status, "succeeded");
  assert.equal(after.status, "failed");
  assert.match(after.error!, /no/);
  assert.deepEqual(store.output(run.id).map((o) => [o.step, o.line]), [["big", "hello"]]);
  assert.equal(store.events(run.id).length, events.length);
  store.close();
});

Deno.test("runWithHistory records nothing with enabled: false", async () => {
  const { workflow, warnings, history } = await setUp();
  const result = await runWithHistory(workflow, {}, { ...history, enabled: false });
  assert.equal(result.status, "failed");
  assert.deepEqual(warnings, []);
  assert.equal(readHistory(history.dataDir!), undefined);
});

Deno.test("runWithHistory: a run refused before it starts leaves no record", async () => {
  const { warnings, history } = await setUp();
  const { workflow } = defineWorkflow({ steps: { ls: { language: "shell", code: "ls" } } });
  await assert.rejects(runWithHistory(workflow, {}, history), PermissionError);
  assert.deepEqual(warnings, []);
  const store = readHistory(history.dataDir!)!;
  assert.equal(store.count(), 0);
  store.close();
});

/** Runs the workflow over a store that cannot be used: one warning, the same outcome. */
async function unusable(spoil: (history: HistoryOptions) => Promise<void> | void) {
  const { workflow, warnings, history } = await setUp();
  await spoil(history);
  const result = await runWithHistory(workflow, {}, history);
  assert.equal(result.status, "failed", "the run's outcome stands");
  assert.equal(result.steps[0].result, "9007199254740993");
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /^This run is not recorded in hwfe's history: /);
  assert.match(warnings[0], /\(--no-history records nothing, quietly\)$/);
  return { warning: warnings[0], history };
}

Deno.test("runWithHistory runs unrecorded over a corrupt database, warning once", async () => {
  const garbage = "not a database ".repeat(500);
  const { warning, history } = await unusable(async (history) => {
    await Deno.mkdir(history.dataDir!);
    await Deno.writeTextFile(historyPath(history.dataDir!), garbage);
  });
  assert.ok(warning.includes(`${historyPath(history.dataDir!)} is not a readable hwfe history`));
  assert.match(warning, /move it aside/);
  assert.equal(await Deno.readTextFile(historyPath(history.dataDir!)), garbage, "left as it was");
});

Deno.test("runWithHistory runs unrecorded over a newer database, warning once", async () => {
  const { warning } = await unusable(async (history) => {
    await Deno.mkdir(history.dataDir!);
    const db = new DatabaseSync(historyPath(history.dataDir!));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
  });
  assert.ok(
    warning.includes(`was written by a newer hwfe (schema version ${SCHEMA_VERSION + 5}; `),
    warning,
  );
  assert.match(warning, /\): upgrade hwfe/);
});

Deno.test("runWithHistory runs unrecorded where the data directory cannot be made", async () => {
  const { warning } = await unusable(async (history) => {
    const file = `${history.dataDir}-file`;
    await Deno.writeTextFile(file, "");
    history.dataDir = `${file}/hwfe`;
  });
  assert.match(warning, /data-file\/hwfe\/history\.db cannot be opened for writing/);
  assert.match(warning, /set HWFE_DATA_DIR to a directory that is/);
});

Deno.test("runWithHistory runs unrecorded without a data directory", async () => {
  const { warning } = await unusable((history) => {
    history.dataDir = undefined;
  });
  assert.match(warning, /no data directory .*: set HWFE_DATA_DIR/);
});

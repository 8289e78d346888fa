/**
 * Runs a workflow file recorded in the history of `HWFE_DATA_DIR`, as
 * `hwfe run` does through api/history.ts: real processes writing one store
 * at once, apart from the command. Prints `{"recorded": id}` as soon as
 * the run's record begins, then `{"id": id, "status": status}` at the end.
 *
 * Usage: deno run -A tests/testdata/history_run.ts <file.lua>
 */

import { loadWorkflowFile } from "../../workflow/load.ts";
import { runWithHistory } from "../../api/history.ts";

const { workflow } = await loadWorkflowFile(Deno.args[0]);
let id: number | undefined;
const result = await runWithHistory(workflow, { mode: "parallel", grants: { run: true } }, {
  dataDir: Deno.env.get("HWFE_DATA_DIR"),
  version: "test",
  settings: { mode: "parallel" },
  onWarning: (message) => console.error(`warning: ${message}`),
  onRecorded: (runId) => {
    id = runId;
    console.log(JSON.stringify({ recorded: runId }));
  },
});
console.log(JSON.stringify({ id, status: result.status }));

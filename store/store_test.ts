import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { RunEvent, RunResult, StepReport } from "../engine/events.ts";
import { openStore, type RunStore, type StoreOptions } from "./store.ts";
import { SCHEMA_VERSION } from "./schema.ts";
import { StoreError } from "./store_error.ts";
import { defaultDataDir, historyPath } from "./location.ts";
import { CHUNK_LINES, type RunStart, STALE_MS } from "./writer.ts";
import { lockPath } from "./run_lock.ts";

/** A store in a fresh directory, on a clock the test moves. */
async function tempStore(options: StoreOptions = {}) {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-store-" });
  const clock = { ms: Date.UTC(2026, 11, 3, 12) };
  const store = openStore(dir, { now: () => clock.ms, ...options });
  return { dir, clock, store };
}

const START: RunStart = {
  workflow: "demo",
  file: "/work/flows/demo.lua",
  fileSha256: "ab".repeat(32),
  params: '{"n":1}',
  settings: '{"mode":"parallel"}',
  mode: "parallel",
  strategy: "levels",
  maxParallel: 2,
  levels: [["a", "sh"], ["b"]],
  steps: [
    { name: "a", language: "lua", level: 1 },
    { name: "sh", language: "shell", level: 1 },
    { name: "b", language: "python", level: 2 },
  ],
  hwfeVersion: "0.1.0",
};

const report = (name: string, patch: Partial<StepReport>): StepReport => ({
  name,
  language: "lua",
  level: 1,
  status: "succeeded",
  ...patch,
});

/** The events and result of START run to the end: `a` succeeds, `sh` fails with exit 3, `b` is skipped. */
function script(): { events: RunEvent[]; result: RunResult } {
  const a = report("a", { startMs: 1, durationMs: 20.4, waitedMs: 5, result: "9007199254740993" });
  const sh = report("sh", {
    language: "shell",
    status: "failed",
    startMs: 1,
    durationMs: 30,
    waitedMs: 0,
    attempts: 2,
    attemptErrors: ["step 'sh' (shell) exited with code 3"],
    error: "step 'sh' (shell) exited with code 3:\nno",
  });
  const b = report("b", { language: "python", level: 2, status: "skipped", error: "skipped" });
  const steps = [a, sh, b];
  const result: RunResult = {
    workflow: "demo",
    mode: "parallel",
    strategy: "levels",
    maxParallel: 2,
    status: "failed",
    durationMs: 50.6,
    levels: START.levels,
    steps,
  };
  const events: RunEvent[] = [
    {
      type: "run_started",
      workflow: "demo",
      mode: "parallel",
      strategy: "levels",
      maxParallel: 2,
      levels: START.levels,
    },
    { type: "step_started", step: "a", language: "lua", level: 1, atMs: 1 },
    { type: "step_started", step: "sh", language: "shell", level: 1, atMs: 1 },
    { type: "step_running", step: "a", attempt: 1, atMs: 6 },
    { type: "step_output", step: "a", stream: "stdout", line: "hello \x1b[31mred" },
    { type: "step_running", step: "sh", attempt: 1, atMs: 2 },
    { type: "step_output", step: "sh", stream: "stderr", line: "no" },
    { type: "step_retrying", step: "sh", attempt: 1, attempts: 2, error: "exit 3", delayMs: 10 },
    { type: "step_running", step: "sh", attempt: 2, atMs: 15 },
    { type: "step_finished", report: a },
    { type: "step_finished", report: sh },
    { type: "step_finished", report: b },
    { type: "warning", message: "careful" },
    { type: "run_finished", result },
  ];
  return { events, result };
}

function record(store: RunStore, clock: { ms: number }, start: RunStart = START): number {
  const writer = store.begin(start);
  const { events, result } = script();
  for (const event of events) {
    clock.ms += 10;
    writer.onEvent(event);
  }
  writer.finish(result);
  return writer.id;
}

Deno.test("RunStore records a run with every field, its steps and its output", async () => {
  const { store, clock } = await tempStore();
  const started = clock.ms;
  const id = record(store, clock);
  const run = store.getRun(id)!;
  assert.equal(run.id, 1);
  assert.deepEqual(
    { ...run, host: typeof run.host, pid: typeof run.pid },
    {
      id: 1,
      workflow: "demo",
      file: "/work/flows/demo.lua",
      fileSha256: "ab".repeat(32),
      params: '{"n":1}',
      settings: '{"mode":"parallel"}',
      mode: "parallel",
      strategy: "levels",
      maxParallel: 2,
      levels: [["a", "sh"], ["b"]],
      status: "failed",
      startedAt: started,
      finishedAt: clock.ms,
      durationMs: 51,
      heartbeatAt: clock.ms,
      hwfeVersion: "0.1.0",
      host: "string",
      pid: "number",
    },
  );
  const steps = store.steps(id);
  assert.deepEqual(steps.map((s) => [s.name, s.position, s.level, s.status]), [
    ["a", 0, 1, "succeeded"],
    ["sh", 1, 1, "failed"],
    ["b", 2, 2, "skipped"],
  ]);
  const [a, sh, b] = steps;
  assert.equal(a.result, "9007199254740993", "results are kept as JSON text, exact");
  assert.deepEqual(
    [a.startedAt! - started, a.runningAt! - started, a.durationMs, a.waitedMs, a.attempts],
    [20, 40, 20, 5, 1],
  );
  assert.equal(a.exitCode, undefined, "only shell steps have an exit code");
  assert.deepEqual([sh.attempts, sh.exitCode, sh.attemptErrors], [
    2,
    3,
    ["step 'sh' (shell) exited with code 3"],
  ]);
  assert.match(sh.error!, /exited with code 3/);
  assert.deepEqual([b.attempts, b.startedAt, b.error], [0, undefined, "skipped"]);
  assert.deepEqual(store.output(id).map((o) => [o.seq, o.step, o.stream, o.line]), [
    [5, "a", "stdout", "hello \x1b[31mred"],
    [7, "sh", "stderr", "no"],
  ]);
  assert.deepEqual(store.output(id, "sh").map((o) => o.line), ["no"]);
  assert.deepEqual(store.output(id, undefined, { afterSeq: 5 }).map((o) => o.seq), [7]);
  const events = store.events(id);
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 14 }, (_, i) => i + 1));
  assert.deepEqual(events.map((e) => e.type).slice(0, 2), ["run_started", "step_started"]);
  assert.equal(
    events[0].data,
    '{"workflow":"demo","mode":"parallel","strategy":"levels","maxParallel":2}',
  );
  const finished = JSON.parse(events[9].data!);
  assert.equal(finished.result, undefined, "a result is kept once, in its step's row");
  assert.equal(finished.name, "a");
  assert.deepEqual(JSON.parse(events[13].data!), { status: "failed", durationMs: 50.6 });
  assert.deepEqual(store.events(id, { afterSeq: 12 }).map((e) => e.type), [
    "warning",
    "run_finished",
  ]);
  store.close();
});

Deno.test("RunStore keeps consecutive lines as one row, and reads them back a line at a time", async () => {
  const { dir, store } = await tempStore();
  const writer = store.begin(START);
  writer.onEvent(script().events[0]);
  const line = (step: string, text: string, stream: "stdout" | "stderr" = "stdout"): RunEvent => ({
    type: "step_output",
    step,
    stream,
    line: text,
  });
  for (let i = 1; i <= CHUNK_LINES + 2; i++) writer.onEvent(line("a", `a${i}`));
  writer.onEvent(line("sh", "sh1"));
  writer.onEvent(line("sh", "sh2", "stderr"));
  writer.onEvent(line("a", ""));
  writer.onEvent(line("a", "last"));
  writer.finish(script().result);
  const db = new DatabaseSync(historyPath(dir), { readOnly: true });
  const rows = db.prepare(
    "SELECT seq, step, stream, lines FROM events WHERE type = 'step_output' ORDER BY seq",
  ).all().map((row) => Object.values(row));
  db.close();
  assert.deepEqual(rows, [
    [2, "a", "stdout", CHUNK_LINES],
    [CHUNK_LINES + 2, "a", "stdout", 2],
    [CHUNK_LINES + 4, "sh", "stdout", 1],
    [CHUNK_LINES + 5, "sh", "stderr", 1],
    [CHUNK_LINES + 6, "a", "stdout", 2],
  ]);
  const all = store.output(writer.id);
  assert.equal(all.length, CHUNK_LINES + 6);
  assert.deepEqual(all.map((o) => o.seq), Array.from({ length: CHUNK_LINES + 6 }, (_, i) => i + 2));
  assert.deepEqual(all.slice(-5).map((o) => [o.step, o.stream, o.line]), [
    ["a", "stdout", `a${CHUNK_LINES + 2}`],
    ["sh", "stdout", "sh1"],
    ["sh", "stderr", "sh2"],
    ["a", "stdout", ""],
    ["a", "stdout", "last"],
  ]);
  // Paging from inside a row, as `logs --follow` and a server's Last-Event-ID do.
  const page = store.output(writer.id, undefined, { afterSeq: 500, limit: 3 });
  assert.deepEqual(page.map((o) => [o.seq, o.line]), [[501, "a500"], [502, "a501"], [503, "a502"]]);
  assert.deepEqual(store.output(writer.id, "sh").map((o) => o.line), ["sh1", "sh2"]);
  const events = store.events(writer.id, { afterSeq: CHUNK_LINES + 2, limit: 3 });
  assert.deepEqual(events.map((e) => [e.seq, e.type, e.line]), [
    [CHUNK_LINES + 3, "step_output", `a${CHUNK_LINES + 2}`],
    [CHUNK_LINES + 4, "step_output", "sh1"],
    [CHUNK_LINES + 5, "step_output", "sh2"],
  ]);
  assert.deepEqual(store.events(writer.id).map((e) => e.seq).slice(-3), [
    CHUNK_LINES + 5,
    CHUNK_LINES + 6,
    CHUNK_LINES + 7,
  ]);
  store.close();
});

Deno.test("RunStore.listRuns filters by workflow name or file name, status, limit and offset", async () => {
  const { store, clock } = await tempStore();
  record(store, clock);
  record(store, clock, { ...START, workflow: "other", file: "/x/y/nightly.lua" });
  record(store, clock, { ...START, workflow: "other", file: undefined });
  assert.deepEqual(store.listRuns().map((r) => r.id), [3, 2, 1]);
  assert.deepEqual(store.listRuns({ workflow: "demo" }).map((r) => r.id), [1]);
  assert.deepEqual(store.listRuns({ workflow: "nightly" }).map((r) => r.id), [2]);
  assert.deepEqual(store.listRuns({ workflow: "other" }).map((r) => r.id), [3, 2]);
  assert.deepEqual(store.listRuns({ workflow: "y/nightly" }).map((r) => r.id), [2]);
  assert.deepEqual(store.listRuns({ workflow: "%" }).map((r) => r.id), []);
  assert.deepEqual(store.listRuns({ file: "/x/y/nightly.lua" }).map((r) => r.id), [2]);
  assert.deepEqual(store.listRuns({ status: "failed", limit: 1, offset: 1 }).map((r) => r.id), [2]);
  assert.equal(store.getRun("last")?.id, 3);
  assert.equal(store.getRun("last", { workflow: "demo" })?.id, 1);
  assert.equal(store.getRun(99), undefined);
  store.close();
});

Deno.test("openStore creates the schema in WAL mode at the current version", async () => {
  const { dir, store } = await tempStore();
  store.close();
  const db = new DatabaseSync(historyPath(dir));
  assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
  assert.deepEqual({ ...db.prepare("PRAGMA user_version").get() }, {
    user_version: SCHEMA_VERSION,
  });
  db.close();
  openStore(dir).close(); // opened again: nothing to migrate
});

Deno.test("openStore refuses a database of a newer schema, naming the file and what to do", async () => {
  const { dir, store } = await tempStore();
  store.close();
  const db = new DatabaseSync(historyPath(dir));
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => openStore(dir), (error: unknown) => {
    assert.ok(error instanceof StoreError);
    assert.equal(error.problem, "newer");
    assert.ok(error.message.includes(historyPath(dir)));
    assert.ok(
      error.message.includes(
        `newer hwfe (schema version ${
          SCHEMA_VERSION + 1
        }; this one reads up to ${SCHEMA_VERSION}): upgrade hwfe`,
      ),
      error.message,
    );
    return true;
  });
});

Deno.test("openStore brings a database of schema version 1 up to date, keeping its runs", async () => {
  const { dir, store } = await tempStore();
  const writer = store.begin(START);
  writer.finish(script().result);
  store.close();
  const db = new DatabaseSync(historyPath(dir));
  db.exec("ALTER TABLE steps DROP COLUMN reused_from; PRAGMA user_version = 1");
  db.close();
  const upgraded = openStore(dir);
  assert.equal(upgraded.getRun("last")?.id, writer.id);
  assert.equal(upgraded.steps(writer.id)[0].reusedFrom, undefined);
  upgraded.close();
});

Deno.test("openStore refuses a corrupt file and a foreign SQLite database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-store-" });
  await Deno.writeTextFile(historyPath(dir), "garbage ".repeat(1000));
  assert.throws(() => openStore(dir), (error: unknown) => {
    assert.ok(error instanceof StoreError);
    assert.equal(error.problem, "corrupt");
    assert.match(
      error.message,
      /history\.db is not a readable hwfe history database \(file is not a database\): move it aside/,
    );
    return true;
  });
  const other = `${dir}/other.db`;
  const db = new DatabaseSync(other);
  db.exec("CREATE TABLE notes (text TEXT)");
  db.close();
  assert.throws(() => openStore(other), /is an SQLite database but not an hwfe history/);
});

Deno.test("openStore cannot write where the data directory is a file", async () => {
  const file = await Deno.makeTempFile();
  assert.throws(() => openStore(`${file}/hwfe`), (error: unknown) => {
    assert.ok(error instanceof StoreError);
    assert.equal(error.problem, "unwritable");
    assert.match(error.message, /cannot be opened for writing .*: make its directory writable/);
    return true;
  });
});

Deno.test("RunStore.reap believes a writer that holds its lock, however long it is silent", async () => {
  const { store, clock } = await tempStore();
  const writer = store.begin(START);
  clock.ms += 10 * STALE_MS;
  assert.equal(store.getRun(writer.id)?.status, "running");
  writer.finish(script().result);
  assert.equal(store.getRun(writer.id)?.status, "failed");
  assert.deepEqual([...Deno.readDirSync(`${dirOf(store)}/locks`)], [], "its lock file is gone");
  store.close();
});

const dirOf = (store: RunStore) => store.path.slice(0, store.path.lastIndexOf("/"));

Deno.test("RunStore.reap: a run whose writer's lock is free is interrupted at once", async () => {
  const { store } = await tempStore();
  const writer = store.begin(START);
  writer.onEvent(script().events[0]);
  writer.onEvent(script().events[1]);
  writer.flush();
  writer.abandon(); // as a killed process: its lock file stays, and no process holds it
  const lock = lockPath(dirOf(store), writer.id);
  await Deno.stat(lock);
  const run = store.listRuns()[0];
  assert.equal(run.status, "interrupted");
  assert.match(run.error!, /^interrupted: its process \(pid \d+ on .*\) ended before it did$/);
  assert.equal(store.steps(writer.id)[0].status, "interrupted", "its running steps too");
  await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
  store.close();
});

Deno.test("RunStore.reap: without a lock file, a stale heartbeat means interrupted", async () => {
  const { store, clock } = await tempStore();
  const writer = store.begin(START);
  await Deno.remove(lockPath(dirOf(store), writer.id)); // its lock can no longer be seen
  clock.ms += STALE_MS;
  assert.equal(store.getRun(writer.id)?.status, "running", "a minute is not over yet");
  clock.ms += 1;
  const run = store.getRun(writer.id)!;
  assert.equal(run.status, "interrupted");
  assert.match(run.error!, /stopped writing it for over 60 s/);
  // A writer that was only slow takes its run back, and finishes it.
  writer.onEvent(script().events[1]);
  writer.flush();
  assert.equal(store.getRun(writer.id)?.status, "running");
  writer.finish({ error: "boom" });
  assert.deepEqual([store.getRun(writer.id)?.status, store.getRun(writer.id)?.error], [
    "failed",
    "boom",
  ]);
  store.close();
});

Deno.test("RunStore.gc keeps the newest runs, removes old ones, never a running one", async () => {
  const { store, clock } = await tempStore();
  for (let i = 0; i < 5; i++) {
    record(store, clock);
    clock.ms += 24 * 60 * 60 * 1000;
  }
  const running = store.begin(START);
  assert.equal(store.gc({ keep: 3 }), 3, "runs 1 to 3 go; the running one counts among the kept");
  assert.deepEqual(store.listRuns().map((r) => r.id), [6, 5, 4]);
  assert.deepEqual(store.steps(1), []);
  assert.deepEqual(store.events(1), []);
  // Runs 4 and 5 started 2 and 1 days before the running one.
  assert.equal(store.gc({ olderThanDays: 1.5 }), 1);
  assert.deepEqual(store.listRuns().map((r) => r.id), [6, 5]);
  assert.equal(store.gc({}), 0);
  running.finish(script().result);
  assert.equal(store.gc({ keep: 0 }), 2);
  assert.equal(store.count(), 0);
  record(store, clock);
  assert.equal(store.listRuns()[0].id, 7, "ids are never reused");
  store.close();
});

Deno.test("a reader sees a running run's output while its writer writes", async () => {
  const { dir, store } = await tempStore();
  const reader = openStore(dir);
  const writer = store.begin(START);
  const { events } = script();
  for (const event of events.slice(0, 5)) writer.onEvent(event);
  assert.deepEqual(reader.output(writer.id), [], "not yet flushed");
  await new Promise((resolve) => setTimeout(resolve, 150)); // FLUSH_MS is 100
  assert.deepEqual(reader.output(writer.id).map((o) => o.line), ["hello \x1b[31mred"]);
  assert.equal(reader.getRun(writer.id)?.status, "running");
  assert.equal(reader.steps(writer.id)[0].status, "running");
  writer.finish(script().result);
  assert.equal(reader.getRun(writer.id)?.status, "failed");
  reader.close();
  store.close();
});

Deno.test("a writer waits out another's lock, and reports a broken database once, never throwing", async () => {
  const { dir, store } = await tempStore({ busyTimeoutMs: 20 });
  const other = new DatabaseSync(historyPath(dir));
  const writer = store.begin(START);
  other.exec("BEGIN IMMEDIATE");
  for (const event of script().events.slice(0, 5)) writer.onEvent(event);
  assert.equal(writer.flush(), false, "busy: kept for later");
  other.exec("COMMIT");
  assert.equal(writer.flush(), true);
  assert.equal(store.output(writer.id).length, 1, "written once the lock was released");
  const errors: StoreError[] = [];
  const broken = store.begin(START, { onError: (error) => errors.push(error) });
  other.exec("DROP TABLE events");
  for (const event of script().events) broken.onEvent(event);
  broken.finish(script().result);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /no such table: events/);
  writer.finish(script().result);
  other.close();
  store.close();
});

Deno.test("several writers on one file lose nothing", async () => {
  const { dir, store } = await tempStore();
  const stores = [store, ...Array.from({ length: 3 }, () => openStore(dir))];
  const writers = stores.map((s) => s.begin(START));
  const { events, result } = script();
  for (const event of events) for (const writer of writers) writer.onEvent(event);
  for (const writer of writers) writer.finish(result);
  for (const writer of writers) {
    assert.equal(store.events(writer.id).length, events.length);
    assert.equal(store.getRun(writer.id)?.status, "failed");
  }
  for (const s of stores) s.close();
});

Deno.test("RunStore.stepByHash finds the newest succeeded step of a hash", async () => {
  const { store, clock } = await tempStore();
  for (let i = 0; i < 2; i++) {
    const writer = store.begin(START);
    for (const event of script().events) {
      if (event.type === "step_finished") event.report.hash = `h-${event.report.name}`;
      writer.onEvent(event);
    }
    clock.ms += 1;
    writer.finish(script().result);
  }
  assert.deepEqual([store.stepByHash("h-a")?.runId, store.stepByHash("h-a")?.result], [
    2,
    "9007199254740993",
  ]);
  assert.equal(store.stepByHash("h-sh"), undefined, "a failed step is not reused");
  assert.equal(store.latestReusable("a", START.workflow, START.file)?.runId, 2);
  assert.equal(store.latestReusable("a", START.workflow)?.runId, 2);
  assert.equal(store.latestReusable("a", START.workflow, "/elsewhere.lua"), undefined);
  assert.equal(store.latestReusable("a", "another"), undefined);
  assert.equal(store.latestReusable("sh", START.workflow), undefined);
  store.close();
});

Deno.test("defaultDataDir follows HWFE_DATA_DIR, then each platform's data directory", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(defaultDataDir(env({ HWFE_DATA_DIR: "/d", HOME: "/h" }), "linux"), "/d");
  assert.equal(defaultDataDir(env({ HOME: "/h" }), "linux"), "/h/.local/share/hwfe");
  assert.equal(defaultDataDir(env({ HOME: "/h", XDG_DATA_HOME: "/x" }), "linux"), "/x/hwfe");
  assert.equal(
    defaultDataDir(env({ HOME: "/h" }), "darwin"),
    "/h/Library/Application Support/hwfe",
  );
  assert.equal(defaultDataDir(env({ APPDATA: "C:\\A" }), "windows"), "C:\\A\\hwfe");
  assert.equal(defaultDataDir(env({}), "linux"), undefined);
});

/**
 * `hwfe serve`'s page in a real browser: the real CLI serves a folder of
 * workflows on a free loopback port, and headless Chromium
 * (tests/browser/serve_check.ts, with its own deno.json and lockfile) uses
 * the page as a person would: lists the workflows, runs them, watches a
 * step run and end live (the test's workflow waits for a file the check
 * creates once it has seen the step running), reloads in the middle of a
 * run, cancels and resumes, reads the history. Skipped without Debian's
 * chromium at /usr/bin/chromium.
 */

import assert from "node:assert/strict";
import { processesMatching, readUntil, ROOT, spawnHwfe } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const BROWSER = new URL("./browser/", import.meta.url).pathname;
/** Screenshots the tests keep for people to look at (git-ignored). */
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
const DEADLINE_MS = 300_000;
/** The policy docs/SERVER.md gives the page (the server may add to it). */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
  "script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.warn(`tests/serve_page_test.ts: skipped, no ${CHROMIUM} (apt-get install -y chromium)`);
}

/** A step name that HTML, a script or a reader's eye could take for something else. */
const HOSTILE = `</script><img src=x onerror=alert(1)> "it's" \u202eevil`;
/** A name as the page shows it: the bidi override escaped. */
const shown = (name: string) => name.replace("\u202e", "\\u202e");

/**
 * Waits for a file `go` in the folder of its `dir` parameter (at most two
 * minutes); `marker` is in bash's command line, to find it if it is left.
 */
const WAIT_FOR_GO = (marker: string) => `
workflow = {
  name = "wait_for_go",
  description = "Waits until a file named go is in the folder given",
  params = { dir = "" },
  steps = {
    prepare = { language = "lua", code = [[
function run()
  print("preparing")
  return "ready"
end
]] },
    wait = { language = "shell", depends_on = { "prepare" }, code = [[
# ${marker}
echo "waiting for $PARAM_DIR/go"
i=0
while [ ! -e "$PARAM_DIR/go" ] && [ "$i" -lt 2400 ]; do sleep 0.05; i=$((i + 1)); done
[ -e "$PARAM_DIR/go" ] || { echo "no go file after two minutes" >&2; exit 1; }
echo "go found"
]] },
    after = { language = "lua", depends_on = { "wait" }, code = [[
function run(inputs)
  print("after the wait")
  return { done = true }
end
]] },
  },
}
`;

const HOSTILE_WORKFLOW = `
workflow = {
  name = [==[hostile <b onmouseover=alert(0)>demo</b>]==],
  description = [==[<img src=x onerror=alert(5)> described]==],
  steps = {
    plain = { language = "lua", code = [[function run() return 1 end]] },
    [ [==[${HOSTILE}]==] ] = { language = "lua", depends_on = { "plain" }, code = [==[
function run()
  print("</script><script>alert(2)</script> <img src=x onerror=alert(3)> \\u{202e}")
  return { html = "<b onmouseover=alert(4)>x</b>" }
end
]==] },
  },
}
`;

/** Rejects after `ms`, calling `onTimeout` first; `clear` it once the race is won. */
function deadline(ms: number, what: string, onTimeout = () => {}) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what}: no answer in ${ms} ms`));
    }, ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** The test's workflows folder: parallel_demo, wait_for_go, a hostile one and a broken one. */
async function workflowsIn(dir: string, marker: string): Promise<string> {
  const flows = `${dir}/flows`;
  await Deno.mkdir(flows, { recursive: true });
  await Deno.copyFile(new URL("workflows/parallel_demo.lua", ROOT), `${flows}/parallel_demo.lua`);
  await Deno.writeTextFile(`${flows}/wait_for_go.lua`, WAIT_FOR_GO(marker));
  await Deno.writeTextFile(`${flows}/hostile.lua`, HOSTILE_WORKFLOW);
  await Deno.writeTextFile(
    `${flows}/broken.lua`,
    `workflow = { name = "broken", steps = { a = { language = "lua" code = "" } } }\n`,
  );
  return flows;
}

/**
 * Runs `hwfe serve --port 0 --allow-run <flags>` on the workflows of
 * `flows`, calls `use` with its URL, and stops it (SIGTERM, then SIGKILL
 * if it does not end): its stderr.
 */
async function withServer(
  dir: string,
  flows: string,
  flags: string[],
  use: (url: string) => Promise<void>,
): Promise<string> {
  const child = spawnHwfe(["serve", "--port", "0", "--allow-run", ...flags], {
    cwd: dir,
    env: { HWFE_WORKFLOW_DIR: flows, HWFE_DATA_DIR: `${dir}/data` },
  });
  const stdout = new Response(child.stdout).text();
  let stderr = "";
  let drained: Promise<void> = Promise.resolve();
  const started = deadline(60_000, "hwfe serve", () => child.kill("SIGKILL"));
  try {
    const { text, rest } = await Promise.race([
      readUntil(child.stderr, "hwfe serve: listening on "),
      started.promise,
    ]);
    stderr = text;
    // Read on: the rest of the line now, the rest of stderr while the server runs.
    let url: string | undefined;
    for (let reads = 0; reads < 1000 && url === undefined; reads++) {
      url = /hwfe serve: listening on (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stderr)?.[1];
      if (url !== undefined) break;
      const read = await Promise.race([rest.read(), started.promise]);
      if (read.done) break;
      stderr += read.value;
    }
    started.clear();
    drained = (async () => {
      for (let read = await rest.read(); !read.done; read = await rest.read()) {
        stderr += read.value;
      }
    })();
    assert(url, `hwfe serve said no URL:\n${stderr}`);
    try {
      await use(url);
    } catch (error) {
      if (error instanceof Error) error.message += `\nhwfe serve's stderr so far:\n${stderr}`;
      throw error;
    }
  } finally {
    started.clear();
    try {
      child.kill("SIGTERM");
    } catch { /* it has ended */ }
    const stopped = deadline(30_000, "hwfe serve's shutdown", () => child.kill("SIGKILL"));
    try {
      await Promise.race([child.status, stopped.promise]);
    } finally {
      stopped.clear();
      await child.status;
      await Promise.all([stdout, drained]);
    }
  }
  return stderr;
}

/** Runs tests/browser/serve_check.ts: what it saw. */
async function inChromium(dir: string, args: string[]): Promise<Seen> {
  const tmp = `${dir}/browser-tmp`;
  await Deno.mkdir(tmp, { recursive: true });
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      `${BROWSER}deno.json`,
      "--allow-env",
      "--allow-net=127.0.0.1",
      `--allow-run=${CHROMIUM}`,
      "--allow-sys=homedir",
      `--allow-read=${dir},${CHROMIUM}`,
      `--allow-write=${dir},${ARTIFACTS}`,
      `${BROWSER}serve_check.ts`,
      ...args,
    ],
    // Chromium's profile goes in the test's own folder, removed with it.
    env: { __IS_WSL_TEST__: "1", TMPDIR: tmp, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timeout = deadline(DEADLINE_MS, "the browser check", () => child.kill("SIGTERM"));
  try {
    const output = await Promise.race([child.output(), timeout.promise]);
    const [stdout, stderr] = [output.stdout, output.stderr].map((b) => new TextDecoder().decode(b));
    assert.equal(output.code, 0, `the browser check failed:\n${stderr}`);
    return JSON.parse(stdout);
  } finally {
    timeout.clear();
  }
}

/** A PNG's width and height, from its IHDR chunk. */
async function pngSize(path: string): Promise<[number, number]> {
  const bytes = await Deno.readFile(path);
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], `${path} is not a PNG`);
  const view = new DataView(bytes.buffer);
  return [view.getUint32(16), view.getUint32(20)];
}

/** Nothing of the test is left running: not Chromium (its profile is in `dir`), not a step. */
async function checkNothingLeft(dir: string, marker: string) {
  assert.equal(await processesMatching(marker), "", "a shell step of the test is still running");
  assert.equal(await processesMatching(`${dir}/`), "", "a process of the test is still running");
}

// What tests/browser/serve_check.ts prints.
type Nodes = Record<string, string>;
interface Row {
  step: string;
  status: string;
  text: string;
  bar: { left: number; width: number } | null;
}
interface RunState {
  status: string;
  statusText: string;
  cancel: boolean;
  resume: boolean;
  rows: Row[];
  edges: number;
  title: string;
}
interface Detail {
  step: string | null;
  name: string | null;
  facts: Record<string, string>;
  result: string | null;
  error: string | null;
  output: { stream: "stdout" | "stderr"; text: string }[];
}
interface Card {
  name: string;
  title: string;
  file: string;
  description: string | null;
  languages: string[];
  lastRun: string;
  lastRunHref: string | null;
  run: boolean;
  error: string | null;
}
interface HistoryRow {
  id: number;
  status: string;
  workflow: string;
  href: string;
}
interface Run {
  id: number;
  hash: string;
}
interface Common {
  csp: string;
  offOrigin: string[];
  requests: number;
  dialogs: string[];
  consoleErrors: string[];
  pageErrors: string[];
  violations: string[];
}
interface Tour extends Common {
  list: Card[];
  hostile: Run & {
    step: string;
    label: string;
    detail: Detail;
    injected: Record<string, unknown>;
  };
  demo: Run & {
    nodes: Nodes;
    paths: Record<string, string[]>;
    state: RunState;
    clicked: { task_a: Detail };
    keyboard: { enter: Detail; tabbedTo: string; space: Detail };
  };
  live: Run & {
    whileRunning: { nodes: Nodes; state: RunState };
    after: { nodes: Nodes; state: RunState };
    output: Detail;
    paths: Record<string, string[]>;
  };
  reload: Run & {
    beforeReload: Nodes;
    afterReload: { nodes: Nodes; state: RunState };
    end: { nodes: Nodes; state: RunState };
    output: Detail;
    paths: Record<string, string[]>;
  };
  cancel: Run & {
    beforeCancel: RunState;
    cancelled: { nodes: Nodes; state: RunState };
    resume: Run & {
      resuming: { nodes: Nodes; state: RunState };
      end: { nodes: Nodes; state: RunState };
      resumes: string;
    };
  };
  history: {
    rows: HistoryRow[];
    byStatus: HistoryRow[];
    byWorkflow: HistoryRow[];
    firstPage: HistoryRow[];
    secondPage: HistoryRow[];
    range: string;
    fromHistory: { hash: string; nodes: Nodes };
  };
  listAfter: Card[];
}
interface TokenVisit extends Common {
  asked: boolean;
  refused: string;
  askedAgain: boolean;
  list: Card[];
  run: Run;
  nodes: Nodes;
  paths: Record<string, string[]>;
}
type Seen = Tour | TokenVisit;

/** Each status a step showed, in order: it was seen running, then it ended so. */
function ranThen(path: string[] | undefined, end: string) {
  assert(path, "the step was never drawn");
  assert.equal(path.at(-1), end, path.join(" -> "));
  const running = path.indexOf("running");
  assert(running !== -1, `never seen running: ${path.join(" -> ")}`);
  assert.deepEqual(path.slice(running), ["running", end]);
}

const all = (nodes: Nodes, status: string) =>
  Object.fromEntries(Object.keys(nodes).map((step) => [step, status]));

function checkList(list: Card[], flows: string) {
  assert.deepEqual(list.map((card) => card.name), [
    "broken",
    "hostile",
    "parallel_demo",
    "wait_for_go",
  ]);
  const [broken, hostile, demo, wait] = list;
  assert.deepEqual(demo, {
    name: "parallel_demo",
    title: "parallel_demo",
    file: `${flows}/parallel_demo.lua`,
    description: "Demonstrates parallel execution",
    languages: ["lua", "python", "shell"],
    lastRun: "Never run",
    lastRunHref: null,
    run: true,
    error: null,
  });
  assert.deepEqual(wait.languages, ["lua", "shell"]);
  assert.equal(hostile.title, "hostile <b onmouseover=alert(0)>demo</b>");
  assert.equal(hostile.description, "<img src=x onerror=alert(5)> described");
  assert.equal(broken.run, false);
  assert.match(broken.error ?? "", /broken\.lua/);
}

function checkClean(seen: Common) {
  assert.deepEqual(seen.offOrigin, []);
  assert.deepEqual(seen.dialogs, []);
  assert.deepEqual(seen.pageErrors, []);
  assert.deepEqual(seen.violations, []);
  assert(seen.csp?.startsWith(PAGE_POLICY), `the page's policy: ${seen.csp}`);
}

Deno.test({
  name: "serve's page lists, runs and follows runs live (through a reload), cancels, resumes " +
    "and lists the history, in Chromium",
  ignore: !hasChromium,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hwfe-serve-page-" });
    const marker = `hwfe-serve-page-${crypto.randomUUID()}`;
    try {
      const flows = await workflowsIn(dir, marker);
      let seen!: Tour;
      const stderr = await withServer(dir, flows, [], async (url) => {
        seen = await inChromium(dir, ["tour", url, `${dir}/go`, ARTIFACTS]) as Tour;
      });
      checkClean(seen);
      assert.deepEqual(seen.consoleErrors, [], stderr);
      checkList(seen.list, flows);

      // Hostile names and output are shown as text, and run nothing.
      const { hostile } = seen;
      assert.equal(hostile.step, HOSTILE);
      assert(hostile.label.startsWith(shown(HOSTILE)), hostile.label);
      assert.equal(hostile.detail.name, shown(HOSTILE));
      assert.deepEqual(hostile.detail.output, [{
        stream: "stdout",
        text: "</script><script>alert(2)</script> <img src=x onerror=alert(3)> \\u202e",
      }]);
      assert.deepEqual(JSON.parse(hostile.detail.result!), {
        html: "<b onmouseover=alert(4)>x</b>",
      });
      assert.deepEqual(hostile.injected, {
        images: 0,
        scripts: 1,
        handlers: 0,
        bold: 0,
        pwned: null,
      });

      // parallel_demo, run from its card: every node green, each step seen running first.
      const { demo } = seen;
      const steps = [
        "init",
        "task_a",
        "task_b",
        "task_c",
        "task_d",
        "merge_results",
        "finalize",
      ];
      assert.deepEqual(Object.keys(demo.nodes).sort(), [...steps].sort());
      assert.deepEqual(demo.nodes, all(demo.nodes, "succeeded"));
      for (const step of ["task_a", "task_b", "task_c", "task_d"]) {
        ranThen(demo.paths[step], "succeeded");
      }
      assert.equal(demo.state.edges, 9);
      assert.equal(demo.state.cancel, false);
      assert.equal(demo.state.resume, false);
      assert.match(demo.state.statusText, /✓ succeeded · 7 of 7 steps done/);
      for (const row of demo.state.rows) {
        assert.equal(row.status, "succeeded", row.step);
        assert.match(row.text, /✓ succeeded/);
        assert(row.bar && row.bar.width > 0 && row.bar.left >= 0, `${row.step}'s bar`);
        assert(row.bar.left + row.bar.width <= 100.5, `${row.step}'s bar ends in the axis`);
      }
      const bar = (step: string) => demo.state.rows.find((row) => row.step === step)!.bar!;
      assert(bar("init").left < bar("task_a").left, "init is drawn before task_a");
      assert(bar("merge_results").left < bar("finalize").left);
      const { task_a } = demo.clicked;
      assert.equal(task_a.step, "task_a");
      assert.match(task_a.facts.Status, /succeeded/);
      assert.equal(task_a.facts.Language, "shell");
      assert.match(task_a.facts.Duration, /^\d+\.\d+ s$/);
      assert(parseFloat(task_a.facts.Duration) >= 1, "task_a sleeps for a second");
      assert.deepEqual(task_a.output.map((line) => line.text), ["Task A", "result_a"]);
      assert(task_a.result !== null);
      const { enter, tabbedTo, space } = demo.keyboard;
      assert.equal(enter.step, "init");
      assert.deepEqual(enter.output, [{ stream: "stdout", text: "Initializing..." }]);
      assert.equal(enter.result, `"initialized"`);
      assert.equal(tabbedTo, "task_a", "Tab goes from a node to the next");
      assert.equal(space.step, "merge_results");
      assert.equal(space.output[0].text, "Merging results:");
      const [width, height] = await pngSize(`${ARTIFACTS}serve_run.png`);
      assert(width >= 1440 && height >= 900, `screenshot ${width}x${height}`);

      // wait_for_go: its step seen running while it waits, with its output so far; then it ends.
      const { live } = seen;
      assert.deepEqual(live.whileRunning.nodes, {
        prepare: "succeeded",
        wait: "running",
        after: "pending",
      });
      assert.equal(live.whileRunning.state.status, "running");
      assert.equal(live.whileRunning.state.cancel, true);
      assert.equal(live.whileRunning.state.resume, false);
      assert.deepEqual(live.after.nodes, all(live.after.nodes, "succeeded"));
      assert.equal(live.after.state.cancel, false);
      ranThen(live.paths.wait, "succeeded");
      ranThen(live.paths.after, "succeeded");
      assert.deepEqual(live.output.output, [
        { stream: "stdout", text: `waiting for ${dir}/go/live/go` },
        { stream: "stdout", text: "go found" },
      ]);

      // A reload mid-run shows the run so far, and follows it on.
      const { reload } = seen;
      assert.equal(reload.beforeReload.wait, "running");
      assert.deepEqual(reload.afterReload.nodes, {
        prepare: "succeeded",
        wait: "running",
        after: "pending",
      });
      assert.equal(reload.afterReload.state.status, "running");
      assert.deepEqual(reload.paths.prepare, ["succeeded"], "a step that ended stays ended");
      assert.deepEqual(reload.paths.wait, ["running", "succeeded"]);
      assert.deepEqual(reload.end.nodes, all(reload.end.nodes, "succeeded"));
      assert.deepEqual(reload.output.output.map((line) => line.text), [
        `waiting for ${dir}/go/reload/go`,
        "go found",
      ]);

      // Cancelled from the page, then resumed: the step that had succeeded is reused.
      const { cancel } = seen;
      assert.equal(cancel.beforeCancel.cancel, true);
      assert.equal(cancel.cancelled.nodes.prepare, "succeeded");
      assert.equal(cancel.cancelled.nodes.wait, "cancelled");
      assert.notEqual(cancel.cancelled.nodes.after, "succeeded");
      assert.equal(cancel.cancelled.state.cancel, false);
      assert.equal(cancel.cancelled.state.resume, true);
      assert.match(cancel.cancelled.state.statusText, /■ cancelled/);
      const { resume } = cancel;
      assert.notEqual(resume.id, cancel.id);
      assert.deepEqual(resume.resuming.nodes, {
        prepare: "reused",
        wait: "running",
        after: "pending",
      });
      assert.deepEqual(resume.end.nodes, {
        prepare: "reused",
        wait: "succeeded",
        after: "succeeded",
      });
      assert.equal(resume.resumes, `#/runs/${cancel.id}`);

      // The history: newest first, filtered, paged, each row to its run.
      const { history } = seen;
      const runs = [resume, cancel, reload, live, demo, hostile];
      assert.deepEqual(
        history.rows.map(({ id, status, href }) => ({ id, status, href })),
        runs.map((run) => ({
          id: run.id,
          status: run === cancel ? "cancelled" : "succeeded",
          href: `#/runs/${run.id}`,
        })),
      );
      assert.deepEqual(history.byStatus.map((row) => row.id), [cancel.id]);
      assert.deepEqual(history.byWorkflow.map((row) => row.id), [demo.id]);
      assert.deepEqual(history.firstPage.map((row) => row.id), [resume.id, cancel.id]);
      assert.deepEqual(history.secondPage.map((row) => row.id), [reload.id, live.id]);
      assert.equal(history.range, "Runs 3–4 of 6");
      assert.equal(history.fromHistory.hash, `#/runs/${demo.id}`);
      assert.deepEqual(history.fromHistory.nodes, all(demo.nodes, "succeeded"));

      // The list links each workflow's last run.
      const lastRuns = Object.fromEntries(
        seen.listAfter.map((card) => [card.name, [card.lastRunHref, card.lastRun]]),
      );
      assert.equal(lastRuns.parallel_demo[0], `#/runs/${demo.id}`);
      assert.match(lastRuns.parallel_demo[1] ?? "", /Last run: ✓ succeeded/);
      assert.equal(lastRuns.wait_for_go[0], `#/runs/${resume.id}`);
      assert.equal(lastRuns.broken[0], null);

      await checkNothingLeft(dir, marker);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve's page asks for the token on a 401, keeps it in the tab, and follows runs with it",
  ignore: !hasChromium,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hwfe-serve-page-" });
    const marker = `hwfe-serve-page-${crypto.randomUUID()}`;
    const token = crypto.randomUUID().replaceAll("-", "");
    try {
      const flows = await workflowsIn(dir, marker);
      let seen!: TokenVisit;
      await withServer(dir, flows, ["--token", token], async (url) => {
        seen = await inChromium(dir, ["token", url, `${dir}/go`, ARTIFACTS, token]) as TokenVisit;
      });
      checkClean(seen);
      // Only the answers that asked for the token are errors.
      for (const message of seen.consoleErrors) assert.match(message, /\b401\b/);
      assert.equal(seen.asked, true);
      assert.match(seen.refused, /refused/);
      assert.equal(seen.askedAgain, false, "the token is kept across a reload");
      assert(seen.list.some((card) => card.name === "wait_for_go"));
      assert.deepEqual(seen.nodes, { prepare: "succeeded", wait: "succeeded", after: "succeeded" });
      // The events, with ?token=, came live after the reload.
      ranThen(seen.paths.wait, "succeeded");
      await checkNothingLeft(dir, marker);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

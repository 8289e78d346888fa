/**
 * `hwfe run --report`: the real CLI writes the HTML report, then headless
 * Chromium (tests/browser/report_check.ts, with its own deno.json and
 * lockfile) opens it and says what a reader sees. Skipped without Debian's
 * chromium at /usr/bin/chromium.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { hwfe, readUntil, spawnHwfe } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const BROWSER = new URL("./browser/", import.meta.url).pathname;
/** Screenshots the tests keep for people to look at (git-ignored). */
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
const DEADLINE_MS = 120_000;

const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.warn(`tests/report_test.ts: skipped, no ${CHROMIUM} (apt-get install -y chromium)`);
}

/** Every name a step may have that HTML, a script or a reader's eye could take for something else. */
const HOSTILE = `</script><img src=x onerror=alert(1)> "it's" \u202eevil`;

const WORKFLOW = `
workflow = {
  name = [==[report <b onmouseover=alert(0)>demo</b>]==],
  steps = {
    fetch = { language = "lua", code = [[
function run()
  print("fetched 3 rows")
  io.stderr:write("warning: the source was slow\\n")
  return { rows = { 1, 2, 3 } }
end
]] },
    parse = { language = "javascript", depends_on = { "fetch" }, code = [[
function run(inputs) {
  console.log("parsing " + inputs.fetch.rows.length + " rows");
  console.error("one row had a trailing space");
  return { count: inputs.fetch.rows.length };
}
]] },
    flaky = { language = "lua", depends_on = { "fetch" }, retries = 1, retry_delay = 0.05, code = [[
function run()
  print("calling upstream")
  error("upstream said 503")
end
]] },
    lenient = { language = "lua", depends_on = { "fetch" }, continue_on_error = true, code = [[
function run() error("optional enrichment failed") end
]] },
    [ [==[${HOSTILE}]==] ] = { language = "lua", depends_on = { "parse" }, code = [==[
function run()
  print("</script><script>alert(2)</script> <img src=x onerror=alert(3)> \\u{202e}")
  return { html = "<b onmouseover=alert(4)>x</b>" }
end
]==] },
    publish = { language = "lua", depends_on = { "flaky", "parse" }, code = [[
function run() return true end
]] },
    summary = { language = "javascript", depends_on = { "lenient", [==[${HOSTILE}]==], "fetch" },
      code = [[
function run(inputs) { return { lenient: inputs.lenient.status }; }
]] },
  }
}
`;

type Outcome = "succeeded" | "failed" | "continued" | "cancelled" | "skipped" | "pending";

interface Detail {
  id: string;
  name: string;
  facts: Record<string, string>;
  error: string | null;
  result: string | null;
  attempts: string[];
  output: { stream: "stdout" | "stderr"; text: string }[];
}

/** What tests/browser/report_check.ts prints. */
interface Seen {
  title: string;
  header: string;
  csp: string;
  list: { index: number; name: string; outcome: Outcome }[];
  graph: { index: number; outcome: Outcome; label: string }[];
  edges: [number, number][];
  timeline: {
    index: number;
    outcome: Outcome;
    waits: number;
    runs: number;
    retried: number;
    pauses: number;
    crosses: number;
  }[];
  ticks: string[];
  injected: { images: number; scripts: number; handlers: number; bold: number; pwned: unknown };
  jsEnabled: boolean;
  placeholderShown: boolean;
  clicked: { view: string; name: string; found: boolean; hash: string; detail: Detail }[];
  keyboard: { focused: string; detail: string };
  noScript: { rows: number; jsEnabled: boolean; detail: Detail | null };
  requests: string[];
  dialogs: string[];
  consoleErrors: string[];
  pageErrors: string[];
  violations: string[];
}

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

/** Opens `report` in Chromium, clicks as asked, screenshots to `screenshot`: what it saw. */
async function inChromium(
  dir: string,
  report: string,
  screenshot: string,
  clicks: { view: "graph" | "timeline" | "list"; name: string }[],
): Promise<Seen> {
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
      `${BROWSER}report_check.ts`,
      report,
      screenshot,
      JSON.stringify(clicks),
    ],
    // Chromium's profile goes in the run's own folder, removed with it.
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

Deno.test({
  name:
    "run --report: Chromium shows every step's state, its details on a click, and loads nothing",
  ignore: !hasChromium,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hwfe-report-" });
    try {
      await Deno.writeTextFile(`${dir}/flow.lua`, WORKFLOW);
      const report = `${dir}/run.html`;
      const run = await hwfe(
        ["run", "--mode", "parallel", "--on-failure", "keep_going", "--report", report, "flow.lua"],
        { cwd: dir },
      );
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^Report: .*run\.html$/m);
      const seen = await inChromium(dir, report, `${ARTIFACTS}report.png`, [
        { view: "graph", name: "flaky" },
        { view: "timeline", name: "fetch" },
        { view: "list", name: "parse" },
        { view: "graph", name: shown(HOSTILE) },
      ]);
      checkSteps(seen);
      checkDetails(seen);
      checkInert(seen);
      const [width, height] = await pngSize(`${ARTIFACTS}report.png`);
      assert(width >= 1440 && height >= 900, `screenshot ${width}x${height}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A name as the page shows it: the bidi override escaped. */
const shown = (name: string) => name.replace("\u202e", "\\u202e");

const OUTCOMES: Record<string, Outcome> = {
  fetch: "succeeded",
  flaky: "failed",
  lenient: "continued",
  parse: "succeeded",
  [HOSTILE]: "succeeded",
  publish: "skipped",
  summary: "succeeded",
};

/** Every step, in the list, the graph and the timeline, with its outcome; the edges; the retry. */
function checkSteps(seen: Seen) {
  assert.match(seen.header, /report <b onmouseover=alert\(0\)>demo<\/b>\s*✗ failed/);
  assert.match(seen.header, new RegExp(`parallel, by level.*hwfe${denoJson.version}`));
  assert.match(seen.header, /flow\.lua/);
  const expected = Object.entries(OUTCOMES).map(([name, outcome]) => ({ name, outcome }));
  assert.deepEqual(
    seen.list.map(({ name, outcome }) => ({ name, outcome })).sort((a, b) =>
      a.name < b.name ? -1 : 1
    ),
    expected.map(({ name, outcome }) => ({ name: shown(name), outcome }))
      .sort((a, b) => a.name < b.name ? -1 : 1),
  );
  const index = new Map(seen.list.map((step) => [step.name, step.index]));
  const at = (name: string) => index.get(shown(name))!;
  for (const view of [seen.graph, seen.timeline]) {
    assert.deepEqual(
      view.map((s) => [s.index, s.outcome]),
      seen.list.map((s) => [s.index, s.outcome]),
    );
  }
  const edges = [
    ["fetch", "flaky"],
    ["fetch", "lenient"],
    ["fetch", "parse"],
    ["parse", HOSTILE],
    ["flaky", "publish"],
    ["parse", "publish"],
    ["lenient", "summary"],
    [HOSTILE, "summary"],
    ["fetch", "summary"],
  ].map(([from, to]) => `${at(from)}>${at(to)}`).sort();
  assert.deepEqual(
    seen.edges.map(([from, to]) => `${from}>${to}`).sort(),
    edges,
    "every dependency is an edge (cli/run_command.ts must give RunRecorder the workflow)",
  );
  const lane = (name: string) => seen.timeline.find((l) => l.index === at(name))!;
  assert.deepEqual(
    { ...lane("flaky"), index: 0 },
    {
      index: 0,
      outcome: "failed",
      waits: lane("flaky").waits,
      runs: 2,
      retried: 1,
      pauses: 1,
      crosses: 2,
    },
  );
  assert.equal(lane("publish").runs, 0);
  for (const name of ["fetch", "parse", "lenient", HOSTILE, "summary"]) {
    assert.equal(lane(name).runs, 1);
  }
  assert(lane("fetch").waits === 1, "Lua's first step waits for its runtime to start");
  assert(seen.ticks.length >= 3, seen.ticks.join());
}

/** A click in each view shows that step's details: output, stderr apart, result, error, attempts. */
function checkDetails(seen: Seen) {
  assert(seen.jsEnabled && seen.placeholderShown);
  const [flaky, fetch, parse, hostile] = seen.clicked;
  for (const click of seen.clicked) {
    assert(click.found, click.name);
    assert.equal(click.hash, `#${click.detail.id}`);
  }
  assert.equal(flaky.detail.name, "flaky");
  assert.match(flaky.detail.error!, /upstream said 503/);
  assert.equal(flaky.detail.facts.Attempts, "2");
  assert.equal(flaky.detail.attempts.length, 2);
  assert.match(flaky.detail.attempts[0], /failed.*upstream said 503/s);
  assert.deepEqual(flaky.detail.output.map((l) => l.text), [
    "calling upstream",
    "calling upstream",
  ]);
  assert.deepEqual(fetch.detail.output, [
    { stream: "stdout", text: "fetched 3 rows" },
    { stream: "stderr", text: "warning: the source was slow" },
  ]);
  assert.deepEqual(JSON.parse(fetch.detail.result!), { rows: [1, 2, 3] });
  assert.equal(fetch.detail.facts.Language, "lua");
  assert.deepEqual(parse.detail.output, [
    { stream: "stdout", text: "parsing 3 rows" },
    { stream: "stderr", text: "one row had a trailing space" },
  ]);
  assert.equal(parse.detail.facts.Language, "javascript");
  assert.equal(hostile.detail.name, shown(HOSTILE));
  assert.deepEqual(hostile.detail.output.map((l) => l.text), [
    "</script><script>alert(2)</script> <img src=x onerror=alert(3)> \\u202e",
  ]);
  assert.deepEqual(JSON.parse(hostile.detail.result!), { html: "<b onmouseover=alert(4)>x</b>" });
  // The arrow keys move from the list's first step to the next.
  assert.deepEqual(seen.keyboard, { focused: "1", detail: "step-1" });
  // Without script, the list reads and a link still shows its step.
  assert.equal(seen.noScript.jsEnabled, false);
  assert.equal(seen.noScript.rows, seen.list.length);
  assert.equal(seen.noScript.detail?.name, "flaky");
}

/** Nothing a step wrote became markup or ran, and the page asked the network for nothing. */
function checkInert(seen: Seen) {
  assert.deepEqual(seen.injected, { images: 0, scripts: 1, handlers: 0, bold: 0, pwned: null });
  assert.deepEqual(seen.dialogs, []);
  assert.deepEqual(seen.requests, []);
  assert.deepEqual(seen.pageErrors, []);
  assert.deepEqual(seen.consoleErrors, []);
  assert.deepEqual(seen.violations, []);
  assert.match(seen.csp, /^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-/);
}

Deno.test({
  name: "run --report: a run cancelled with Ctrl-C still writes a report that shows it",
  ignore: !hasChromium,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hwfe-report-" });
    try {
      await Deno.writeTextFile(
        `${dir}/spin.lua`,
        `workflow = { name = "spin", steps = {
  spin = { language = "lua", code = [[function run() print("spinning") while true do end end]] },
  after = { language = "lua", depends_on = { "spin" }, code = [[function run() end]] },
} }\n`,
      );
      const report = `${dir}/run.html`;
      const child = spawnHwfe(["run", "--report", report, "spin.lua"], { cwd: dir });
      const stderr = new Response(child.stderr).text();
      const started = deadline(DEADLINE_MS, "the spinning step", () => child.kill("SIGKILL"));
      const { rest } = await Promise.race([readUntil(child.stdout, "spinning"), started.promise])
        .finally(started.clear);
      child.kill("SIGINT");
      // Read to the end: hwfe ends quietly when its stdout is closed early.
      const stdout = (async () => {
        let text = "";
        for (let read = await rest.read(); !read.done; read = await rest.read()) text += read.value;
        return text;
      })();
      assert.equal((await child.status).code, 130, `${await stdout}\n${await stderr}`);
      const seen = await inChromium(dir, report, `${ARTIFACTS}report_cancelled.png`, [
        { view: "timeline", name: "spin" },
      ]);
      assert.match(seen.header, /spin\s*■ cancelled/);
      assert.deepEqual(seen.list.map((s) => [s.name, s.outcome]), [
        ["spin", "cancelled"],
        ["after", "skipped"],
      ]);
      assert.deepEqual(seen.timeline.map((l) => l.runs), [1, 0]);
      assert.deepEqual(seen.clicked[0].detail.output, [{ stream: "stdout", text: "spinning" }]);
      assert.deepEqual([seen.requests, seen.pageErrors, seen.consoleErrors], [[], [], []]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("run --report to a path that cannot be written is refused before any step runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-report-" });
  const marker = `${dir}/ran`;
  await Deno.writeTextFile(
    `${dir}/flow.lua`,
    `workflow = { name = "r", steps = { a = { language = "shell", code = "touch ${marker}" } } }`,
  );
  const result = await hwfe([
    "run",
    "--allow-run",
    "--report",
    `${dir}/no/such/folder/run.html`,
    `${dir}/flow.lua`,
  ]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /--report .*no\/such\/folder\/run\.html: cannot write the report there: the folder '.*no\/such\/folder' does not exist: create it, or give another path/,
  );
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);

  // A run refused before it starts keeps an earlier report, and leaves no new empty one.
  await Deno.writeTextFile(`${dir}/old.html`, "earlier report");
  for (const name of ["old.html", "new.html"]) {
    const refused = await hwfe(["run", "--report", `${dir}/${name}`, `${dir}/flow.lua`]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--allow-run/);
  }
  assert.equal(await Deno.readTextFile(`${dir}/old.html`), "earlier report");
  await assert.rejects(Deno.stat(`${dir}/new.html`), Deno.errors.NotFound);

  const all = await hwfe(["run", "--all", "--report", `${dir}/all.html`], { cwd: dir });
  assert.equal(all.code, 2, all.stderr);
  assert.match(all.stderr, /--report writes one run's report; with --all, run each workflow/);
});

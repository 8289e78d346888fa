import assert from "node:assert/strict";
import type { RunEvent, RunResult, StepReport } from "../engine/events.ts";
import type { Language } from "../workflow/model.ts";
import { RunRecorder } from "./run_record.ts";
import { reportHtml, reportPolicy } from "./report.ts";
import { sha256Base64 } from "./_report_html.ts";
import { countCrossings, layoutDag } from "./report_layout.ts";
import { MAX_GRAPH_STEPS } from "./report_graph.ts";
import { tickLabel, tickStep } from "./report_timeline.ts";

const HOSTILE_NAME = `</script><script>alert(1)</script><img src=x onerror=alert(2)> "q" 'q'`;
const BIDI_NAME = "admin\u202e\u2066txt.exe";
const INFO = { version: "9.9.9", startedAt: new Date("2026-01-02T03:04:05.678Z") };

interface FakeStep {
  name: string;
  level: number;
  language?: Language;
  dependsOn?: string[];
  status: StepReport["status"];
  /** [startMs, runningMs, endMs, error?] of each attempt. */
  attempts?: [number, number | undefined, number, string?][];
  output?: ["stdout" | "stderr", string][];
  result?: string;
  error?: string;
  continued?: boolean;
  skippedAt?: number;
  reusedFrom?: number;
}

/** A run made of events, as the recorder sees a real one, and its result. */
function fakeRun(
  steps: FakeStep[],
  options: { status?: RunResult["status"]; graph?: boolean; maxOutputChars?: number } = {},
) {
  const clock = { ms: 0 };
  const workflow = { steps: new Map(steps.map((s) => [s.name, { dependsOn: s.dependsOn ?? [] }])) };
  const record = new RunRecorder({
    now: () => clock.ms,
    maxOutputChars: options.maxOutputChars,
    workflow: options.graph === false ? undefined : workflow,
  });
  const send = (event: RunEvent) => record.onEvent(event);
  const levels: string[][] = [];
  for (const s of steps) (levels[s.level - 1] ??= []).push(s.name);
  send({
    type: "run_started",
    workflow: "w",
    mode: "parallel",
    strategy: "levels",
    maxParallel: 2,
    levels,
  });
  const reports = steps.map((s): StepReport => {
    const language = s.language ?? "lua";
    const report: StepReport = { name: s.name, language, level: s.level, status: s.status };
    for (const [i, [start, running, end, error]] of (s.attempts ?? []).entries()) {
      if (i === 0) {
        send({ type: "step_started", step: s.name, language, level: s.level, atMs: start });
      }
      if (running !== undefined) {
        send({ type: "step_running", step: s.name, attempt: i + 1, atMs: running });
      }
      if (i === 0) {
        for (const [stream, line] of s.output ?? []) {
          send({ type: "step_output", step: s.name, stream, line });
        }
      }
      clock.ms = end;
      if (error !== undefined) {
        const delayMs = s.attempts![i + 1][0] - end;
        send({ type: "step_retrying", step: s.name, attempt: i + 1, attempts: 2, error, delayMs });
      }
    }
    const first = s.attempts?.[0];
    if (first) {
      report.startMs = first[0];
      report.durationMs = clock.ms - first[0];
      report.waitedMs = (first[1] ?? clock.ms) - first[0];
    }
    if ((s.attempts?.length ?? 0) > 1) {
      report.attempts = s.attempts!.length;
      report.attemptErrors = s.attempts!.flatMap(([, , , e]) => e ?? []);
    }
    Object.assign(report, {
      ...(s.result !== undefined ? { result: s.result } : {}),
      ...(s.error !== undefined ? { error: s.error } : {}),
      ...(s.continued ? { continued: true } : {}),
      ...(s.reusedFrom !== undefined ? { reusedFrom: s.reusedFrom } : {}),
    });
    if (s.status !== "pending") {
      if (s.skippedAt !== undefined) clock.ms = s.skippedAt;
      send({ type: "step_finished", report: { ...report } });
    }
    return report;
  });
  const result: RunResult = {
    workflow: "w",
    file: "/tmp/flow.lua",
    mode: "parallel",
    strategy: "levels",
    maxParallel: 2,
    status: options.status ?? "failed",
    durationMs: 400,
    levels,
    steps: reports,
  };
  return { result, record, html: reportHtml(result, record, INFO) };
}

const SAMPLE: FakeStep[] = [
  {
    name: "fetch",
    level: 1,
    status: "succeeded",
    attempts: [[0, 100, 200]],
    output: [["stdout", "fetched 3 rows"], ["stderr", "slow source"]],
    result: '{"rows":[1,2,3],"big":9007199254740993}',
  },
  {
    name: "flaky",
    level: 2,
    dependsOn: ["fetch"],
    status: "failed",
    attempts: [[200, 210, 260, "upstream said 503"], [300, 310, 350]],
    error: "upstream said 503 again",
  },
  {
    name: "lenient",
    level: 2,
    language: "javascript",
    dependsOn: ["fetch"],
    status: "failed",
    continued: true,
    attempts: [[200, 200, 240]],
    error: "optional",
  },
  {
    name: "publish",
    level: 3,
    dependsOn: ["flaky", "lenient"],
    status: "skipped",
    error: "dependency 'flaky' failed",
    skippedAt: 350,
  },
];

const between = (html: string, open: string, close: string) => {
  const start = html.indexOf(open) + open.length;
  return html.slice(start, html.indexOf(close, start));
};
const hash = async (text: string) =>
  btoa(String.fromCharCode(
    ...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
  ));

Deno.test("reportHtml() allows its own script and style by hash, and nothing else", async () => {
  const { html } = fakeRun(SAMPLE);
  const policy = between(html, `<meta http-equiv="Content-Security-Policy" content="`, `"`);
  assert.equal(policy, reportPolicy().replaceAll("'", "&#39;"));
  const directives = policy.replaceAll("&#39;", "'").split("; ");
  assert.equal(directives[0], "default-src 'none'");
  assert(
    directives.includes(
      `script-src 'sha256-${await hash(between(html, "<script>", "</script>"))}'`,
    ),
  );
  assert(
    directives.includes(`style-src 'sha256-${await hash(between(html, "<style>", "</style>"))}'`),
  );
  assert(!policy.includes("unsafe"));
  // Nothing to load: no address, and links only to the page's own steps.
  assert(!html.includes("://"));
  assert(!/\s(src|srcset|action|xlink:href)=/.test(html));
  for (const [, href] of html.matchAll(/\shref="([^"]*)"/g)) assert.match(href, /^#step-\d+$/);
});

Deno.test("reportHtml() shows hostile names, output, errors and results as text", () => {
  const { html } = fakeRun([
    {
      name: HOSTILE_NAME,
      level: 1,
      status: "succeeded",
      attempts: [[0, 0, 10]],
      output: [
        ["stdout", "<!-- </pre></span><svg onload=alert(3)> ]]> &amp;"],
        ["stdout", "bell\x07 \x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07 line\u2028sep"],
      ],
      result: JSON.stringify({ html: "</script><b onmouseover=alert(4)>x</b>" }),
    },
    { name: BIDI_NAME, level: 1, status: "failed", attempts: [[0, 0, 5]], error: "<i>no</i>" },
  ]);
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.equal(html.match(/<\/script/g)?.length, 1);
  for (const markup of ["<img", "<svg onload", "<b ", "<b>", "<i>", "<!--", "]]>"]) {
    assert(!html.includes(markup), markup);
  }
  assert(html.includes("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x"));
  assert(html.includes("&quot;q&quot; &#39;q&#39;"));
  // Controls and bidi overrides are shown, not acted on; colours are dropped.
  for (const raw of ["\x07", "\x1b", "\u2028", "\u202e", "\u2066"]) assert(!html.includes(raw));
  assert(html.includes("bell\\x07 red \\x1b]52;c;aGk=\\x07 line\\u2028sep"));
  assert(html.includes("admin\\u202e\\u2066txt.exe"));
});

Deno.test("reportHtml() shows every step in the DAG, the timeline and the list with its outcome", () => {
  const { html } = fakeRun(SAMPLE);
  const outcomes = (pattern: RegExp) => [...html.matchAll(pattern)].map((m) => m[1]);
  const expected = ["succeeded", "failed", "continued", "skipped"];
  assert.deepEqual(outcomes(/class="node o-(\w+)" data-step/g), expected);
  assert.deepEqual(outcomes(/class="lane o-(\w+)" data-step/g), expected);
  assert.deepEqual(
    outcomes(/<tr data-step="\d+"><td class="name">.*?class="badge o-(\w+)"/g),
    expected,
  );
  assert.deepEqual(outcomes(/class="detail o-(\w+)" id=/g), expected);
  assert.deepEqual(
    [...html.matchAll(/class="edge[^"]*" data-from="(\d+)" data-to="(\d+)"/g)].map((m) =>
      `${m[1]}>${m[2]}`
    ),
    ["0>1", "0>2", "1>3", "2>3"],
  );
  assert(html.includes(`<span class="workflow">w</span> <span class="badge o-failed">`));
  for (const fact of ["/tmp/flow.lua", "parallel, by level, at most 2 at once", "400ms", "9.9.9"]) {
    assert(html.includes(fact), fact);
  }
  assert(html.includes(`<time datetime="2026-01-02T03:04:05.678Z">2026-01-02 03:04:05 UTC</time>`));
});

Deno.test("reportHtml() draws each attempt's wait, run, the pause before a retry and failures", () => {
  const { html } = fakeRun(SAMPLE);
  const lanes = html.split(`<a href="#step-`).filter((part) => part.includes(`class="lane `));
  assert.equal(lanes.length, 4);
  const [fetch, flaky, , publish] = lanes;
  assert.equal(fetch.match(/class="wait"/g)?.length, 1);
  assert.match(fetch, /class="run o-succeeded"/);
  assert.match(flaky, /class="run o-failed retried"/);
  assert.match(flaky, /<line class="pause"[^>]*><title>pause before attempt 2: 40ms<\/title>/);
  assert.equal(flaky.match(/class="cross"/g)?.length, 2);
  assert.match(flaky, /attempt 1 of 2: waited 10ms, ran 50ms, failed, retried: upstream said 503/);
  assert.match(publish, /class="diamond"/);
});

Deno.test("reportHtml() shows a step's details: facts, attempts, error, result and output", () => {
  const { html } = fakeRun(SAMPLE, { maxOutputChars: 20 });
  const detail = (i: number) => between(html, `id="step-${i}"`, "</article>");
  assert.match(detail(0), /<dt>Waited for a runtime<\/dt><dd>100ms<\/dd>/);
  assert.match(detail(0), /<dt>Needed by<\/dt><dd><a href="#step-1" data-step="1">flaky<\/a>, /);
  // Pretty, and exact beyond 2^53.
  assert(detail(0).includes(`<pre class="result">{\n  &quot;rows&quot;: [\n    1,`));
  assert(detail(0).includes("&quot;big&quot;: 9007199254740993"));
  assert(detail(0).includes(`<span class="line out">fetched 3 rows\n</span>`));
  assert(detail(0).includes("11 characters not kept"));
  assert.match(detail(1), /<ol class="attempts"><li><span class="badge o-failed">/);
  assert(detail(1).includes(`<pre class="error">upstream said 503</pre>`));
  assert(detail(1).includes(`<h4>Error</h4><pre class="error">upstream said 503 again</pre>`));
  assert.match(detail(2), /failed, continued/);
  assert.match(detail(3), /dependency &#39;flaky&#39; failed/);
});

Deno.test("reportHtml() marks where each attempt's output begins in a retried step", () => {
  const { html } = fakeRun([{
    name: "a",
    level: 1,
    status: "succeeded",
    attempts: [[0, 0, 10, "e"], [20, 20, 30]],
    output: [["stdout", "first"]],
  }]);
  assert(
    html.includes(`<span class="attempt-start" data-attempt="1"></span><span class="line out">`),
  );
});

Deno.test("reportHtml() shows a cancelled run and steps that never started", () => {
  const { html } = fakeRun([
    { name: "long", level: 1, status: "cancelled", attempts: [[0, 30, 120]], error: "cancelled" },
    { name: "waiting", level: 1, status: "cancelled", attempts: [[0, undefined, 120]] },
    { name: "later", level: 2, dependsOn: ["long"], status: "skipped", skippedAt: 120 },
    { name: "never", level: 3, dependsOn: ["later"], status: "pending" },
  ], { status: "cancelled" });
  assert(html.includes(`<span class="badge o-cancelled">■ cancelled</span></h1>`));
  assert.match(html, /class="run o-cancelled"/);
  assert.match(html, /attempt 1 of 1: waited 120ms and never ran, cancelled/);
  assert.match(html, /class="lane o-pending"[\s\S]*?<text class="lane-note"[^>]*>never started</);
  assert.match(html, /class="node o-pending"/);
  assert.match(html, /class="end r-cancelled"/);
});

Deno.test("reportHtml() cuts a huge result and says how much it left out", () => {
  const big = JSON.stringify("x".repeat(300 * 1024));
  const { html } = fakeRun([{
    name: "a",
    level: 1,
    status: "succeeded",
    attempts: [[0, 0, 1]],
    result: big,
  }]);
  assert.match(html, /<p class="dropped">[\d,]+ characters not shown<\/p>/);
  assert(html.length < 400 * 1024);
});

Deno.test("reportHtml() draws the steps by level without edges when the record lacks the workflow", () => {
  const { html } = fakeRun(SAMPLE, { graph: false });
  assert.match(html, /did not hold the workflow's dependencies/);
  assert(!html.includes(`<path class="edge`));
  assert.equal(html.match(/class="node o-/g)?.length, 4);
});

Deno.test("reportHtml() leaves the DAG out of a workflow too big to draw", () => {
  const steps: FakeStep[] = Array.from({ length: MAX_GRAPH_STEPS + 1 }, (_, i) => ({
    name: `s${i}`,
    level: 1,
    status: "succeeded",
    attempts: [[0, 0, 1]],
  }));
  const { html } = fakeRun(steps);
  assert.match(html, /1,001 steps are too many to draw/);
  assert.equal(html.match(/<tr data-step=/g)?.length, MAX_GRAPH_STEPS + 1);
});

Deno.test("layoutDag() orders each rank to remove crossings, through virtual nodes", () => {
  // a->d, b->c cross in name order; e spans two ranks from a.
  const layout = layoutDag([[0, 1], [2, 3], [4]], [[0, 3], [1, 2], [0, 4], [2, 4]]);
  assert.equal(layout.crossings, 0);
  const long = layout.edges.find((edge) => edge.to === 4 && edge.from === 0)!;
  assert.equal(long.chain.length, 3);
  assert.equal(layout.nodes[long.chain[1]].step, undefined);
  assert.equal(layout.nodes[long.chain[1]].rank, 1);
  // Columns left to right, no overlap inside a column.
  for (const rank of layout.ranks) {
    for (let i = 1; i < rank.length; i++) {
      const [above, below] = [layout.nodes[rank[i - 1]], layout.nodes[rank[i]]];
      assert(below.y >= above.y + above.height);
    }
  }
});

Deno.test("countCrossings() counts the crossings between adjacent ranks", () => {
  const down = [[3, 2], [2], [], []];
  assert.equal(countCrossings([[0, 1], [2, 3]], down, [0, 1, 0, 1]), 1);
  assert.equal(countCrossings([[0, 1], [3, 2]], down, [0, 1, 1, 0]), 0);
});

Deno.test("sha256Base64() is SHA-256, as crypto.subtle computes it", async () => {
  for (
    const text of [
      "",
      "abc",
      "a".repeat(55),
      "b".repeat(56),
      "c".repeat(64),
      "é😀\u202e".repeat(999),
    ]
  ) {
    assert.equal(sha256Base64(text), await hash(text));
  }
});

Deno.test("tickLabel() writes a tick's time as short as it reads", () => {
  assert.deepEqual([0, 250, 2000, 2500, 90_000].map(tickLabel), [
    "0",
    "250ms",
    "2s",
    "2.5s",
    "1m 30s",
  ]);
});

Deno.test("tickStep() steps the time axis by 1, 2 or 5 times a power of ten", () => {
  assert.equal(tickStep(400), 50);
  assert.equal(tickStep(10), 2);
  assert.equal(tickStep(95_000), 20_000);
  assert.equal(tickStep(0), 0.2);
});

Deno.test("reportHtml() marks a step whose result was reused, in the timeline and its details", () => {
  const { html } = fakeRun([
    { name: "kept", level: 1, status: "succeeded", result: "1", reusedFrom: 7 },
    { name: "next", level: 2, dependsOn: ["kept"], status: "succeeded", attempts: [[5, 6, 20]] },
  ], { status: "succeeded" });
  assert.match(html, /<title>↺ reused from run 7<\/title>/);
  assert.match(html, /<dt>Reused<\/dt><dd>↺ the result of run 7, not run again<\/dd>/);
});

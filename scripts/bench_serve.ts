/**
 * The server under load (issue 20), on loopback only, every loop bounded:
 *
 * 1. 200 runs of a one-step workflow submitted at once through
 *    `POST /api/v1/runs` to `hwfe serve --max-runs 2`: how long until all
 *    are recorded, the most seen running at once (never above 2), and that
 *    every one was recorded, succeeded, and none was lost or doubled.
 * 2. The store filled to 10,000 runs, then `GET /api/v1/runs` (a page of
 *    50, newest first; filtered by workflow; by status) asked 500 times
 *    each, one after another: p50 and p99 latency.
 *
 * Run: deno task bench:serve   (prints the figures; docs/BENCHMARKS.md
 * keeps them by hand)
 *
 * @module
 */

import { openStore } from "../store/store.ts";
import { v8FlagsArg } from "../_util/v8_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = 200;
const MAX_RUNS = 2;
const STORED = 10_000;
const ASKS = 500;
const DEADLINE_MS = 600_000;

const work = await Deno.makeTempDir({ prefix: "hwfe-bench-serve-" });
const dataDir = `${work}/data`;
const flows = `${work}/workflows`;
await Deno.mkdir(flows, { recursive: true });
await Deno.writeTextFile(
  `${flows}/trivial.lua`,
  `workflow = { name = "trivial", steps = { a = { code = "function run() return 1 end" } } }`,
);

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--quiet",
    "--allow-all",
    "--unstable-worker-options",
    v8FlagsArg(),
    `${ROOT}cli.ts`,
    "serve",
    "--port",
    "0",
    "--max-runs",
    String(MAX_RUNS),
  ],
  env: { HWFE_DATA_DIR: dataDir, HWFE_WORKFLOW_DIR: flows, NO_COLOR: "1" },
  stdout: "null",
  stderr: "piped",
}).spawn();

const deadline = Date.now() + DEADLINE_MS;
const base = await listening(server.stderr);

/** The server's URL, from its first line on stderr. */
async function listening(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const found = /listening on (http:\/\/\S+)/.exec(text);
    if (found) {
      // Keep draining, so that the server never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drained */ }
      })();
      return found[1];
    }
  }
  throw new Error(`hwfe serve did not start:\n${text}`);
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(path, base));
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return await response.json();
}

try {
  // 1. 200 runs at once.
  const started = performance.now();
  let mostRunning = 0;
  let watching = true;
  const watch = (async () => {
    while (watching && Date.now() < deadline) {
      const page = await getJson("/api/v1/runs?status=running&limit=0");
      mostRunning = Math.max(mostRunning, page.total as number);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const ids = await Promise.all(Array.from({ length: RUNS }, async () => {
    const response = await fetch(new URL("/api/v1/runs", base), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workflow: "trivial" }),
    });
    const body = await response.json();
    if (response.status !== 202) throw new Error(`POST /runs: ${JSON.stringify(body)}`);
    return body.id as number;
  }));
  while (Date.now() < deadline) {
    const done = await getJson("/api/v1/runs?status=succeeded&limit=0");
    if (done.total === RUNS) break;
    const failed = await getJson("/api/v1/runs?status=failed&limit=0");
    if ((failed.total as number) > 0) throw new Error(`${failed.total} runs failed`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  watching = false;
  await watch;
  const all = await getJson(`/api/v1/runs?limit=500`);
  const recorded = all.runs as { id: number; status: string }[];
  const unique = new Set(ids);
  console.log(
    `200 runs through POST /api/v1/runs, --max-runs ${MAX_RUNS}: all recorded in ` +
      `${seconds.toFixed(2)} s (${(RUNS / seconds).toFixed(1)} runs/s); ` +
      `most running at once: ${mostRunning}; ids unique: ${unique.size}/${RUNS}; ` +
      `recorded: ${recorded.length}, succeeded: ${
        recorded.filter((r) => r.status === "succeeded").length
      }`,
  );
  if (mostRunning > MAX_RUNS || unique.size !== RUNS || recorded.length !== RUNS) {
    throw new Error("runs were lost, doubled, or ran beyond --max-runs");
  }

  // 2. 10,000 runs in the store, then the history read by pages.
  const store = openStore(dataDir);
  const levels = [["a"]];
  for (let i = recorded.length; i < STORED; i++) {
    const writer = store.begin({
      workflow: i % 3 ? "trivial" : "other",
      settings: "{}",
      mode: "sequential",
      strategy: "levels",
      maxParallel: 1,
      levels,
      steps: [{ name: "a", language: "lua", level: 1 }],
      hwfeVersion: "bench",
    });
    writer.finish({ error: "filled by the benchmark", status: i % 7 ? "failed" : "cancelled" });
  }
  store.close();
  for (
    const query of [
      "/api/v1/runs",
      "/api/v1/runs?workflow=trivial",
      "/api/v1/runs?status=cancelled",
      "/api/v1/runs?offset=5000",
    ]
  ) {
    const times: number[] = [];
    for (let i = 0; i < ASKS; i++) {
      const t = performance.now();
      await getJson(query);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    console.log(
      `GET ${query} with ${STORED} runs stored, ${ASKS} times: p50 ${at(0.5).toFixed(1)} ms, ` +
        `p99 ${at(0.99).toFixed(1)} ms`,
    );
  }
} finally {
  server.kill("SIGTERM");
  await server.status;
  await Deno.remove(work, { recursive: true });
}

import assert from "node:assert/strict";
import { StepHost, type WorkerRuntime } from "./pool.ts";
import { type HostMessage, OUTPUT_IN_FLIGHT, PROTOCOL_VERSION } from "./protocol.ts";

const fake = (reports: unknown[] = []): WorkerRuntime => ({
  id: "fake",
  languages: ["fake"],
  moduleUrl: new URL("./testdata/fake_worker.ts", import.meta.url),
  read: [],
  onReady: (report) => reports.push(report),
});

/** A job; with `stop`, it is aborted the moment a ready worker takes it. */
function job(code: string, stop?: AbortController) {
  const output: string[] = [];
  return {
    job: { step: "s", code, inputs: "{}" },
    ctx: {
      signal: stop?.signal ?? new AbortController().signal,
      started: () => stop?.abort(),
      write: (_: string, text: string) => output.push(text),
    },
  };
}

Deno.test("StepHost: an interrupted job ends at once; its worker rejoins the pool when it stops", async () => {
  const reports: unknown[] = [];
  const runtime = fake(reports);
  const host = new StepHost(1);
  try {
    const spinning = job("spin", new AbortController());
    assert.deepEqual(await host.execute(runtime, spinning.job, spinning.ctx), {
      kind: "interrupted",
    });
    // Busy for a while after the interrupt, then done: the step ends at
    // once, the next job waits for the same worker.
    const slow = job("stubborn 300", new AbortController());
    assert.deepEqual(await host.execute(runtime, slow.job, slow.ctx), { kind: "interrupted" });
    const next = job("result 42");
    assert.deepEqual(await host.execute(runtime, next.job, next.ctx), {
      kind: "result",
      json: "42",
    });
    assert.deepEqual(reports, [{ pid: "fake" }], "the same worker served both jobs");
  } finally {
    host.dispose();
  }
});

Deno.test("StepHost: a worker that ignores an interrupt is replaced after the grace period", async () => {
  const reports: unknown[] = [];
  const runtime = fake(reports);
  const host = new StepHost(1);
  try {
    const stubborn = job("stubborn 2600", new AbortController());
    assert.deepEqual(await host.execute(runtime, stubborn.job, stubborn.ctx), {
      kind: "interrupted",
    });
    const next = job("result 7");
    assert.deepEqual(await host.execute(runtime, next.job, next.ctx), {
      kind: "result",
      json: "7",
    });
    assert.equal(reports.length, 2, "a fresh worker took over");
  } finally {
    host.dispose();
  }
});

Deno.test("StepHost: a job aborted while waiting for a worker ends at once", async () => {
  const host = new StepHost(1);
  const runtime = fake();
  try {
    const stop = new AbortController();
    const busy = job("stubborn 300");
    const first = host.execute(runtime, busy.job, busy.ctx);
    const waiting = job("result 1");
    waiting.ctx.signal = stop.signal;
    const second = host.execute(runtime, waiting.job, waiting.ctx);
    stop.abort();
    assert.deepEqual(await second, { kind: "interrupted" });
    assert.deepEqual(await first, { kind: "result", json: "1" });
  } finally {
    host.dispose();
  }
});

Deno.test("StepHost: step code posting a second 'hello' gets its worker dropped", async () => {
  const reports: unknown[] = [];
  const host = new StepHost(1);
  try {
    const forged = job("forge");
    await assert.rejects(
      host.execute(fake(reports), forged.job, forged.ctx),
      /sent "hello" twice/,
    );
    assert.deepEqual(reports, [{ pid: "fake" }], "the forged report never reached the runtime");
  } finally {
    host.dispose();
  }
});

Deno.test("StepHost: a step's access is its worker's permissions, in a pool of its own", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/f.txt`, "granted");
  const reports: unknown[] = [];
  const runtime = fake(reports);
  const host = new StepHost(1);
  const access = (read: string[]) => ({
    read,
    write: [],
    net: [],
    denyRead: [],
    denyWrite: [],
    denyNet: [],
  });
  const read = async (grant?: string[]) => {
    const { job: j, ctx } = job(`read ${dir}/f.txt`);
    const outcome = await host.execute(runtime, j, ctx, grant && access(grant));
    return outcome.kind === "result" ? JSON.parse(outcome.json) : outcome;
  };
  try {
    assert.equal(await read(), "NotCapable");
    assert.equal(await read([dir]), "granted");
    assert.equal(await read(), "NotCapable", "the granted worker does not serve other steps");
    // One idle worker per runtime is kept across its pools (the host's
    // size, 1): each job above dropped the one idle longest, so every job
    // needed a worker of its own.
    assert.equal(reports.length, 3);
    assert.equal(await read([`${dir}/other`]), "NotCapable");
    assert.equal(await read([dir]), "granted");
    assert.equal(reports.length, 5);
    assert.equal(await read([dir]), "granted");
    assert.equal(reports.length, 5, "an idle worker of the same access is reused");
  } finally {
    host.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a worker whose output is not read waits once OUTPUT_IN_FLIGHT characters are posted", async () => {
  // A reader that never takes output off (a parent too busy to read): the
  // flooding step must block rather than fill memory with messages.
  const worker = new Worker(new URL("./testdata/fake_worker.ts", import.meta.url), {
    type: "module",
  });
  const interrupt = new SharedArrayBuffer(8);
  const flow = new SharedArrayBuffer(4);
  let received = 0;
  const done = Promise.withResolvers<unknown>();
  const ready = Promise.withResolvers<void>();
  worker.onmessage = ({ data }) => {
    if (data.type === "hello") ready.resolve();
    if (data.type === "output") received += data.text.length;
    if (data.type === "done") done.resolve(data.outcome);
  };
  try {
    worker.postMessage(
      {
        type: "init",
        protocol: PROTOCOL_VERSION,
        init: null,
        grants: { read: [], write: [], net: [] },
      } satisfies HostMessage,
    );
    await ready.promise;
    worker.postMessage(
      {
        type: "run",
        id: "1",
        job: { step: "s", code: "flood", inputs: "{}" },
        interrupt,
        flow,
      } satisfies HostMessage,
    );
    const inFlight = new Int32Array(flow);
    // Bounded: wait until the worker stops posting (it blocks in Atomics.wait).
    for (let last = -1; last !== received;) {
      last = received;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(received > OUTPUT_IN_FLIGHT, `only ${received} characters arrived`);
    assert.ok(received <= OUTPUT_IN_FLIGHT + 2 * 64 * 1024, `${received} characters arrived`);
    assert.equal(Atomics.load(inFlight, 0), received);
    // Stopping the job releases the wait at once.
    const flag = new Int32Array(interrupt);
    Atomics.store(flag, 1, 1);
    assert.deepEqual(await done.promise, { kind: "interrupted" });
  } finally {
    worker.terminate();
  }
});

Deno.test("StepHost: a flooding step's output keeps flowing while the host reads it", async () => {
  const host = new StepHost(1);
  try {
    const stop = new AbortController();
    const output: string[] = [];
    let chars = 0;
    const outcome = await host.execute(fake(), { step: "s", code: "flood", inputs: "{}" }, {
      signal: stop.signal,
      write: (_, text) => {
        output.push(text);
        chars += text.length;
        // Well past what may be in flight at once: the host took output off as it came.
        if (chars > 3 * OUTPUT_IN_FLIGHT) stop.abort();
      },
    });
    assert.deepEqual(outcome, { kind: "interrupted" });
  } finally {
    host.dispose();
  }
});

Deno.test("StepHost: once a worker retired, a spare starts while each job runs, one beyond the pool's size at most", async () => {
  const runtime = fake();
  const host = new StepHost(1);
  try {
    const run = async (code: string) => {
      const { job: j, ctx } = job(code);
      return await host.execute(runtime, j, ctx);
    };
    assert.deepEqual(await run("result 1"), { kind: "result", json: "1" });
    assert.equal(host.liveWorkers(runtime), 1, "no spare before any worker retired");
    assert.deepEqual(await run("retire 2"), { kind: "result", json: "2", retire: true });
    assert.equal(host.liveWorkers(runtime), 0);
    // From now on a spare starts beside the worker that takes a job.
    assert.deepEqual(await run("retire 3"), { kind: "result", json: "3", retire: true });
    assert.equal(host.liveWorkers(runtime), 1, "the spare outlives the retired worker");
    assert.deepEqual(await run("result 4"), { kind: "result", json: "4" });
    assert.deepEqual(await run("result 5"), { kind: "result", json: "5" });
    assert.equal(host.liveWorkers(runtime), 2, "one spare beyond the pool's size");
  } finally {
    host.dispose();
  }
});

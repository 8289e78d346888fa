import assert from "node:assert/strict";
import type { Language } from "../workflow/model.ts";
import type { RunEvent } from "./events.ts";
import { PermissionError, StepError, WorkflowError } from "../_util/errors.ts";
import { planLevels } from "../workflow/plan.ts";
import { checkRunnable, schedule } from "./scheduler.ts";
import { retryDelayMs } from "./attempt.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import { type WorkflowDefinition } from "../workflow/model.ts";
import type { Runner, RunnerRegistry, StepContext } from "./runner.ts";

/** A Lua-language fake runner whose steps are scripted by the test. */
function fakeRunner(behaviour: (ctx: StepContext) => Promise<string>): RunnerRegistry {
  const runner: Runner = { language: "lua", run: behaviour };
  return new Map([["lua", runner]]);
}

function setup(steps: WorkflowDefinition["steps"]) {
  const { workflow } = defineWorkflow({ name: "t", steps });
  return { workflow, plan: planLevels(workflow.steps.values()) };
}

/** Every schedule() test runs under both strategies. */
const STRATEGIES = ["levels", "eager"] as const;

const untilAborted = (ctx: StepContext) =>
  new Promise<string>((_, reject) =>
    ctx.signal.addEventListener("abort", () => reject(new Error("stopped")))
  );

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() hands each step its direct dependencies' results [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      a: { code: "" },
      b: { code: "", depends_on: "a" },
      c: { code: "", depends_on: ["a", "b"] },
    });
    const seen: Record<string, string> = {};
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) => {
        seen[ctx.step.name] = ctx.inputs;
        return Promise.resolve(JSON.stringify(ctx.step.name.toUpperCase()));
      }),
      { strategy, mode: "parallel", maxParallel: 4, grants: { run: false } },
    );
    assert.equal(result.status, "succeeded");
    assert.deepEqual(seen, { a: "{}", b: '{"a":"A"}', c: '{"a":"A","b":"B"}' });
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() in sequential mode runs one step at a time in level and name order [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      z: { code: "" },
      y: { code: "" },
      x: { code: "", depends_on: "z" },
    });
    const order: string[] = [];
    let running = 0;
    await schedule(
      workflow,
      plan,
      fakeRunner(async (ctx) => {
        assert.equal(++running, 1);
        order.push(ctx.step.name);
        await Promise.resolve();
        running--;
        return "1";
      }),
      { strategy, mode: "sequential", maxParallel: 4, grants: { run: false } },
    );
    assert.deepEqual(order, ["y", "z", "x"]);
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() fails fast: cancels running steps and skips the rest [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      bad: { code: "" },
      long: { code: "" },
      later: { code: "", depends_on: "long" },
      waiting: { code: "" },
    });
    const events: RunEvent[] = [];
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) => {
        if (ctx.step.name === "bad") return Promise.reject(new StepError("step 'bad' broke"));
        return untilAborted(ctx);
      }),
      {
        strategy,
        mode: "parallel",
        maxParallel: 2,
        grants: { run: false },
        onEvent: (e) => events.push(e),
      },
    );
    const status = Object.fromEntries(result.steps.map((s) => [s.name, s.status]));
    assert.deepEqual(status, {
      bad: "failed",
      long: "cancelled",
      waiting: "skipped",
      later: "skipped",
    });
    assert.equal(result.status, "failed");
    assert.equal(result.steps.find((s) => s.name === "bad")!.error, "step 'bad' broke");
    assert.deepEqual(events.at(-1)?.type, "run_finished");
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() with onFailure "finish_level" lets the failing step's level finish, then stops [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      bad: { code: "" },
      long: { code: "" },
      later: { code: "", depends_on: "long" },
      waiting: { code: "" },
    });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const result = await schedule(
      workflow,
      plan,
      fakeRunner(async (ctx) => {
        if (ctx.step.name === "bad") throw new StepError("step 'bad' broke");
        if (ctx.step.name === "long") await released; // still running when bad fails
        return "1";
      }),
      {
        strategy,
        mode: "parallel",
        maxParallel: 2,
        onFailure: "finish_level",
        grants: { run: false },
        onEvent: (e) => {
          if (e.type === "step_finished" && e.report.name === "bad") release();
        },
      },
    );
    const outcome = Object.fromEntries(
      result.steps.map((s) => [s.name, s.error ? `${s.status}: ${s.error}` : s.status]),
    );
    assert.deepEqual(outcome, {
      bad: "failed: step 'bad' broke",
      long: "succeeded",
      // Levels: the whole level runs, as in the reference engine. Eager has
      // no levels: what runs finishes, nothing else starts.
      waiting: strategy === "levels" ? "succeeded" : "skipped: the run stopped after a failure",
      later: "skipped: the run stopped after a failure",
    });
    assert.equal(result.status, "failed");
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() with onFailure "keep_going" skips only dependents of a failure [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      bad: { code: "" },
      after_bad: { code: "", depends_on: "bad" },
      good: { code: "" },
      after_good: { code: "", depends_on: "good" },
    });
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) =>
        ctx.step.name === "bad" ? Promise.reject(new Error("kaput")) : Promise.resolve("true")
      ),
      {
        strategy,
        mode: "parallel",
        maxParallel: 4,
        onFailure: "keep_going",
        grants: { run: false },
      },
    );
    const byName = Object.fromEntries(result.steps.map((s) => [s.name, s]));
    assert.equal(byName.after_good.status, "succeeded");
    assert.equal(byName.after_bad.status, "skipped");
    assert.equal(byName.after_bad.error, "dependency 'bad' failed");
    assert.equal(byName.bad.error, "step 'bad' (lua) failed: kaput");
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() times out a step with the step's own timeout before --step-timeout [${strategy}]`, async () => {
    const { workflow, plan } = setup({ own: { code: "", timeout: 0.05 }, global: { code: "" } });
    const result = await schedule(workflow, plan, fakeRunner(untilAborted), {
      strategy,
      mode: "parallel",
      maxParallel: 2,
      onFailure: "keep_going",
      stepTimeout: 0.1,
      grants: { run: false },
    });
    const errors = Object.fromEntries(result.steps.map((s) => [s.name, s.error]));
    assert.deepEqual(errors, {
      global: "step 'global' timed out after 0.1s",
      own: "step 'own' timed out after 0.05s",
    });
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() counts a reportsStart runner's timeout from ctx.started() [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      slow_start: { code: "", timeout: 0.05 },
      stuck: { code: "", timeout: 0.05 },
    });
    const runner: Runner = {
      language: "lua",
      reportsStart: true,
      async run(ctx) {
        // A runtime start-up three times the step's timeout does not count...
        await new Promise((resolve) => setTimeout(resolve, 150));
        ctx.started();
        if (ctx.step.name === "slow_start") return "1";
        return await untilAborted(ctx); // ...but the step's own time does.
      },
    };
    const result = await schedule(workflow, plan, new Map([["lua", runner]]), {
      strategy,
      mode: "parallel",
      maxParallel: 2,
      onFailure: "keep_going",
      grants: { run: false },
    });
    const errors = Object.fromEntries(result.steps.map((s) => [s.name, s.error ?? s.status]));
    assert.deepEqual(errors, {
      slow_start: "succeeded",
      stuck: "step 'stuck' timed out after 0.05s",
    });
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() reports cancellation through the signal as a cancelled run [${strategy}]`, async () => {
    const { workflow, plan } = setup({ a: { code: "" }, b: { code: "", depends_on: "a" } });
    const controller = new AbortController();
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) => {
        queueMicrotask(() => controller.abort());
        return untilAborted(ctx);
      }),
      {
        strategy,
        mode: "parallel",
        maxParallel: 2,
        grants: { run: false },
        signal: controller.signal,
      },
    );
    assert.equal(result.status, "cancelled");
    assert.deepEqual(result.steps.map((s) => s.status), ["cancelled", "skipped"]);
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() rejects a result that is not JSON and splits output into whole lines [${strategy}]`, async () => {
    const { workflow, plan } = setup({ a: { code: "" } });
    const lines: string[] = [];
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) => {
        ctx.write("stdout", "par");
        ctx.write("stdout", "tial\nsecond\r\nlast without newline");
        return Promise.resolve("{oops");
      }),
      {
        strategy,
        mode: "parallel",
        maxParallel: 1,
        grants: { run: false },
        onEvent: (e) => e.type === "step_output" && lines.push(e.line),
      },
    );
    assert.deepEqual(lines, ["partial", "second", "last without newline"]);
    assert.equal(result.steps[0].error, "step 'a' (lua) produced a result that is not JSON");
  });
}

Deno.test("checkRunnable() refuses missing runners and missing grants before anything starts", () => {
  const { workflow } = defineWorkflow({
    steps: { s: { language: "shell", code: "true" }, t: { language: "sh", code: "true" } },
  }, "w.lua");
  const shell: Runner = {
    language: "shell",
    needs: () => [{ grant: "run", flag: "--allow-run" }],
    run: () => Promise.resolve("1"),
  };
  assert.throws(
    () => checkRunnable(workflow, new Map([["shell", shell]]), { run: false }),
    (e) =>
      e instanceof PermissionError &&
      e.message === "step 's' (shell) needs grants: { run: true }" &&
      e.cliMessage === "step 's' (shell) needs --allow-run" && e.missingFlags[0] === "--allow-run",
  );
  checkRunnable(workflow, new Map([["shell", shell]]), { run: true });
  assert.throws(
    () => checkRunnable(workflow, new Map(), { run: true }),
    (e) => e instanceof WorkflowError && e.problems.length === 2,
  );
  // A workflow built by hand may name a language hwfe does not know.
  const cobol = { ...workflow.steps.get("s")!, name: "c", language: "cobol" as Language };
  assert.throws(
    () => checkRunnable({ ...workflow, steps: new Map([["c", cobol]]) }, new Map()),
    /step 'c' \(cobol\): cobol steps are not supported by this version of hwfe yet/,
  );
});

Deno.test("retryDelayMs() doubles per attempt with equal jitter and a five-minute cap", () => {
  assert.equal(retryDelayMs(1, 1, () => 0), 500);
  assert.equal(retryDelayMs(1, 1, () => 1), 1000);
  assert.equal(retryDelayMs(1, 3, () => 0), 2000);
  assert.equal(retryDelayMs(1, 3, () => 0.5), 3000);
  assert.equal(retryDelayMs(10, 20, () => 1), 300_000);
  assert.equal(retryDelayMs(0, 4, () => 1), 0);
});

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() retries a failing step and reports every attempt [${strategy}]`, async () => {
    const { workflow, plan } = setup({ flaky: { code: "", retries: 3, retry_delay: 0 } });
    let calls = 0;
    const events: RunEvent[] = [];
    const result = await schedule(
      workflow,
      plan,
      fakeRunner(() =>
        ++calls < 3 ? Promise.reject(new StepError(`no ${calls}`)) : Promise.resolve("7")
      ),
      {
        strategy,
        mode: "sequential",
        maxParallel: 1,
        grants: { run: false },
        onEvent: (e) => events.push(e),
      },
    );
    const flaky = result.steps[0];
    assert.equal(flaky.status, "succeeded");
    assert.equal(flaky.result, "7");
    assert.equal(flaky.attempts, 3);
    assert.deepEqual(flaky.attemptErrors, ["no 1", "no 2"]);
    assert.deepEqual(
      events.filter((e) => e.type === "step_retrying").map((e) =>
        e.type === "step_retrying" && e.attempt
      ),
      [1, 2],
    );
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule(): continue_on_error records the failure, runs on, hands dependents the error [${strategy}]`, async () => {
    const { workflow, plan } = setup({
      broken: { code: "", continue_on_error: true },
      slow: { code: "" },
      after: { code: "", depends_on: ["broken", "slow"] },
    });
    const seen: Record<string, string> = {};
    const result = await schedule(
      workflow,
      plan,
      fakeRunner(async (ctx) => {
        seen[ctx.step.name] = ctx.inputs;
        if (ctx.step.name === "broken") throw new StepError("it broke");
        if (ctx.step.name === "slow") await new Promise((resolve) => setTimeout(resolve, 20));
        return "1";
      }),
      { strategy, mode: "parallel", maxParallel: 2, grants: { run: false } },
    );
    assert.equal(result.status, "succeeded", "a continued failure does not fail the run");
    const byName = Object.fromEntries(result.steps.map((s) => [s.name, s]));
    assert.equal(byName.broken.status, "failed");
    assert.equal(byName.broken.continued, true);
    assert.equal(byName.slow.status, "succeeded", "no fail-fast for a continued failure");
    assert.equal(seen.after, '{"broken":{"error":"it broke","status":"failed"},"slow":1}');
  });
}

for (const strategy of STRATEGIES) {
  Deno.test(`schedule() fails a result over maxResultBytes and passes one at the limit [${strategy}]`, async () => {
    const { workflow, plan } = setup({ big: { code: "" }, fits: { code: "" } });
    const text = (n: number) => JSON.stringify("é".repeat(n)); // 2 bytes each, plus quotes
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) => Promise.resolve(ctx.step.name === "big" ? text(600) : text(499))),
      {
        strategy,
        mode: "parallel",
        maxParallel: 2,
        onFailure: "keep_going",
        grants: { run: false },
        maxResultBytes: 1000,
      },
    );
    const byName = Object.fromEntries(result.steps.map((s) => [s.name, s]));
    assert.equal(
      byName.big.error,
      "step 'big' (lua) returned 1202 bytes, over the 1000 bytes limit on a result (raise it with --max-result-mb)",
    );
    assert.equal(byName.fits.result, text(499));
  });
}

Deno.test("schedule() measures a result before parsing it, and keeps 16 KiB of a step's error", async () => {
  const { workflow, plan } = setup({ big: { code: "" }, loud: { code: "" } });
  const parsed: string[] = [];
  const parse = JSON.parse;
  JSON.parse = (text: string, ...rest: []) => {
    parsed.push(text.slice(0, 20));
    return parse(text, ...rest);
  };
  try {
    const result = await schedule(
      workflow,
      plan,
      fakeRunner((ctx) =>
        ctx.step.name === "big"
          ? Promise.resolve(`"${"x".repeat(2000)}"`)
          : Promise.reject(new StepError(`step 'loud' ${"e".repeat(20_000)}`))
      ),
      {
        mode: "parallel",
        maxParallel: 2,
        onFailure: "keep_going",
        grants: { run: false },
        maxResultBytes: 1000,
      },
    );
    const byName = Object.fromEntries(result.steps.map((s) => [s.name, s]));
    assert.match(byName.big.error!, /returned 2002 bytes, over the 1000 bytes limit/);
    assert.ok(!parsed.some((text) => text.startsWith('"xxx')), "the big result was never parsed");
    assert.equal(byName.loud.error!.length, 16 * 1024 + "… (3628 more characters)".length);
    assert.match(byName.loud.error!, /^step 'loud' e+… \(3628 more characters\)$/);
  } finally {
    JSON.parse = parse;
  }
});

Deno.test("schedule(): eager starts a step when its own dependencies end; levels waits for the level", async () => {
  for (const strategy of STRATEGIES) {
    const { workflow, plan } = setup({
      slow: { code: "" },
      fast: { code: "" },
      after_fast: { code: "", depends_on: "fast" },
    });
    const events: string[] = [];
    let releaseSlow!: () => void;
    const slowDone = new Promise<void>((resolve) => (releaseSlow = resolve));
    const result = await schedule(
      workflow,
      plan,
      fakeRunner(async (ctx) => {
        events.push(`start ${ctx.step.name}`);
        if (ctx.step.name === "slow") await slowDone;
        // slow ends on the next macrotask after fast: by then an eager
        // scheduler has started after_fast (promise jobs run first).
        if (ctx.step.name === "fast") setTimeout(releaseSlow, 0);
        events.push(`end ${ctx.step.name}`);
        return "1";
      }),
      { strategy, mode: "parallel", maxParallel: 4, grants: { run: false } },
    );
    assert.equal(result.status, "succeeded");
    assert.equal(result.strategy, strategy);
    const afterFastFirst = events.indexOf("start after_fast") < events.indexOf("end slow");
    assert.equal(afterFastFirst, strategy === "eager", `${strategy}: ${events.join(", ")}`);
  }
});

Deno.test("schedule() reports a step's wait for its runtime apart from its own time", async () => {
  const { workflow, plan } = setup({ a: { code: "" }, b: { code: "" } });
  let clock = 0;
  const runner: Runner = {
    language: "lua",
    reportsStart: true,
    run: (ctx) => {
      // `a` waits 1.5 s for a worker, then runs 0.25 s; `b` runs at once.
      if (ctx.step.name === "a") clock += 1500;
      ctx.started();
      clock += 250;
      return Promise.resolve("1");
    },
  };
  const running: string[] = [];
  const result = await schedule(workflow, plan, new Map([["lua", runner]]), {
    mode: "sequential",
    maxParallel: 1,
    grants: { run: false },
    now: () => clock,
    onEvent: (e) => e.type === "step_running" && running.push(`${e.step}@${e.atMs}`),
  });
  // The live view learns when the wait ended from `step_running`.
  assert.deepEqual(running, ["a@1500", "b@1750"]);
  const byName = Object.fromEntries(result.steps.map((s) => [s.name, s]));
  assert.equal(byName.a.waitedMs, 1500);
  assert.equal(byName.a.durationMs, 250);
  assert.equal(byName.b.waitedMs, 0);
  assert.equal(byName.b.durationMs, 250);
});

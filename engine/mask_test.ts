import assert from "node:assert/strict";
import { isSecretName, Masker, runSecrets } from "./mask.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import type { WorkflowDefinition } from "../workflow/model.ts";
import { planLevels } from "../workflow/plan.ts";
import { schedule } from "./scheduler.ts";
import type { RunEvent } from "./events.ts";
import type { Grants } from "./grants.ts";
import type { Runner, StepContext } from "./runner.ts";

Deno.test("isSecretName() knows the keywords in any case, and nothing else", () => {
  for (
    const name of ["API_TOKEN", "db_password", "PASSWD", "AWS_SECRET_ACCESS_KEY", "Credential"]
  ) {
    assert.ok(isSecretName(name), name);
  }
  for (const name of ["HOME", "PATH", "TOKE", "PASS"]) assert.ok(!isSecretName(name), name);
});

Deno.test("Masker.text() hides every occurrence, overlapping and adjacent ones as one ***", () => {
  const masker = new Masker(["abcd", "cdef", "s3cr3t"]);
  assert.equal(masker.text("x s3cr3t y s3cr3t"), "x *** y ***");
  assert.equal(masker.text("abcdef!"), "***!", "no piece of either overlapping secret");
  assert.equal(masker.text("abcdabcd"), "***");
  assert.equal(masker.text("s3cr3t"), "***");
  assert.equal(masker.text("nothing here"), "nothing here");
  assert.equal(new Masker([]).text("abcd"), "abcd");
  assert.ok(!new Masker([]).active);
});

Deno.test("Masker.json() masks strings and keys, keeps the JSON valid and its numbers exact", () => {
  const masker = new Masker(['to"k\\en', "s3cr3t", "n123"]);
  const masked = masker.json(
    `{"a":"s3cr3t","b":["x to\\"k\\\\en y",12345678901234567890,2.0],` +
      `"s3cr3t":{"n":"\\n123"},"__proto__":"s3cr3t"}`,
  );
  assert.equal(
    masked,
    '{"a":"***","b":["x *** y",12345678901234567890,2.0],"***":{"n":"\\n123"},"__proto__":"***"}',
    "an escape sequence is never cut: \\n123 is a newline, then 123",
  );
  JSON.parse(masked);
  assert.equal(masker.json('{"a":1}'), '{"a":1}', "text without a secret is returned as it is");
});

const grants = (allow: string[], run = false): Grants => ({
  run,
  env: { allow, deny: ["DENIED_TOKEN"] },
});

function workflowOf(steps: WorkflowDefinition["steps"]) {
  return defineWorkflow({ name: "t", steps }).workflow;
}

Deno.test("runSecrets() takes secret names a step declares and the run grants, and --secret names", () => {
  const env: Record<string, string> = {
    API_TOKEN: "token-value",
    DENIED_TOKEN: "denied-value",
    UNDECLARED_KEY: "undeclared",
    MY_VAR: "plain-but-secret",
    HOME: "/home/me",
    PEM_KEY: "-----BEGIN-----\nbody-line\r\nx\n",
    SHORT_KEY: "abc",
  };
  const workflow = workflowOf({
    a: {
      code: "",
      permissions: { env: ["API_TOKEN", "DENIED_TOKEN", "HOME", "PEM_KEY", "SHORT_KEY"] },
    },
  });
  const allowed = ["API_TOKEN", "DENIED_TOKEN", "HOME", "UNDECLARED_KEY", "PEM_KEY", "SHORT_KEY"];
  const secrets = runSecrets(workflow, grants(allowed), ["MY_VAR"], (name) => env[name], () => {
    throw new Error("the whole environment is read only when shell steps may run");
  });
  assert.deepEqual(secrets.values, [
    "plain-but-secret",
    "-----BEGIN-----",
    "token-value",
    "body-line",
  ]);
  assert.deepEqual(secrets.short, ["PEM_KEY", "SHORT_KEY"]);
  const shell = runSecrets(
    workflowOf({ a: { code: "" } }),
    grants([], true),
    [],
    (n) => env[n],
    () => env,
  );
  assert.ok(shell.values.includes("undeclared"), "shell steps inherit the whole environment");
  assert.ok(shell.values.includes("denied-value"));
  assert.ok(!shell.values.includes("/home/me"));
  assert.deepEqual(shell.short, [], "no warning about variables only shell steps inherit");
});

Deno.test("schedule() masks output lines split across writes, errors, retries and results, not inputs", async () => {
  const secret = "s3cr3t-value-123";
  Deno.env.set("HWFE_MASK_TEST_TOKEN", secret);
  try {
    const workflow = workflowOf({
      a: { code: "", permissions: { env: ["HWFE_MASK_TEST_TOKEN"] } },
      b: { code: "", depends_on: "a", retries: 1, retry_delay: 0 },
    });
    const seen: string[] = [];
    const runner: Runner = {
      language: "lua",
      run: (ctx: StepContext) => {
        if (ctx.step.name === "a") {
          ctx.write("stdout", `one ${secret.slice(0, 5)}`);
          ctx.write("stdout", `${secret.slice(5)} two\nlast ${secret}`);
          return Promise.resolve(JSON.stringify({ token: secret, [secret]: 1 }));
        }
        seen.push(ctx.inputs);
        return Promise.reject(new Error(`bad ${secret}`));
      },
    };
    const events: RunEvent[] = [];
    const result = await schedule(
      workflow,
      planLevels(workflow.steps.values()),
      new Map([["lua", runner]]),
      {
        mode: "sequential",
        maxParallel: 1,
        grants: grants(["HWFE_MASK_TEST_TOKEN"]),
        onEvent: (event) => events.push(event),
      },
    );
    assert.ok(!JSON.stringify(events).includes(secret), "no event holds the secret");
    assert.ok(!JSON.stringify(result).includes(secret));
    const lines = events.flatMap((e) => e.type === "step_output" ? [e.line] : []);
    assert.deepEqual(lines, ["one *** two", "last ***"]);
    assert.equal(result.steps[0].result, '{"token":"***","***":1}');
    assert.deepEqual(result.steps[1].attemptErrors, [
      "step 'b' (lua) failed: bad ***",
      "step 'b' (lua) failed: bad ***",
    ]);
    assert.ok(events.some((e) => e.type === "step_retrying" && e.error.endsWith("bad ***")));
    assert.equal(seen[0], JSON.stringify({ a: { token: secret, [secret]: 1 } }), "the real result");
  } finally {
    Deno.env.delete("HWFE_MASK_TEST_TOKEN");
  }
});

Deno.test("schedule() warns about a secret too short to mask", async () => {
  const workflow = workflowOf({ a: { code: "" } });
  Deno.env.set("HWFE_MASK_TEST_SHORT", "ab");
  try {
    const events: RunEvent[] = [];
    await schedule(
      workflow,
      planLevels(workflow.steps.values()),
      new Map([[
        "lua",
        {
          language: "lua",
          run: () => Promise.resolve("1"),
        } satisfies Runner,
      ]]),
      {
        mode: "sequential",
        maxParallel: 1,
        grants: { run: false },
        secrets: ["HWFE_MASK_TEST_SHORT"],
        onEvent: (event) => events.push(event),
      },
    );
    const warnings = events.flatMap((e) => e.type === "warning" ? [e.message] : []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /HWFE_MASK_TEST_SHORT is shorter than 4 characters/);
  } finally {
    Deno.env.delete("HWFE_MASK_TEST_SHORT");
  }
});

import assert from "node:assert/strict";
import { missingFromCache, stderrCause } from "./child_stderr.ts";

/** What Deno 2.9 printed for a step child whose cache lacked an npm package. */
const NOT_CACHED = `\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Uncaught (in worker "hwfe-child") ` +
  `Failed caching npm package '@jridgewell/trace-mapping@0.3.31'
    0: npm package not found in cache: "@jridgewell/trace-mapping", --cached-only is specified.
    at \x1b[0m\x1b[36mfile:///hwfe/runners/python_worker.ts\x1b[0m:\x1b[0m\x1b[33m22\x1b[0m:\x1b[0m\x1b[33m52\x1b[0m
the runtime crashed: Failed caching npm package '@jridgewell/trace-mapping@0.3.31'
    0: npm package not found in cache: "@jridgewell/trace-mapping", --cached-only is specified.
    at \x1b[0m\x1b[36mfile:///hwfe/runners/python_worker.ts\x1b[0m:\x1b[0m\x1b[33m22\x1b[0m:\x1b[0m\x1b[33m52\x1b[0m
`;

Deno.test("stderrCause() keeps every meaningful line once, without colours or a backtrace", () => {
  assert.equal(
    stderrCause(`${NOT_CACHED}\nStack backtrace:\n   0: <unknown>\n`),
    [
      `error: Uncaught (in worker "hwfe-child") Failed caching npm package '@jridgewell/trace-mapping@0.3.31'`,
      `0: npm package not found in cache: "@jridgewell/trace-mapping", --cached-only is specified.`,
      "at file:///hwfe/runners/python_worker.ts:22:52",
      "the runtime crashed: Failed caching npm package '@jridgewell/trace-mapping@0.3.31'",
    ].join("\n"),
  );
});

Deno.test("stderrCause() quotes at most 20 lines and says how many more there were", () => {
  const lines = Array.from({ length: 25 }, (_, i) => `line ${i}`).join("\n");
  const cause = stderrCause(lines).split("\n");
  assert.equal(cause.length, 21);
  assert.equal(cause[19], "line 19");
  assert.equal(cause[20], "... 5 more lines");
  assert.equal(stderrCause("\n  \n"), "");
});

Deno.test("missingFromCache() names the package and the command that fills the cache", () => {
  const message = missingFromCache(NOT_CACHED, {
    mainModule: "file:///home/me/app/main.ts",
    lockfile: "/home/me/app/deno.json",
    denoDir: "/tmp/my cache",
  });
  assert.equal(
    message,
    "the npm package '@jridgewell/trace-mapping' is not in Deno's cache (DENO_DIR=/tmp/my cache). " +
      "hwfe's step processes never download anything: they load what the program that started " +
      "them loaded, from the same cache and lockfile (/home/me/app/deno.json). Fill the cache " +
      "(and the lockfile) with network access: DENO_DIR='/tmp/my cache' deno cache /home/me/app/main.ts",
  );
});

Deno.test("missingFromCache() knows remote modules and an outdated lockfile, and nothing else", () => {
  const source = { mainModule: "https://example.com/hwfe/cli.ts" };
  assert.match(
    missingFromCache(
      `error: Specifier not found in cache: "https://example.com/hwfe/lib/x.ts", --cached-only is specified.`,
      source,
    )!,
    /^the module https:\/\/example\.com\/hwfe\/lib\/x\.ts is not in Deno's cache\. .*registry data.*deno cache https:\/\/example\.com\/hwfe\/cli\.ts$/,
  );
  assert.match(
    missingFromCache("error: The lockfile is out of date. Run `deno install --frozen=false`", {
      ...source,
      lockfile: "/app/deno.json",
    })!,
    /^the lockfile \(\/app\/deno\.json\) does not list every package hwfe loads\./,
  );
  assert.equal(missingFromCache("error: Uncaught Error: boom", source), undefined);
});

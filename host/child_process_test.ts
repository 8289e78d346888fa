import assert from "node:assert/strict";
import { childCommand, childEnv, graphFlags } from "./child_process.ts";
import { STEP_CHILD_COMMAND } from "./child_entry.ts";

const LUA_WORKER = new URL("../runners/lua_worker.ts", import.meta.url);

Deno.test("childCommand() from source: deno run with the step's flags and a heap limit", () => {
  const args = childCommand(
    LUA_WORKER,
    { read: ["/data"], write: ["/out"], net: [], denyRead: ["/data/private"] },
    256,
  );
  assert.equal(args[0], "run");
  // It loads what its parent loaded, from the cache only.
  assert.ok(args.includes("--cached-only"));
  assert.ok(args.includes("--frozen"));
  assert.ok(args.some((arg) => arg.startsWith("--config=") && arg.endsWith("deno.json")));
  assert.ok(args.includes("--v8-flags=--max-old-space-size=256"));
  assert.ok(args.includes("--allow-write=/out"));
  assert.ok(args.includes("--deny-read=/data/private"));
  // The worker inside inherits the kind that has deny rules.
  assert.deepEqual(JSON.parse(args.at(-1)!), { read: "inherit", write: ["/out"], net: [] });
});

Deno.test("childCommand() compiled: the binary runs itself, and refuses deny rules", () => {
  const permissions = { read: ["/data"], write: [], net: ["example.com"] };
  assert.deepEqual(childCommand(LUA_WORKER, permissions, 256, true), [
    STEP_CHILD_COMMAND,
    LUA_WORKER.href,
    JSON.stringify(permissions),
  ]);
  assert.throws(
    () => childCommand(LUA_WORKER, { ...permissions, denyNet: ["example.com:22"] }, 256, true),
    /cannot give a step child deny rules/,
  );
});

Deno.test("graphFlags(): the program's config, else hwfe's lockfile, frozen; the cache only", () => {
  const lock = { path: "/hwfe/host/deno_lock.json", frozen: true };
  assert.deepEqual(graphFlags("/app/deno.json", lock), [
    "--config=/app/deno.json",
    "--frozen",
    "--cached-only",
  ]);
  assert.deepEqual(graphFlags(undefined, lock), [
    "--no-config",
    "--lock=/hwfe/host/deno_lock.json",
    "--frozen",
    "--cached-only",
  ]);
  // hwfe from a URL: a temporary copy, which children complete with remote modules' hashes.
  assert.deepEqual(graphFlags(undefined, { path: "/tmp/hwfe-1.lock", frozen: false }), [
    "--no-config",
    "--lock=/tmp/hwfe-1.lock",
    "--cached-only",
  ]);
  assert.deepEqual(graphFlags(undefined, undefined), ["--no-config", "--no-lock", "--cached-only"]);
});

Deno.test("childEnv() passes what Deno needs (cache, registry, proxy, certificates), nothing else", () => {
  const host: Record<string, string> = {
    DENO_DIR: "/cache/deno",
    HOME: "/home/me",
    PATH: "/usr/bin",
    NPM_CONFIG_REGISTRY: "https://npm.example.com/",
    HTTPS_PROXY: "http://proxy:3128",
    no_proxy: "localhost",
    DENO_CERT: "/etc/company.pem",
    SSL_CERT_FILE: "/etc/ssl/cert.pem",
    API_TOKEN: "secret",
    DENO_AUTH_TOKENS: "secret@example.com",
    AWS_SECRET_ACCESS_KEY: "secret",
  };
  const env = childEnv({ may: () => true, get: (name) => host[name] });
  const { API_TOKEN: _, DENO_AUTH_TOKENS: __, AWS_SECRET_ACCESS_KEY: ___, ...needed } = host;
  assert.deepEqual(env, { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...needed });
  // Not allowed to read one of them: the child inherits rather than miss its cache.
  assert.equal(
    childEnv({ may: (name) => name !== "DENO_DIR", get: (name) => host[name] }),
    undefined,
  );
});

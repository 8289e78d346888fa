import assert from "node:assert/strict";
import { type Grants, stepAccess, within } from "./grants.ts";
import { defineWorkflow } from "../workflow/validate.ts";
import { hostWithin } from "../workflow/net_hosts.ts";
import type { StepPermissions, Workflow } from "../workflow/model.ts";

function workflowWith(permissions: Partial<StepPermissions>, name = "s"): Workflow {
  return defineWorkflow({
    name: "w",
    steps: { [name]: { language: "lua", code: "function run() end", permissions } },
  }).workflow;
}

const cwd = Deno.cwd();

Deno.test("within() and hostWithin() compare whole path segments and ports", () => {
  assert.ok(within("/a/b/c", "/a/b"));
  assert.ok(within("/a/b", "/a/b"));
  assert.ok(!within("/a/bc", "/a/b"));
  assert.ok(!within("/a", "/a/b"));
  assert.ok(hostWithin("api.example.com:443", "api.example.com"));
  assert.ok(hostWithin("API.example.com", "api.example.com"));
  assert.ok(!hostWithin("api.example.com", "api.example.com:443"));
  assert.ok(!hostWithin("evil-api.example.com", "api.example.com"));
  assert.ok(hostWithin("[::1]:8080", "[::1]"));
});

Deno.test("stepAccess() is the intersection of what a step declares and the run grants", () => {
  const step = workflowWith({ read: ["data", "other"], write: ["out/x"], net: ["a.com", "b.com"] })
    .steps.get("s")!;
  const grants: Grants = {
    run: false,
    read: { allow: ["data", "other"], deny: ["data/private", "elsewhere"] },
    write: { allow: ["out"], deny: [] },
    net: { allow: "all", deny: ["b.com", "a.com:8080"] },
  };
  assert.deepEqual(stepAccess(step, grants), {
    read: [`${cwd}/data`, `${cwd}/other`],
    write: [`${cwd}/out/x`],
    net: ["a.com"],
    denyRead: [`${cwd}/data/private`],
    denyWrite: [],
    denyNet: ["a.com:8080"],
  });
  assert.equal(stepAccess(workflowWith({ env: ["X"] }).steps.get("s")!, grants), undefined);
});
